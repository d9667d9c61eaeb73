/**
 * VGG16 from an ONNX file shaped like the ONNX model zoo's `vgg16-12.onnx` (converted from
 * MXNet/Gluon; torchvision exports have the same shape): 13 Conv nodes with (O, I, 3, 3) weights and
 * biases, ReLU and MaxPool, Flatten, then 3 fully connected layers as Gemm (weight (out, in) with
 * transB = 1, or (in, out) with transB = 0) or MatMul + Add.
 *
 * Weights are found by walking the graph's Conv and Gemm/MatMul nodes in topological order and
 * checking their shapes against the config, never by initializer names (which differ between zoo
 * versions and exporters). The model is NCHW throughout, so fc1's inputs are already in the internal
 * (C, H, W) order. The images these weights expect are 'torch'-preprocessed.
 */
import { decodeModel } from '../onnx/encode';
import { AttributeError, readAttrs, type AttrReader, type Graph, type Node } from '../onnx/ir';
import type { LayerWeights, PreprocessMode, VggConfig, VggWeights } from './spec';
import { checkWeights, convLayers, denseLayers, VGG16, WeightsMismatchError } from './spec';

/** How images must be preprocessed for weights from this source. */
export const ONNX_ZOO_PREPROCESSING: PreprocessMode = 'torch';

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

interface Const {
  dims: number[];
  data: Float32Array;
}

const dimsStr = (d: readonly number[]) => `[${d.join(', ')}]`;
const sameDims = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const numel = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

