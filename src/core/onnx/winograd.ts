/**
 * Winograd rewrite of 3×3 convolutions (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2015): F(m×m, 3×3) computes an m×m output tile from an α×α input tile, α = m + 2,
 * with α² multiplies per (input channel, output channel) pair instead of 9·m²:
 *
 *   Y = Aᵀ·[ Σ_c (G·g·Gᵀ) ⊙ (Bᵀ·d·B) ]·A      (the sum over c, for all α² positions, is a batched GEMM)
 *
 * Plain ONNX ops on graph values, so any ONNX runtime runs it and the gradient generator
 * differentiates it (Pad, Reshape, Conv, Slice, Gemm, MatMul, Transpose, Add). For X (N, C, H, W),
 * th × tw = T tiles (H, W rounded up to multiples of m), the default plan (F(4×4) above 14×14, 'TC', 'sep', 'sep'):
 *
 *   input   X → Pad rows (N, C, m·(th+1), W) → Reshape (N, 1, C·m·(th+1), W): one tall image
 *             → Conv[Bᵀ as (α, 1, α, 1), stride (m, 1)] → (N, α, C·(th+1), W) → Reshape (N·α, 1, …)
 *             → Conv[Bᵀ as (α, 1, 1, α), stride (1, m), pads 1] → (N·α, α, C·(th+1), tw)
 *             → Reshape (N, α², C, th+1, tw) → Slice th → Reshape (N, α², C, T)                = V
 *   kernel  W (O, C, 3, 3) → Reshape (O·C, 9) → Gemm(kron(G, G) (α², 9), ·, transB) → (α², O, C) = U
 *             (only initializers in: the runtime folds it at session creation)
 *   product M = MatMul(Vᵀ, Uᵀ) (N, α², T, O)  ['TC'];  or MatMul(U, V) (N, α², O, T)  ['OC']
 *   output  MatMul(Aᵀ (m, α), ·) over ξ, then over ν → (N, m, m, T·O) → Reshape (N, m, m, th, tw, O)
 *             → Transpose (N, th, m, tw, m, O) → Reshape (N, Hp·Wp, O) → Transpose (N, O, Hp·Wp)
 *             ['OC': (N, m, m, O, th, tw) → one Transpose (N, O, th, m, tw, m)]
 *             → Reshape (N, O, Hp, Wp) [→ Slice H, W] → Add bias
 *
 * Stacking the channels as the rows of one tall image makes each input-transform Conv one big GEMM
 * (not C tiny ones) whose output is already ξ-major: no transpose of V. The output's name is the
 * Conv's, so downstream nodes, and a gradient graph built later on the rewritten graph, connect.
 *
 * On onnxruntime-web's WASM the rewritten VGG16 base runs about twice as fast as plain Conv (README,
 * benchmark); onnxruntime-node's native (x86, NCHWc) convolution is faster without it.
 */
import { GraphBuilder } from './builder';
import type { Dim, Graph, Node, Shape } from './ir';
import { readAttrs, withoutNodes } from './ir';

/** How one conv is rewritten. */
interface WinogradPlan {
  /**
   * Output tile m: 2 → F(2×2, 3×3), 16 multiplies per tile and channel pair (2.25× fewer than
   * direct); 4 → F(4×4, 3×3), 36 per tile (4× fewer), larger transforms, ≈ 20× larger fp32 error
   * (still ≤ 3e-5 relative per layer at VGG16 scale). H, W not divisible by m: tiles are padded.
   */
  tile: 2 | 4;
  /**
   * GEMM orientation: 'OC' multiplies U (α², O, C) by V (N, α², C, T); 'TC' multiplies Vᵀ (T, C)
   * by Uᵀ (C, O) (the runtime fuses both transposes into the MatMul), better when T is small.
   */
  orientation: 'OC' | 'TC';
  /** Input transform Bᵀ·d·B: 'sep' (two 1-D Convs, α and α² taps) or 'tall' (one Conv, α⁴ taps). */
  input: 'tall' | 'sep';
  /** Output transform Aᵀ·m·A: 'sep' (two 1-D MatMuls) or 'kron' (one MatMul by kron(Aᵀ, Aᵀ)). */
  output: 'kron' | 'sep';
}

/** A conv the rewrite may replace: its node and sizes (input channels C, output channels O, H, W). */
interface WinogradLayer {
  node: Node;
  c: number;
  o: number;
  h: number;
  w: number;
}

