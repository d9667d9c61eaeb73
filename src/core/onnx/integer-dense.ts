/**
 * Dense layers on int8 weights as integer products, not on fp32 copies of them.
 *
 * An int8 bundle's dense layer is z = x·Wᵀ + bias with W = s ⊙ Q (Q int8 (N, K), one scale per row).
 * onnxruntime folds the DequantizeLinear into an fp32 W at session creation and packs it again for
 * its GEMM: for VGG16's fc1 that is 411 MB twice, from 103 MB of int8. Instead x is split, per frame,
 * into two integer rows with one zero point (128) and two scales s₁ = max|x|/127, s₂ = s₁/254:
 *
 *   x = s₁·(q₁ − 128) + s₂·(q₂ − 128) + e,   q₁ = round(x/s₁) + 128,  q₂ = round((x − s₁·(q₁ − 128))/s₂) + 128,
 *   |e| ≤ s₂/2 = max|x|/64516                 (16 bits of x, not 8)
 *
 *   z_n = s_n·(s₁·Σ_k (q₁k − 128)·Q_nk + s₂·Σ_k (q₂k − 128)·Q_nk) + bias_n
 *
 * both sums one MatMulInteger((q₁; q₂), Qᵀ, 128): Q is read once for the two rows. One 8-bit row
 * alone (onnxruntime's DynamicQuantizeLinear) can flip the top-1 class of a clearly decided frame
 * (test/unit/graphs/int8-fidelity.test.ts); with the second row the error is far below int8 weights'.
 * The head's session holds about half the memory and runs as fast; the first frames are slower while
 * V8 tiers up the integer kernels (README, benchmark).
 *
 * Rewritten: every Gemm(x, DequantizeLinear(Q int8, s, axis 0, no zero point), bias?) with
 * alpha = beta = 1 and transA = 0 — transB = 1 as above, or transB = 0, the product the gradient
 * generator emits through the kernel (dz·W = (dz ⊙ s)·Q: the scale goes on the split row, not the
 * result) — and every row Gather of W (rows of Q times their scales), provided these are all the
 * dequantized kernel's readers; a kernel with any other reader keeps its fp32 form. Several Gemms
 * on one x (a kernel stored in row blocks) share one split of x. MatMulInteger has no gradient
 * rule, so the rewrite runs after any backward was generated. In the live head this takes fc1, fc2
 * (forward and Grad-CAM's product) and predictions (forward and the class row).
 */
import { GraphBuilder } from './builder';
import type { Graph, Node } from './ir';
import { readAttrs, withoutNodes } from './ir';

/** The int8 kernel Q (rows, cols) and its scale (per row, or one) behind a DequantizeLinear. */
interface Kernel {
  dq: Node;
  q: string;
  scale: string;
  perRow: boolean;
}

/** How one reader of a dequantized kernel W is rewritten. */
type Plan = Kernel & { w: string } & (
    | { kind: 'gather'; indices: string } // rows of W
    | { kind: 'product'; x: string; transB: boolean } // x·Wᵀ (transB) or x·W
  );