export function readOnnxZoo(bytes: Uint8Array, cfg: VggConfig = VGG16): { weights: VggWeights } {
  if (HDF5_SIGNATURE.every((b, i) => bytes[i] === b)) {
    throw new WeightsMismatchError('not an ONNX model: this is an HDF5 file (a Keras .h5?); use the Keras importer');
  }
  let g: Graph;
  try {
    // A plain Uint8Array view: protobufjs reads a Node Buffer with Buffer semantics, where slice()
    // returns a view, not a copy, and decodeModel's tensor copies would see the whole file.
    g = decodeModel(
      bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    );
  } catch (e) {
    throw new WeightsMismatchError(
      `not an ONNX model (${bytes.length} bytes): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  if (g.nodes.length === 0)
    throw new WeightsMismatchError(`not an ONNX model (${bytes.length} bytes): its graph has no nodes`);

  const nodes = topologicalOrder(g);
  const consts = constants(g, nodes);
  const constant = (name: string | undefined, what: string): Const => {
    const c = name ? consts.get(name) : undefined;
    if (!c) throw new WeightsMismatchError(`${what} ('${name ?? ''}') is not a constant float tensor in the file`);
    return c;
  };

  const byOp = (...ops: string[]) => nodes.filter((n) => ops.includes(n.op) && (n.domain ?? '') === '');
  if (byOp('BatchNormalization').length)
    throw new WeightsMismatchError(
      'the model has BatchNormalization layers (VGG16-BN?); only plain VGG16 is supported',
    );
  if (byOp('Transpose').length) {
    throw new WeightsMismatchError(
      'the model transposes tensors (a channels-last export, e.g. from tf2onnx?); only NCHW models such as the ONNX zoo vgg16 are supported',
    );
  }
  const convNodes = byOp('Conv');
  const denseNodes = byOp('Gemm', 'MatMul');
  const pools = byOp('MaxPool');
  const cl = convLayers(cfg);
  const dl = denseLayers(cfg);
  if (convNodes.length !== cl.length)
    throw new WeightsMismatchError(`not ${cfg.name}: expected ${cl.length} Conv layers, found ${convNodes.length}`);
  if (denseNodes.length !== dl.length) {
    throw new WeightsMismatchError(
      `not ${cfg.name}: expected ${dl.length} fully connected (Gemm or MatMul) layers, found ${denseNodes.length}`,
    );
  }
  if (pools.length !== cfg.blocks.length)
    throw new WeightsMismatchError(
      `not ${cfg.name}: expected ${cfg.blocks.length} MaxPool layers, found ${pools.length}`,
    );
  const lastConv = nodes.indexOf(convNodes[convNodes.length - 1]!);
  if (nodes.indexOf(denseNodes[0]!) < lastConv)
    throw new WeightsMismatchError(`not ${cfg.name}: a fully connected layer comes before the last Conv`);

  const weights: VggWeights = new Map();
  cl.forEach((l, i) => {
    const n = convNodes[i]!;
    const what = `Conv node '${n.name}' (${l.name})`;
    checkConvAttrs(n, what);
    const w = constant(n.inputs[1], `${what}: weight`);
    const want = [l.cout, l.cin, 3, 3];
    if (!sameDims(w.dims, want))
      throw new WeightsMismatchError(
        `${what}: weight has shape ${dimsStr(w.dims)}, expected ${dimsStr(want)} (out, in, 3, 3)`,
      );
    weights.set(l.name, {
      kernel: w.data,
      bias: bias(n.inputs[2] ? constant(n.inputs[2], `${what}: bias`) : undefined, l.cout, what),
    });
  });

  const consumers = (value: string) => nodes.filter((m) => m.inputs.includes(value));
  dl.forEach((l, i) => {
    const n = denseNodes[i]!;
    const what = `${n.op} node '${n.name}' (${l.name})`;
    let lw: LayerWeights;
    if (n.op === 'Gemm') {
      const { transA, transB, alpha, beta } = attrsOf(n, (a) => ({
        transA: a.int('transA', 0),
        transB: a.int('transB', 0),
        alpha: a.float('alpha', 1),
        beta: a.float('beta', 1),
      }));
      if (transA !== 0) throw new WeightsMismatchError(`${what}: transA = 1 is not supported`);
      const w = constant(n.inputs[1], `${what}: weight`);
      const kernel = denseKernel(w, transB !== 0, l.units, l.inputs, what);
      if (alpha !== 1) for (let k = 0; k < kernel.length; k++) kernel[k]! *= alpha;
      const b = bias(n.inputs[2] ? constant(n.inputs[2], `${what}: bias`) : undefined, l.units, what);
      if (beta !== 1) for (let k = 0; k < b.length; k++) b[k]! *= beta;
      lw = { kernel, bias: b };
    } else {
      const w = constant(n.inputs[1], `${what}: weight`);
      const kernel = denseKernel(w, false, l.units, l.inputs, what);
      // MatMul's bias, if any, is an Add of a constant right after it.
      const add = consumers(n.outputs[0]!).find((m) => m.op === 'Add');
      const other = add?.inputs.find((x) => x !== n.outputs[0]);
      lw = { kernel, bias: bias(other && consts.has(other) ? consts.get(other) : undefined, l.units, what) };
    }
    weights.set(l.name, lw);
  });

  checkWeights(cfg, weights, true);
  return { weights };
}

/**
 * A node's attributes read with `read`; an attribute of the wrong type is a file this importer cannot
 * take, so its AttributeError becomes a WeightsMismatchError the user sees.
 */
function attrsOf<T>(n: Node, read: (a: AttrReader) => T): T {
  try {
    return read(readAttrs(n));
  } catch (e) {
    if (e instanceof AttributeError)
      throw new WeightsMismatchError(`${e.message}; export the model again with a standard ONNX exporter`, {
        cause: e,
      });
    throw e;
  }
}

function checkConvAttrs(n: Node, what: string): void {
  const { group, strides, dilations, pads, autoPad } = attrsOf(n, (a) => ({
    group: a.int('group', 1),
    strides: a.ints('strides', []),
    dilations: a.ints('dilations', []),
    pads: a.ints('pads', [0, 0, 0, 0]),
    autoPad: a.string('auto_pad', 'NOTSET'),
  }));
  if (group !== 1) throw new WeightsMismatchError(`${what}: group = ${group}, VGG16 uses plain convolutions`);
  if (strides.some((s) => s !== 1))
    throw new WeightsMismatchError(`${what}: strides ${dimsStr(strides)}, VGG16 uses stride 1`);
  if (dilations.some((s) => s !== 1))
    throw new WeightsMismatchError(`${what}: dilations ${dimsStr(dilations)}, VGG16 uses none`);
  const same =
    autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER' || (pads.length === 4 && pads.every((p) => p === 1));
  if (!same)
    throw new WeightsMismatchError(
      `${what}: pads ${dimsStr(pads)} (auto_pad ${autoPad}), VGG16 pads by 1 on every side`,
    );
}

/** An (out, in) kernel from a Gemm/MatMul weight stored as (out, in) (`transposed`) or (in, out). */
function denseKernel(w: Const, transposed: boolean, out: number, inp: number, what: string): Float32Array {
  const want = transposed ? [out, inp] : [inp, out];
  if (!sameDims(w.dims, want)) {
    throw new WeightsMismatchError(
      `${what}: weight has shape ${dimsStr(w.dims)}, expected ${dimsStr(want)} (${transposed ? 'out, in; transB = 1' : 'in, out'})`,
    );
  }
  if (transposed) return w.data.slice();
  const k = new Float32Array(out * inp);
  for (let i = 0; i < inp; i++) for (let o = 0; o < out; o++) k[o * inp + i] = w.data[i * out + o]!;
  return k;
}

function bias(c: Const | undefined, n: number, what: string): Float32Array {
  if (!c) return new Float32Array(n);
  if (c.data.length !== n)
    throw new WeightsMismatchError(`${what}: bias has shape ${dimsStr(c.dims)}, expected [${n}]`);
  return c.data.slice();
}

/** Nodes in an order where every input is produced before it is used (ONNX requires it; don't trust it). */
function topologicalOrder(g: Graph): Node[] {
  const ready = new Set<string>(['', ...g.inputs.map((v) => v.name), ...g.initializers.keys()]);
  const left = [...g.nodes];
  const out: Node[] = [];
  while (left.length) {
    const i = left.findIndex((n) => n.inputs.every((x) => ready.has(x)));
    if (i < 0)
      throw new WeightsMismatchError(`the graph has a cycle or an undefined input (at node '${left[0]!.name}')`);
    const [n] = left.splice(i, 1);
    out.push(n!);
    for (const o of n!.outputs) ready.add(o);
  }
  return out;
}

/** Float tensors known before the model runs: initializers, Constant nodes, and Identity of either. */
function constants(g: Graph, order: Node[]): Map<string, Const> {
  const m = new Map<string, Const>();
  const asFloat = (dims: number[], data: unknown): Const | undefined => {
    if (data instanceof Float32Array) return { dims, data };
    if (data instanceof Float64Array) return { dims, data: Float32Array.from(data) };
    return undefined;
  };
  for (const init of g.initializers.values()) {
    const c = init.data && numel(init.dims) === init.data.length ? asFloat(init.dims, init.data) : undefined;
    if (c) m.set(init.name, c);
  }
  for (const n of order) {
    if (n.op === 'Constant' && n.attrs.value?.type === 'tensor') {
      const c = asFloat(n.attrs.value.value.dims, n.attrs.value.value.data);
      if (c && n.outputs[0]) m.set(n.outputs[0], c);
    } else if (n.op === 'Identity' && n.inputs[0] && m.has(n.inputs[0]) && n.outputs[0]) {
      m.set(n.outputs[0], m.get(n.inputs[0])!);
    }
  }
  return m;
}
