/**
 * A typed ONNX graph builder: one small method per op, attribute names and defaults as in the spec
 * (https://onnx.ai/onnx/operators/). Every method records the output's dtype and static shape, so
 * the gradient generator can read shapes without running anything.
 */
import type { Attr, DType, Graph, Initializer, Node, Shape, Tensor, TypedArray } from './ir';
import type { AutoPad } from './shape';
import { broadcast, normAxis, product, reshapeTarget, ShapeError, windowOut, windowPads } from './shape';

interface ConvAttrs {
  strides?: number[];
  /** Ignored unless auto_pad is NOTSET (the default). */
  pads?: number[];
  auto_pad?: AutoPad;
  dilations?: number[];
  group?: number;
}

interface ConvTransposeAttrs extends Omit<ConvAttrs, 'auto_pad'> {
  output_padding?: number[];
}

interface PoolAttrs {
  kernel_shape: number[];
  strides?: number[];
  /** Ignored unless auto_pad is NOTSET (the default). */
  pads?: number[];
  auto_pad?: AutoPad;
}

interface GemmAttrs {
  alpha?: number;
  beta?: number;
  transA?: number;
  transB?: number;
}

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
/** Explicit pads, or the auto_pad mode that implies them. */
const padAttrs = (autoPad: AutoPad, pads: number[]): Record<string, Attr> =>
  autoPad === 'NOTSET' ? { pads: ints(pads) } : { auto_pad: { type: 'string', value: autoPad } };

function emptyGraph(name: string): Graph {
  return { name, nodes: [], inputs: [], outputs: [], initializers: new Map(), values: new Map() };
}

export class GraphBuilder {
  readonly graph: Graph;
  /** Values of small constants (int64 shapes, axes), for shape inference of Reshape, Slice, … */
  private readonly known = new Map<string, number[]>();
  private counter = 0;

  constructor(graphOrName: Graph | string = 'convlens') {
    this.graph = typeof graphOrName === 'string' ? emptyGraph(graphOrName) : graphOrName;
    for (const init of this.graph.initializers.values()) {
      if (init.dtype === 'int64' && init.data && init.data.length <= 16) {
        this.known.set(init.name, Array.from(init.data as BigInt64Array, Number));
      }
    }
  }

  /** A name not used in the graph yet. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}__${this.counter++}`;
    while (this.graph.values.has(name) || this.graph.initializers.has(name));
    return name;
  }

  shape(name: string): Shape {
    const v = this.graph.values.get(name);
    if (!v) throw new ShapeError(`unknown value '${name}'`);
    return v.shape;
  }

  dtype(name: string): DType {
    const v = this.graph.values.get(name);
    if (!v) throw new ShapeError(`unknown value '${name}'`);
    return v.dtype;
  }

  /** A static shape, or a ShapeError naming the value. */
  staticShape(name: string): number[] {
    const s = this.shape(name);
    if (!s.every((d) => typeof d === 'number')) throw new ShapeError(`'${name}' has a symbolic shape [${s}]`);
    return s as number[];
  }

  // ---- graph inputs, outputs and initializers ----

  input(name: string, dtype: DType, shape: Shape): string {
    const info = { name, dtype, shape };
    this.graph.inputs.push(info);
    this.graph.values.set(name, info);
    return name;
  }

  output(name: string): string {
    this.graph.outputs.push({ ...this.graph.values.get(name)!, name });
    return name;
  }

  initializer(init: Initializer): string {
    if (this.graph.initializers.has(init.name)) throw new ShapeError(`initializer '${init.name}' exists`);
    this.graph.initializers.set(init.name, init);
    this.graph.values.set(init.name, { name: init.name, dtype: init.dtype, shape: init.dims });
    return init.name;
  }

  /** An inline constant tensor (stored as an initializer). */
  constant(t: Tensor, hint = 'const'): string {
    const name = this.initializer({ name: this.fresh(hint), dtype: t.dtype, dims: t.dims, data: t.data });
    if (t.dtype === 'int64' && t.data.length <= 16) this.known.set(name, Array.from(t.data as BigInt64Array, Number));
    return name;
  }