export function integerDenseRewrite(graph: Graph): Graph {
  const out = withoutNodes(graph);
  const b = new GraphBuilder(out);
  const producer = new Map(graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  /** x → its two-row split, made once. */
  const quantized = new Map<string, Split>();

  const kernel = (w: string): Kernel | undefined => {
    const dq = producer.get(w);
    if (dq?.op !== 'DequantizeLinear' || dq.inputs.length > 2) return undefined;
    const [q, scale] = dq.inputs as [string, string];
    const scaleDims = b.staticShape(scale);
    const perRow = scaleDims.length === 1 && readAttrs(dq).int('axis', 1) === 0;
    if (b.dtype(q) !== 'int8' || b.staticShape(q).length !== 2) return undefined;
    if (!perRow && scaleDims.reduce((p, d) => p * d, 1) !== 1) return undefined;
    return { dq, q, scale, perRow };
  };
  const eligible = (n: Node): Plan | undefined => {
    if (n.op === 'Gather' && readAttrs(n).int('axis', 0) === 0) {
      const [w, indices] = n.inputs as [string, string];
      const k = kernel(w);
      return k && { ...k, w, kind: 'gather', indices };
    }
    if (n.op !== 'Gemm') return undefined;
    const at = readAttrs(n);
    if (at.int('transA', 0) !== 0 || at.float('alpha', 1) !== 1 || at.float('beta', 1) !== 1) return undefined;
    const [x, w] = n.inputs as [string, string];
    const k = kernel(w);
    if (!k || b.dtype(x) !== 'float32' || b.shape(x).length !== 2) return undefined;
    return { ...k, w, kind: 'product', x, transB: at.int('transB', 0) === 1 };
  };
  const candidates = new Map(graph.nodes.map((n) => [n, eligible(n)] as const));
  // A kernel goes integer only if every reader of its fp32 form is such a Gemm or a row Gather (fc2:
  // the forward and Grad-CAM's product through it; predictions: the forward and the class row).
  const allEligible = (w: string) => graph.nodes.every((n) => !n.inputs.includes(w) || candidates.get(n)?.w === w);
  const plans = new Map<Node, Plan>();
  for (const [n, p] of candidates) if (p && allEligible(p.w)) plans.set(n, p);
  const dropped = new Set([...plans.values()].map((p) => p.dq));
  for (const dq of dropped) out.values.delete(dq.outputs[0]!);

  /** x·Wᵀ = (x·Qᵀ) ⊙ s, the scale on the result's columns; x·W = (x ⊙ s)·Q, the scale on x's. */
  const product = (p: Plan & { kind: 'product' }): string => {
    const key = p.transB ? p.x : `${p.x} ⊙ ${p.scale}`;
    let split = quantized.get(key);
    if (!split) quantized.set(key, (split = splitTwice(b, p.transB ? p.x : b.mul(p.x, p.scale))));
    const { q, s1, s2 } = split;
    const [m] = b.staticShape(p.x) as [number];
    const [rowsQ, colsQ] = b.staticShape(p.q) as [number, number];
    const [kernelB, n] = p.transB ? [b.transpose(p.q, [1, 0]), rowsQ] : [p.q, colsQ];
    const acc = b.cast(
      b.node('MatMulInteger', [q, kernelB, b.constant(ZERO_POINT, 'zero_point')], {}, [
        { dtype: 'int32', shape: [2 * m, n] },
      ])[0]!,
      'float32',
    );
    const rows = (from: number, s: string) => b.mul(b.slice(acc, [from], [from + m], [0]), s);
    const sum = b.add(rows(0, s1), rows(m, s2));
    return p.transB ? b.mul(sum, p.scale) : sum;
  };
  /** Rows of W: rows of Q, each times its scale. */
  const gatherRows = (p: Plan & { kind: 'gather' }): string => {
    const rows = b.cast(b.gather(p.q, p.indices, 0), 'float32');
    const rank = b.shape(p.indices).length;
    return b.mul(rows, p.perRow ? b.unsqueeze(b.gather(p.scale, p.indices, 0), [rank]) : p.scale);
  };

  for (const node of graph.nodes) {
    if (dropped.has(node)) continue;
    const p = plans.get(node);
    if (!p) {
      out.nodes.push({ ...node, inputs: [...node.inputs], outputs: [...node.outputs] });
      continue;
    }
    const value = p.kind === 'gather' ? gatherRows(p) : product(p);
    const bias = p.kind === 'product' ? node.inputs[2] : undefined;
    const z = node.outputs[0]!;
    out.nodes.push({
      op: bias ? 'Add' : 'Identity',
      inputs: bias ? [value, bias] : [value],
      outputs: [z],
      attrs: {},
      name: `${node.name ?? z}_int8`,
    });
  }
  return out;
}

const ZERO_POINT = { dtype: 'uint8' as const, dims: [], data: Uint8Array.of(128) };

interface Split {
  /** uint8 (2M, K): q₁'s rows, then q₂'s. */
  q: string;
  s1: string;
  s2: string;
}

/** x (M, K) ≈ s₁·(q₁ − 128) + s₂·(q₂ − 128), to within s₂/2 (module comment). */
function splitTwice(b: GraphBuilder, x: string): Split {
  const shape = b.staticShape(x);
  const f = (op: string, inputs: string[]) => b.node(op, inputs, {}, [{ dtype: 'float32', shape }])[0]!;
  const max = b.reduce('ReduceMax', b.abs(x), [0, 1], false);
  // An all-zero x gets scale 1/127 (any scale is exact for it) instead of 0/0.
  const s1 = b.div(b.where(b.greater(max, b.scalar(0)), max, b.scalar(1)), b.scalar(127));
  const s2 = b.div(s1, b.scalar(254));
  const q1 = f('Round', [b.div(x, s1)]);
  const rest = b.sub(x, b.mul(q1, s1));
  const q2 = f('Clip', [f('Round', [b.div(rest, s2)]), b.scalar(-127), b.scalar(127)]);
  const q = b.cast(b.add(b.concat([q1, q2], 0), b.scalar(128)), 'uint8');
  return { q, s1, s2 };
}