export interface WinogradOptions {
  /** Rewrite only convs with at least this many input channels (default 16: VGG16's first conv, C = 3, stays). */
  minChannels?: number;
  /** Extra filter: rewrite only the eligible Conv nodes for which this returns true. */
  layers?: (node: Node) => boolean;
  /** Override the default plan ({@link defaultPlan}) for every layer, or per layer (null: leave it). */
  plan?: Partial<WinogradPlan> | ((layer: WinogradLayer) => Partial<WinogradPlan> | null);
}

/**
 * The fastest form with onnxruntime-web WASM on VGG16's layers, and the smaller where two tie:
 * F(4×4) down to 28×28 and F(2×2) at 14×14 and below, two-pass transforms, and the GEMM as
 * (T, C)·(C, O). At 14×14 (block5) F(4×4) pads to 16×16 and runs no faster than F(2×2), while its
 * kernels are 2.25× larger, so F(2×2) keeps the live base's heap smaller; at 28×28 F(2×2) would save
 * as much again but costs a noticeable share of the frame. 'TC' multiplies by the constant U, which
 * onnxruntime packs once at session creation, where 'OC' packs the activation V on every run: with
 * the two-step 'TC' output transpose, 'TC' is faster on every layer.
 */
function defaultPlan(layer: WinogradLayer): WinogradPlan {
  return { tile: layer.h <= 14 && layer.w <= 14 ? 2 : 4, orientation: 'TC', input: 'sep', output: 'sep' };
}

/** The transform matrices of F(m×m, 3×3), as in Lavin & Gray (interpolation points 0, ±1, ±2, ∞). */
const MATRICES: Record<2 | 4, { Bt: number[][]; G: number[][]; At: number[][] }> = {
  2: {
    Bt: [
      [1, 0, -1, 0],
      [0, 1, 1, 0],
      [0, -1, 1, 0],
      [0, 1, 0, -1],
    ],
    G: [
      [1, 0, 0],
      [0.5, 0.5, 0.5],
      [0.5, -0.5, 0.5],
      [0, 0, 1],
    ],
    At: [
      [1, 1, 1, 0],
      [0, 1, -1, -1],
    ],
  },
  4: {
    Bt: [
      [4, 0, -5, 0, 1, 0],
      [0, -4, -4, 1, 1, 0],
      [0, 4, -4, -1, 1, 0],
      [0, -2, -1, 2, 1, 0],
      [0, 2, -1, -2, 1, 0],
      [0, 4, 0, -5, 0, 1],
    ],
    G: [
      [1 / 4, 0, 0],
      [-1 / 6, -1 / 6, -1 / 6],
      [-1 / 6, 1 / 6, -1 / 6],
      [1 / 24, 1 / 12, 1 / 6],
      [1 / 24, -1 / 12, 1 / 6],
      [0, 0, 1],
    ],
    At: [
      [1, 1, 1, 1, 1, 0],
      [0, 1, -1, 2, -2, 0],
      [0, 1, 1, 4, 4, 0],
      [0, 1, -1, 8, -8, 1],
    ],
  },
};

/** kron(P, P) as a row-major (rows², cols²) matrix: out[(a·r+b), (i·c+j)] = P[a][i]·P[b][j]. */
function kron2(P: number[][]): Float32Array {
  const r = P.length;
  const c = P[0]!.length;
  const out = new Float32Array(r * r * c * c);
  for (let a = 0; a < r; a++)
    for (let b = 0; b < r; b++)
      for (let i = 0; i < c; i++)
        for (let j = 0; j < c; j++) out[(a * r + b) * c * c + i * c + j] = P[a]![i]! * P[b]![j]!;
  return out;
}

