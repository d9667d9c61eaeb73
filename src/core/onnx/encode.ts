/** Graph ⇄ ONNX ModelProto bytes, through the onnx-proto package (protobufjs). */
import onnxProto from 'onnx-proto';
import type { onnx as P } from 'onnx-proto';
import type { Attr, DType, Graph, Initializer, Node, Shape, Tensor, TypedArray, ValueInfo } from './ir';
import { OPSET } from './ir';
import { DTYPE_CODE, DTYPE_OF_CODE } from './builder';

// onnx-proto is CommonJS: Node's ESM loader sees only its default export.
const { onnx } = onnxProto;

function bytesOf(data: TypedArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function tensorProto(
  name: string,
  dtype: DType,
  dims: number[],
  data?: TypedArray,
  external?: Initializer['external'],
): P.ITensorProto {
  const t: P.ITensorProto = { name, dataType: DTYPE_CODE[dtype], dims };
  if (external) {
    t.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    t.externalData = [
      { key: 'location', value: external.location },
      { key: 'offset', value: String(external.offset) },
      { key: 'length', value: String(external.length) },
    ];
  } else if (data) {
    t.rawData = bytesOf(data);
  }
  return t;
}

function attrProto(name: string, a: Attr): P.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case 'int':
      return { name, type: T.INT, i: a.value };
    case 'float':
      return { name, type: T.FLOAT, f: a.value };
    case 'ints':
      return { name, type: T.INTS, ints: a.value };
    case 'floats':
      return { name, type: T.FLOATS, floats: a.value };
    case 'string':
      return { name, type: T.STRING, s: new TextEncoder().encode(a.value) };
    case 'tensor':
      return { name, type: T.TENSOR, t: tensorProto('', a.value.dtype, a.value.dims, a.value.data) };
  }
}

function valueInfoProto(v: ValueInfo): P.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: DTYPE_CODE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function nodeProto(n: Node): P.INodeProto {
  return {
    opType: n.op,
    name: n.name,
    input: n.inputs,
    output: n.outputs,
    domain: n.domain ?? '',
    attribute: Object.entries(n.attrs).map(([k, v]) => attrProto(k, v)),
  };
}

export function encodeModel(g: Graph): Uint8Array {
  const model: P.IModelProto = {
    irVersion: 8,
    producerName: 'convlens',
    opsetImport: [{ domain: '', version: OPSET }],
    graph: {
      name: g.name,
      node: g.nodes.map(nodeProto),
      input: g.inputs.map(valueInfoProto),
      output: g.outputs.map(valueInfoProto),
      initializer: [...g.initializers.values()].map((i) => tensorProto(i.name, i.dtype, i.dims, i.data, i.external)),
    },
  };
  return onnx.ModelProto.encode(model).finish();
}

// ---- decode ----

function num(x: number | { toNumber(): number }): number {
  return typeof x === 'number' ? x : x.toNumber();
}

function copyTyped(dtype: DType, bytes: Uint8Array): TypedArray {
  // A real copy: on a Node Buffer (what protobufjs decodes into there) .slice() is only a view.
  const buf = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
  }
}

export class UnsupportedModelError extends Error {
  override name = 'UnsupportedModelError';
}

/** Decode a TensorProto's data, whichever field holds it. */
function decodeTensor(t: P.ITensorProto): Tensor {
  const dtype = DTYPE_OF_CODE[t.dataType ?? 0];
  if (!dtype) throw new UnsupportedModelError(`tensor '${t.name}' has unsupported data type ${t.dataType}`);
  const dims = (t.dims ?? []).map(num);
  let data: TypedArray;
  if (t.rawData && t.rawData.length) data = copyTyped(dtype, t.rawData);
  else if (dtype === 'float32') data = Float32Array.from(t.floatData ?? []);
  else if (dtype === 'float64') data = Float64Array.from(t.doubleData ?? []);
  else if (dtype === 'int64') data = BigInt64Array.from((t.int64Data ?? []).map((v) => BigInt(num(v))));
  else if (dtype === 'int32') data = Int32Array.from(t.int32Data ?? []);
  else if (dtype === 'int8') data = Int8Array.from(t.int32Data ?? []);
  else data = Uint8Array.from(t.int32Data ?? []);
  const expected = dims.reduce((a, b) => a * b, 1);
  if (data.length !== expected) {
    throw new UnsupportedModelError(
      `tensor '${t.name}' holds ${data.length} values, its dims [${dims}] say ${expected}`,
    );
  }
  return { dtype, dims, data };
}

function decodeAttr(a: P.IAttributeProto): Attr | undefined {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return { type: 'int', value: num(a.i ?? 0) };
    case T.FLOAT:
      return { type: 'float', value: a.f ?? 0 };
    case T.INTS:
      return { type: 'ints', value: (a.ints ?? []).map(num) };
    case T.FLOATS:
      return { type: 'floats', value: a.floats ?? [] };
    case T.STRING:
      return { type: 'string', value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case T.TENSOR:
      return { type: 'tensor', value: decodeTensor(a.t!) };
    default:
      return undefined;
  }
}

function decodeValueInfo(v: P.IValueInfoProto): ValueInfo {
  const tt = v.type?.tensorType;
  const shape: Shape = (tt?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : num(d.dimValue ?? 0)));
  return { name: v.name ?? '', dtype: DTYPE_OF_CODE[tt?.elemType ?? 1] ?? 'float32', shape };
}

/** Decode a ModelProto (inline initializers only) into a Graph. Shapes of inner values are not inferred. */
export function decodeModel(bytes: Uint8Array): Graph {
  const m = onnx.ModelProto.decode(bytes);
  const g = m.graph;
  if (!g) throw new UnsupportedModelError('the file holds no graph');
  const initializers = new Map<string, Initializer>();
  const values = new Map<string, ValueInfo>();
  for (const t of g.initializer ?? []) {
    if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
      throw new UnsupportedModelError(`initializer '${t.name}' uses external data; embed it first`);
    }
    const d = decodeTensor(t);
    initializers.set(t.name ?? '', { name: t.name ?? '', dtype: d.dtype, dims: d.dims, data: d.data });
    values.set(t.name ?? '', { name: t.name ?? '', dtype: d.dtype, shape: d.dims });
  }
  const inputs = (g.input ?? []).map(decodeValueInfo).filter((v) => !initializers.has(v.name));
  const outputs = (g.output ?? []).map(decodeValueInfo);
  for (const v of [...inputs, ...outputs]) values.set(v.name, v);
  const nodes: Node[] = (g.node ?? []).map((n, i) => {
    const attrs: Record<string, Attr> = {};
    for (const a of n.attribute ?? []) {
      const v = decodeAttr(a);
      if (v) attrs[a.name ?? ''] = v;
    }
    return {
      op: n.opType ?? '',
      inputs: n.input ?? [],
      outputs: n.output ?? [],
      attrs,
      name: n.name || `node_${i}`,
      domain: n.domain || undefined,
    };
  });
  return { name: g.name ?? 'graph', nodes, inputs, outputs, initializers, values };
}