  int64s(values: readonly number[], hint = 'ints'): string {
    return this.constant({ dtype: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) }, hint);
  }

  scalar(value: number, dtype: DType = 'float32'): string {
    const data: TypedArray =
      dtype === 'int64'
        ? BigInt64Array.of(BigInt(value))
        : dtype === 'float64'
          ? Float64Array.of(value)
          : Float32Array.of(value);
    return this.constant({ dtype, dims: [], data }, 'scalar');
  }

  // ---- the generic node ----

  node(
    op: string,
    inputs: string[],
    attrs: Record<string, Attr>,
    outs: { dtype: DType; shape: Shape }[],
    hint?: string,
  ): string[] {
    const base = this.fresh(hint ?? op.toLowerCase());
    const outputs = outs.map((_, i) => (outs.length === 1 ? base : `${base}_${i}`));
    const node: Node = { op, inputs, outputs, attrs, name: base };
    this.graph.nodes.push(node);
    outs.forEach((o, i) => this.graph.values.set(outputs[i]!, { name: outputs[i]!, ...o }));
    return outputs;
  }

  private one(
    op: string,
    inputs: string[],
    attrs: Record<string, Attr>,
    dtype: DType,
    shape: Shape,
    hint?: string,
  ): string {
    return this.node(op, inputs, attrs, [{ dtype, shape }], hint)[0]!;
  }

  private same(op: string, x: string, attrs: Record<string, Attr> = {}, hint?: string): string {
    return this.one(op, [x], attrs, this.dtype(x), this.shape(x), hint);
  }

  private binary(op: string, a: string, b: string, hint?: string, dtype?: DType): string {
    return this.one(op, [a, b], {}, dtype ?? this.dtype(a), broadcast(this.shape(a), this.shape(b)), hint);
  }

  // ---- elementwise ----

  add(a: string, b: string, hint?: string): string {
    return this.binary('Add', a, b, hint);
  }
  sub(a: string, b: string, hint?: string): string {
    return this.binary('Sub', a, b, hint);
  }
  mul(a: string, b: string, hint?: string): string {
    return this.binary('Mul', a, b, hint);
  }
  div(a: string, b: string, hint?: string): string {
    return this.binary('Div', a, b, hint);
  }
  pow(a: string, b: string, hint?: string): string {
    return this.binary('Pow', a, b, hint);
  }
  equal(a: string, b: string): string {
    return this.binary('Equal', a, b, undefined, 'bool');
  }
  greater(a: string, b: string): string {
    return this.binary('Greater', a, b, undefined, 'bool');
  }
  less(a: string, b: string): string {
    return this.binary('Less', a, b, undefined, 'bool');
  }
  where(cond: string, a: string, b: string, hint?: string): string {
    const shape = broadcast(broadcast(this.shape(cond), this.shape(a)), this.shape(b));
    return this.one('Where', [cond, a, b], {}, this.dtype(a), shape, hint);
  }
  relu(x: string, hint?: string): string {
    return this.same('Relu', x, {}, hint);
  }
  neg(x: string): string {
    return this.same('Neg', x);
  }
  exp(x: string): string {
    return this.same('Exp', x);
  }
  log(x: string): string {
    return this.same('Log', x);
  }
  sqrt(x: string): string {
    return this.same('Sqrt', x);
  }
  abs(x: string): string {
    return this.same('Abs', x);
  }
  sign(x: string): string {
    return this.same('Sign', x);
  }
  identity(x: string, hint?: string): string {
    return this.same('Identity', x, {}, hint);
  }
  cast(x: string, to: DType): string {
    return this.one('Cast', [x], { to: int(DTYPE_CODE[to]) }, to, this.shape(x));
  }
  softmax(x: string, axis = -1): string {
    return this.same('Softmax', x, { axis: int(axis) });
  }
  logSoftmax(x: string, axis = -1): string {
    return this.same('LogSoftmax', x, { axis: int(axis) });
  }

  // ---- linear algebra and convolution ----

  gemm(a: string, b: string, c?: string, attrs: GemmAttrs = {}, hint?: string): string {
    const [sa, sb] = [this.shape(a), this.shape(b)];
    const m = attrs.transA ? sa[1]! : sa[0]!;
    const n = attrs.transB ? sb[0]! : sb[1]!;
    const at: Record<string, Attr> = {};
    if (attrs.alpha !== undefined) at.alpha = float(attrs.alpha);
    if (attrs.beta !== undefined) at.beta = float(attrs.beta);
    if (attrs.transA) at.transA = int(attrs.transA);
    if (attrs.transB) at.transB = int(attrs.transB);
    return this.one('Gemm', c ? [a, b, c] : [a, b], at, this.dtype(a), [m, n], hint);
  }

  matmul(a: string, b: string, hint?: string): string {
    const [sa, sb] = [this.shape(a), this.shape(b)];
    if (sa.length < 2 || sb.length < 2)
      throw new ShapeError('MatMul: rank-1 operands are not supported by this builder');
    const batch = broadcast(sa.slice(0, -2), sb.slice(0, -2));
    return this.one('MatMul', [a, b], {}, this.dtype(a), [...batch, sa[sa.length - 2]!, sb[sb.length - 1]!], hint);
  }

  conv(x: string, w: string, bias?: string, attrs: ConvAttrs = {}, hint?: string): string {
    const [sx, sw] = [this.shape(x), this.staticShape(w)];
    const k = sw.slice(2);
    const { strides = k.map(() => 1), dilations = k.map(() => 1), group = 1, auto_pad = 'NOTSET' } = attrs;
    const pads = windowPads(auto_pad, sx.slice(2), k, strides, dilations, attrs.pads ?? [...k, ...k].map(() => 0));
    const spatial = k.map((kk, i) =>
      windowOut(sx[2 + i]!, kk, strides[i]!, pads[i]!, pads[i + k.length]!, dilations[i]),
    );
    const at: Record<string, Attr> = {
      kernel_shape: ints(k),
      strides: ints(strides),
      ...padAttrs(auto_pad, pads),
      dilations: ints(dilations),
    };
    if (group !== 1) at.group = int(group);
    return this.one('Conv', bias ? [x, w, bias] : [x, w], at, this.dtype(x), [sx[0]!, sw[0]!, ...spatial], hint);
  }

  convTranspose(x: string, w: string, attrs: ConvTransposeAttrs = {}, hint?: string): string {
    const [sx, sw] = [this.shape(x), this.staticShape(w)];
    const k = sw.slice(2);
    const { strides = k.map(() => 1), pads = [...k, ...k].map(() => 0), dilations = k.map(() => 1), group = 1 } = attrs;
    const output_padding = attrs.output_padding ?? k.map(() => 0);
    const spatial = k.map((kk, i) => {
      const s = sx[2 + i]!;
      if (typeof s === 'string') return s;
      return (
        strides[i]! * (s - 1) + output_padding[i]! + ((kk - 1) * dilations[i]! + 1) - pads[i]! - pads[i + k.length]!
      );
    });
    const at: Record<string, Attr> = {
      kernel_shape: ints(k),
      strides: ints(strides),
      pads: ints(pads),
      dilations: ints(dilations),
      output_padding: ints(output_padding),
    };
    if (group !== 1) at.group = int(group);
    return this.one('ConvTranspose', [x, w], at, this.dtype(x), [sx[0]!, sw[1]! * group, ...spatial], hint);
  }

  maxPool(x: string, attrs: PoolAttrs, hint?: string): string {
    return this.pool('MaxPool', x, attrs, hint);
  }

  averagePool(x: string, attrs: PoolAttrs, hint?: string): string {
    return this.pool('AveragePool', x, attrs, hint);
  }

  private pool(op: string, x: string, attrs: PoolAttrs, hint?: string): string {
    const sx = this.shape(x);
    const k = attrs.kernel_shape;
    const { strides = k.map(() => 1), auto_pad = 'NOTSET' } = attrs;
    const ones = k.map(() => 1);
    const pads = windowPads(auto_pad, sx.slice(2), k, strides, ones, attrs.pads ?? [...k, ...k].map(() => 0));
    const spatial = k.map((kk, i) => windowOut(sx[2 + i]!, kk, strides[i]!, pads[i]!, pads[i + k.length]!));
    const at = { kernel_shape: ints(k), strides: ints(strides), ...padAttrs(auto_pad, pads) };
    return this.one(op, [x], at, this.dtype(x), [sx[0]!, sx[1]!, ...spatial], hint);
  }

  globalAveragePool(x: string, hint?: string): string {
    const s = this.shape(x);
    return this.one('GlobalAveragePool', [x], {}, this.dtype(x), [s[0]!, s[1]!, ...s.slice(2).map(() => 1)], hint);
  }

  // ---- reductions ----

  reduce(
    op: 'ReduceMean' | 'ReduceSum' | 'ReduceMax' | 'ReduceSumSquare',
    x: string,
    axes: number[],
    keepdims = true,
    hint?: string,
  ): string {
    const s = this.shape(x);
    const ax = axes.map((a) => normAxis(a, s.length));
    const shape = keepdims ? s.map((d, i) => (ax.includes(i) ? 1 : d)) : s.filter((_, i) => !ax.includes(i));
    return this.one(
      op,
      [x, this.int64s(axes, 'axes')],
      { keepdims: int(keepdims ? 1 : 0) },
      this.dtype(x),
      shape,
      hint,
    );
  }

  argMax(x: string, axis: number, keepdims = true): string {
    const s = this.shape(x);
    const a = normAxis(axis, s.length);
    const shape = keepdims ? s.map((d, i) => (i === a ? 1 : d)) : s.filter((_, i) => i !== a);
    return this.one(
      'ArgMax',
      [x],
      { axis: int(axis), keepdims: int(keepdims ? 1 : 0), select_last_index: int(0) },
      'int64',
      shape,
    );
  }

  topK(x: string, k: number, axis = -1): [values: string, indices: string] {
    const s = this.shape(x);
    const a = normAxis(axis, s.length);
    const shape = s.map((d, i) => (i === a ? k : d));
    const [v, i] = this.node('TopK', [x, this.int64s([k], 'k')], { axis: int(axis), largest: int(1), sorted: int(1) }, [
      { dtype: this.dtype(x), shape },
      { dtype: 'int64', shape },
    ]);
    return [v!, i!];
  }

  // ---- shape ops ----

  reshape(x: string, target: number[], hint?: string): string {
    return this.one(
      'Reshape',
      [x, this.int64s(target, 'shape')],
      {},
      this.dtype(x),
      reshapeTarget(this.shape(x), target),
      hint,
    );
  }

  /** Reshape x to the runtime shape of `like` (used by gradients, so symbolic batch sizes work). */
  reshapeLike(x: string, like: string): string {
    const shapeOf = this.one('Shape', [like], {}, 'int64', [this.shape(like).length]);
    return this.one('Reshape', [x, shapeOf], {}, this.dtype(x), this.shape(like));
  }

  flatten(x: string, axis = 1): string {
    const s = this.shape(x);
    const a = axis < 0 ? axis + s.length : axis;
    return this.one('Flatten', [x], { axis: int(axis) }, this.dtype(x), [product(s.slice(0, a)), product(s.slice(a))]);
  }

  transpose(x: string, perm: number[], hint?: string): string {
    const s = this.shape(x);
    return this.one(
      'Transpose',
      [x],
      { perm: ints(perm) },
      this.dtype(x),
      perm.map((p) => s[p]!),
      hint,
    );
  }

  concat(xs: string[], axis: number): string {
    const shapes = xs.map((x) => this.shape(x));
    const a = normAxis(axis, shapes[0]!.length);
    const parts = shapes.map((s) => s[a]!);
    const shape = [...shapes[0]!];
    shape[a] = parts.every((d) => typeof d === 'number')
      ? (parts as number[]).reduce((p, q) => p + q, 0)
      : parts.join('+');
    return this.one('Concat', xs, { axis: int(axis) }, this.dtype(xs[0]!), shape);
  }

  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]): string {
    const s = [...this.shape(x)];
    axes.forEach((ax, i) => {
      const a = normAxis(ax, s.length);
      const d = s[a]!;
      const step = steps?.[i] ?? 1;
      if (typeof d === 'string') {
        s[a] = `${d}[${starts[i]}:${ends[i]}]`;
        return;
      }
      const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
      const st = step > 0 ? clamp(starts[i]!, 0, d) : clamp(starts[i]!, -1, d - 1);
      const en = step > 0 ? clamp(ends[i]!, 0, d) : clamp(ends[i]!, -1, d - 1);
      s[a] = Math.max(0, Math.ceil((en - st) / step));
    });
    const inputs = [x, this.int64s(starts, 'starts'), this.int64s(ends, 'ends'), this.int64s(axes, 'axes')];
    if (steps) inputs.push(this.int64s(steps, 'steps'));
    return this.one('Slice', inputs, {}, this.dtype(x), s);
  }

  unsqueeze(x: string, axes: number[]): string {
    const s = [...this.shape(x)];
    const rank = s.length + axes.length;
    for (const a of axes.map((a) => normAxis(a, rank)).sort((p, q) => p - q)) s.splice(a, 0, 1);
    return this.one('Unsqueeze', [x, this.int64s(axes, 'axes')], {}, this.dtype(x), s);
  }

  squeeze(x: string, axes: number[]): string {
    const s = this.shape(x);
    const ax = axes.map((a) => normAxis(a, s.length));
    return this.one(
      'Squeeze',
      [x, this.int64s(axes, 'axes')],
      {},
      this.dtype(x),
      s.filter((_, i) => !ax.includes(i)),
    );
  }

  expand(x: string, target: number[]): string {
    return this.one('Expand', [x, this.int64s(target, 'shape')], {}, this.dtype(x), broadcast(this.shape(x), target));
  }

  /** Expand x to the runtime shape of `like`. */
  expandLike(x: string, like: string): string {
    const shapeOf = this.one('Shape', [like], {}, 'int64', [this.shape(like).length]);
    return this.one('Expand', [x, shapeOf], {}, this.dtype(x), broadcast(this.shape(x), this.shape(like)));
  }

  gather(data: string, indices: string, axis = 0): string {
    const [sd, si] = [this.shape(data), this.shape(indices)];
    const a = normAxis(axis, sd.length);
    return this.one('Gather', [data, indices], { axis: int(axis) }, this.dtype(data), [
      ...sd.slice(0, a),
      ...si,
      ...sd.slice(a + 1),
    ]);
  }

  // ---- quantization ----

  dequantizeLinear(x: string, scale: string, zeroPoint: string | undefined, axis: number, hint?: string): string {
    const inputs = zeroPoint ? [x, scale, zeroPoint] : [x, scale];
    return this.one('DequantizeLinear', inputs, { axis: int(axis) }, 'float32', this.shape(x), hint);
  }

  quantizeLinear(x: string, scale: string, zeroPoint: string, axis: number): string {
    return this.one('QuantizeLinear', [x, scale, zeroPoint], { axis: int(axis) }, this.dtype(zeroPoint), this.shape(x));
  }

  /** The value of a small int64 constant, if the builder knows it. */
  knownInts(name: string): number[] | undefined {
    return this.known.get(name);
  }
}

/** ONNX TensorProto.DataType codes. */
export const DTYPE_CODE: Record<DType, number> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  float64: 11,
};

export const DTYPE_OF_CODE: Record<number, DType> = Object.fromEntries(
  Object.entries(DTYPE_CODE).map(([k, v]) => [v, k as DType]),
) as Record<number, DType>;