/** Why `node` is not a Conv the rewrite can replace (`reason`), or else its batch and sizes. */
function winogradEligibility(
  graph: Graph,
  node: Node,
): { reason?: string; n?: Dim; c?: number; o?: number; h?: number; w?: number } {
  if (node.op !== 'Conv' || (node.domain && node.domain !== 'ai.onnx')) return { reason: 'not a Conv' };
  const [x, wt] = node.inputs;
  const xs = x ? graph.values.get(x) : undefined;
  const ws = wt ? graph.values.get(wt) : undefined;
  if (!xs || !ws) return { reason: 'unknown input shapes' };
  if (xs.dtype !== 'float32' || ws.dtype !== 'float32') return { reason: 'not float32' };
  if (node.outputs.length !== 1) return { reason: 'several outputs' };
  const at = readAttrs(node);
  if (at.string('auto_pad', 'NOTSET') !== 'NOTSET') return { reason: 'auto_pad' };
  const [o, c, kh, kw] = ws.shape;
  if (ws.shape.length !== 4 || kh !== 3 || kw !== 3 || typeof o !== 'number' || typeof c !== 'number')
    return { reason: 'kernel is not 3×3' };
  const ks = at.ints('kernel_shape', [3, 3]);
  if (ks[0] !== 3 || ks[1] !== 3) return { reason: 'kernel is not 3×3' };
  if (at.ints('strides', [1, 1]).some((s) => s !== 1)) return { reason: 'stride ≠ 1' };
  if (at.ints('dilations', [1, 1]).some((d) => d !== 1)) return { reason: 'dilation ≠ 1' };
  if (at.int('group', 1) !== 1) return { reason: 'grouped' };
  const pads = at.ints('pads', [0, 0, 0, 0]);
  if (pads.length !== 4 || pads.some((p) => p !== 1)) return { reason: 'pads ≠ 1' };
  const [n, xc, h, w] = xs.shape;
  if (xs.shape.length !== 4 || xc !== c || typeof h !== 'number' || typeof w !== 'number')
    return { reason: 'C, H, W not static' };
  return { n: n!, c, o, h, w };
}

/**
 * A new graph in which every eligible Conv (float32, 3×3, stride 1, dilation 1, group 1, pads 1,
 * static C, H, W; any batch N, static or symbolic; C ≥ minChannels; `layers` true) is replaced by
 * its Winograd subgraph, writing the Conv's output name; everything else is untouched (the same
 * nodes, in order). The input graph is not modified. Apply it to the forward graph, then build
 * gradients on the result: they flow through the subgraph with the ordinary rules.
 */
export function winogradRewrite(graph: Graph, opts: WinogradOptions = {}): Graph {
  const { minChannels = 16, layers } = opts;
  const out = withoutNodes(graph);
  const b = new GraphBuilder(out);
  const consts = new Map<string, string>();
  const constant = (key: string, dims: number[], data: Float32Array) => {
    let name = consts.get(key);
    if (!name) consts.set(key, (name = b.constant({ dtype: 'float32', dims, data }, `winograd_${key}`)));
    return name;
  };

  for (const node of graph.nodes) {
    const e = winogradEligibility(graph, node);
    const keep = () => out.nodes.push({ ...node, inputs: [...node.inputs], outputs: [...node.outputs] });
    if (e.reason || e.c! < minChannels || (layers && !layers(node))) {
      keep();
      continue;
    }
    const l: WinogradLayer = { node, c: e.c!, o: e.o!, h: e.h!, w: e.w! };
    const custom = typeof opts.plan === 'function' ? opts.plan(l) : (opts.plan ?? {});
    if (!custom) {
      keep();
      continue;
    }
    const plan: WinogradPlan = { ...defaultPlan(l), ...custom };
    emit(b, node, { ...plan, n: e.n!, c: l.c, o: l.o, h: l.h, w: l.w, m: plan.tile }, constant);
  }
  return out;
}

interface Sizes extends WinogradPlan {
  n: Dim;
  c: number;
  o: number;
  h: number;
  w: number;
  m: 2 | 4;
}

/** One Conv's rewrite: its sizes, and node builders named after it. */
interface Emitter extends Sizes {
  b: GraphBuilder;
  a: number;
  a2: number;
  /** Tiles down and across; they cover (Hp, Wp) ⊇ (H, W), the extra (zero input) sliced off at the end. */
  th: number;
  tw: number;
  Hp: number;
  Wp: number;
  T: number;
  tc: boolean;
  constant: (key: string, dims: number[], data: Float32Array) => string;
  one: (op: string, inputs: string[], attrs: Node['attrs'], shape: Shape) => string;
  reshape: (x: string, target: number[], shape: Shape) => string;
  transpose: (x: string, perm: number[], shape: Shape) => string;
}

function emit(
  b: GraphBuilder,
  node: Node,
  s: Sizes,
  constant: (key: string, dims: number[], data: Float32Array) => string,
): void {
  const [X, W, B] = node.inputs as [string, string, string | undefined];
  const a = s.m + 2;
  const [th, tw] = [Math.ceil(s.h / s.m), Math.ceil(s.w / s.m)];
  const hint = `${node.name}_wino`;
  const one = (op: string, inputs: string[], attrs: Node['attrs'], shape: Shape) =>
    b.node(op, inputs, attrs, [{ dtype: 'float32', shape }], hint)[0]!;
  const e: Emitter = {
    ...s,
    b,
    a,
    a2: a * a,
    th,
    tw,
    Hp: th * s.m,
    Wp: tw * s.m,
    T: th * tw,
    tc: s.orientation === 'TC',
    constant,
    one,
    reshape: (x, target, shape) => one('Reshape', [x, b.int64s(target, 'shape')], {}, shape),
    transpose: (x, perm, shape) => one('Transpose', [x], { perm: { type: 'ints', value: perm } }, shape),
  };
  const v = inputTransform(e, X);
  const u = kernelTransform(e, W);
  const { n, a2, T, o } = e;
  const mm = e.tc ? one('MatMul', [v, u], {}, [n, a2, T, o]) : one('MatMul', [u, v], {}, [n, a2, o, T]);
  const y = outputTransform(e, mm);
  // y: (N, O, Hp, Wp) → (N, O, H, W) + bias, written to the Conv's output name.
  const cut = e.Hp === e.h && e.Wp === e.w ? y : b.slice(y, [0, 0], [e.h, e.w], [2, 3]);
  const inputs = B ? [cut, e.reshape(B, [o, 1, 1], [o, 1, 1])] : [cut];
  b.graph.nodes.push({
    op: B ? 'Add' : 'Identity',
    inputs,
    outputs: [node.outputs[0]!],
    attrs: {},
    name: `${hint}_out`,
  });
}

const ints = (value: number[]) => ({ type: 'ints' as const, value });
const convAttrs = (k: number, stride: number, pads: number[]) => ({
  kernel_shape: ints([k, k]),
  strides: ints([stride, stride]),
  pads: ints(pads),
  dilations: ints([1, 1]),
});

/** Bᵀ·d·B for every tile of X: (N, α², C, T) for 'OC', (N, α², T, C) for 'TC'. */
function inputTransform(e: Emitter, X: string): string {
  const { b, n, c, h: H, w: Wd, m, a, a2, th, tw, Wp, T, constant, one, reshape, transpose } = e;
  const { Bt } = MATRICES[m];
  // Input transform Bᵀ·d·B for every tile, as strided Convs.
  // Channels stacked as the rows of one tall image, each padded to P = m·(th+1) rows (1 on top,
  // the rest below), so window row r = ch·(th+1) + t is tile row t of channel ch (t = th: junk
  // across two channels, sliced off). The Convs see one big image (big GEMMs, not C tiny ones),
  // and their output is already (N, α², C, …): no transpose. Columns are padded by the Convs.
  const P = m * (th + 1);
  const pads = b.int64s([0, 0, 1, 0, 0, 0, P - H - 1, 0], 'pads');
  const padded = one('Pad', [X, pads], { mode: { type: 'string', value: 'constant' } }, [n, c, P, Wd]);
  const tall = reshape(padded, [0, 1, c * P, Wd], [n, 1, c * P, Wd]);
  let v1: string;
  if (e.input === 'sep') {
    // Bᵀ·d·B as two 1-D passes: rows (α taps per output) then columns, each a Conv.
    const K1 = constant(`B${m}rows`, [a, 1, a, 1], Float32Array.from(Bt.flat()));
    const K2 = constant(`B${m}cols`, [a, 1, 1, a], Float32Array.from(Bt.flat()));
    const r0 = one(
      'Conv',
      [tall, K1],
      { ...convAttrs(1, 1, [0, 0, a - m, 0]), kernel_shape: ints([a, 1]), strides: ints([m, 1]) },
      [n, a, c * (th + 1), Wd],
    );
    const na: Dim = typeof n === 'number' ? n * a : `${n}*${a}`;
    const r1 = reshape(r0, [-1, 1, c * (th + 1), Wd], [na, 1, c * (th + 1), Wd]);
    const r2 = one(
      'Conv',
      [r1, K2],
      { ...convAttrs(1, 1, [0, 1, 0, Wp - Wd + 1]), kernel_shape: ints([1, a]), strides: ints([1, m]) },
      [na, a, c * (th + 1), tw],
    );
    v1 = reshape(r2, [-1, a2, c, th + 1, tw], [n, a2, c, th + 1, tw]);
  } else {
    const v0 = one(
      'Conv',
      [tall, constant(`B${m}`, [a2, 1, a, a], kron2(Bt))],
      convAttrs(a, m, [0, 1, a - m, Wp - Wd + 1]),
      [n, a2, c * (th + 1), tw],
    );
    v1 = reshape(v0, [0, a2, c, th + 1, tw], [n, a2, c, th + 1, tw]);
  }
  const v2 = b.slice(v1, [0], [th], [3]);
  const v3 = reshape(v2, [0, a2, c, T], [n, a2, c, T]);
  // (N, α², C, T) for 'OC'; (N, α², T, C) for 'TC' (the runtime fuses this transpose into the MatMul)
  return e.orientation === 'OC' ? v3 : transpose(v3, [0, 1, 3, 2], [n, a2, T, c]);
}

/** G·g·Gᵀ for every kernel: U (α², O, C) for 'OC', Uᵀ (α², C, O) for 'TC'. */
function kernelTransform(e: Emitter, W: string): string {
  const { c, o, m, a2, tc, constant, one, reshape, transpose } = e;
  const { G } = MATRICES[m];
  // Kernel transform G·g·Gᵀ on the weight value: (O·C, 9) × kron(G, G)ᵀ (9, α²).
  // As Gemm(K_G (α², 9), W (O·C, 9), transB): already (α², O·C), no transpose even where the
  // runtime does not fold it (a DequantizeLinear weight is not folded by default). 'TC' wants
  // Uᵀ (α², C, O): the weight is transposed to (C, O, 3, 3) first, so the folding never copies
  // the 4× larger U.
  const KG = constant(`G${m}`, [a2, 9], kron2(G));
  const wr = tc
    ? reshape(transpose(W, [1, 0, 2, 3], [c, o, 3, 3]), [c * o, 9], [c * o, 9])
    : reshape(W, [o * c, 9], [o * c, 9]);
  const u0 = one('Gemm', [KG, wr], { transB: { type: 'int', value: 1 } }, [a2, o * c]);
  return tc ? reshape(u0, [a2, c, o], [a2, c, o]) : reshape(u0, [a2, o, c], [a2, o, c]);
}

/** Aᵀ·m·A for every tile of the product, the tiles interleaved back into (N, O, Hp, Wp). */
function outputTransform(e: Emitter, mm: string): string {
  const { n, o, m, a, a2, th, tw, Hp, Wp, T, tc, constant, one, reshape, transpose } = e;
  const { At } = MATRICES[m];
  // Aᵀ·m·A over the leading α² axis of M (N, α², X), X = O·T or T·O: → (N, m, m, X).
  const len = o * T;
  let y0: string;
  if (e.output === 'sep') {
    // Two 1-D passes: contract ξ, then ν (Aᵀ broadcast over the leading axes): 2.7× fewer MACs.
    const Am = constant(`A${m}1d`, [m, a], Float32Array.from(At.flat()));
    const p0 = one('MatMul', [Am, reshape(mm, [0, a, a * len], [n, a, a * len])], {}, [n, m, a * len]);
    y0 = one('MatMul', [Am, reshape(p0, [0, m, a, len], [n, m, a, len])], {}, [n, m, m, len]);
  } else {
    const KA = constant(`A${m}`, [m * m, a2], kron2(At));
    y0 = one('MatMul', [KA, reshape(mm, [0, a2, len], [n, a2, len])], {}, [n, m * m, len]);
  }
  // Interleave the tiles: (N, a, b, O, ty, tx) → (N, O, ty, a, tx, b) in one Transpose ('OC'); for
  // 'TC', (N, a, b, ty, tx, O) → (N, ty, a, tx, b, O) moves runs of O contiguous values, then the
  // channels go first as one 2-D transpose (HW, O) → (O, HW): several times faster than one 6-D
  // Transpose that gathers single values.
  let y2: string;
  if (tc) {
    const y1 = reshape(y0, [0, m, m, th, tw, o], [n, m, m, th, tw, o]);
    const nhwc = reshape(transpose(y1, [0, 3, 1, 4, 2, 5], [n, th, m, tw, m, o]), [0, Hp * Wp, o], [n, Hp * Wp, o]);
    y2 = transpose(nhwc, [0, 2, 1], [n, o, Hp * Wp]);
  } else {
    const y1 = reshape(y0, [0, m, m, o, th, tw], [n, m, m, o, th, tw]);
    y2 = transpose(y1, [0, 3, 4, 1, 5, 2], [n, o, th, m, tw, m]);
  }
  return reshape(y2, [0, o, Hp, Wp], [n, o, Hp, Wp]);
}
