/**
 * Grad-CAM's channel weights without the gradient map, where the maths allows it.
 *
 * Grad-CAM needs only α_c = mean_hw ∂y/∂A_c, not the map ∂y/∂A itself. When A feeds a max pool P
 * whose flattened output enters a dense layer z = W·flatten(P) + b (VGG16: block5_conv3 → block5_pool
 * → fc1), then
 *
 *   Σ_hw ∂y/∂A_c,hw = Σ_ij ∂y/∂P_c,ij                 max-pool backward hands each window's gradient
 *                                                      to one cell of that window: sums are kept
 *                   = Σ_ij Σ_n ∂y/∂z_n · W_n,(c,ij)   the dense layer's input gradient
 *                   = Σ_n ∂y/∂z_n · S_n,c             with S_n,c = Σ_ij W_n,(c,ij)
 *
 * so α = (∂y/∂z)·S / (H·W) (a dense layer split into row blocks, one Gemm each, sums block by block).
 * S is W summed over space, a constant that onnxruntime folds once at session
 * creation (VGG16: 4096×512 instead of fc1's 4096×25088), and the backward stops at z. This skips the
 * transposed product with fc1 — a 411 MB fp32 read per frame and a second pre-packed copy of it.
 * The result equals the full backward up to float summation order (test/unit/graphs/cam-weights.test.ts).
 */
import { backward, type Target } from '../autodiff/backward';
import type { GraphBuilder } from '../onnx/builder';
import type { Node } from '../onnx/ir';
import { readAttrs } from '../onnx/ir';
import type { WeightRef } from '../vgg16/graph';

/**
 * Channel weights α [B, C, 1, 1] of Grad-CAM for the conv output `A` (the book's recipe); `shortcut:
 * false` always takes the mean of the full gradient map (the tests' reference).
 */
export function gradcamWeights(
  b: GraphBuilder,
  A: string,
  targets: Target[],
  shortcut = true,
  rowSums?: WeightRef['rowSums'],
): string {
  const dense = shortcut ? poolFlattenDense(b, A) : undefined;
  if (!dense) {
    const grad = backward(b, targets, [A]).get(A);
    if (!grad) throw new Error(`the score does not depend on '${A}'`);
    return b.reduce('ReduceMean', grad, [2, 3], true);
  }
  const { z, kernels, transB } = dense;
  const dz = backward(b, targets, [z]).get(z);
  if (!dz) throw new Error(`the score does not depend on '${A}'`);
  const [batch, C, H, W] = b.staticShape(A) as [number, number, number, number];
  const pooled = b.staticShape(dense.pooled);
  const cells = pooled[2]! * pooled[3]!;
  // S = W summed over each channel's pooled cells: [N, C] (transB = 1) or [C, N] (transB = 0),
  // block by block when the dense layer runs as several Gemms (row blocks of the kernel).
  // Where the caller holds a kernel's bytes, S comes as a constant: folding the Reshape + ReduceSum
  // below materialises a reshaped fp32 copy of the kernel at session creation (VGG16 fc1: 411 MB).
  const sums = kernels.map((k) => {
    const n = b.staticShape(k)[transB ? 0 : 1]!;
    const known = transB ? rowSums?.(k, C) : undefined;
    if (known) return b.constant({ dtype: 'float32', dims: [n, C], data: known }, 'fc_spatial_sums');
    return transB
      ? b.reduce('ReduceSum', b.reshape(k, [n, C, cells]), [2], false)
      : b.reduce('ReduceSum', b.reshape(k, [C, cells, n]), [1], false);
  });
  const S = sums.length === 1 ? sums[0]! : b.concat(sums, transB ? 0 : 1);
  const alpha = transB ? b.matmul(dz, S) : b.gemm(dz, S, undefined, { transB: 1 });
  return b.reshape(b.mul(alpha, b.scalar(1 / (H * W))), [batch, C, 1, 1]);
}

/** The only consumer of `value`, if it has exactly one. */
function soleConsumer(nodes: Node[], value: string): Node | undefined {
  const users = nodes.filter((n) => n.inputs.includes(value));
  return users.length === 1 ? users[0] : undefined;
}

/**
 * A → MaxPool (no padding) → Flatten(axis 1) → the dense layer: one plain Gemm, or several (row or
 * column blocks of the kernel, same attributes) whose outputs one Concat joins along the features.
 * Returns the dense layer's output z and its kernel blocks in output order.
 */
function poolFlattenDense(
  b: GraphBuilder,
  A: string,
): { pooled: string; z: string; kernels: string[]; transB: boolean } | undefined {
  const nodes = b.graph.nodes;
  const pool = soleConsumer(nodes, A);
  if (pool?.op !== 'MaxPool' || pool.outputs.length !== 1) return undefined;
  const at = readAttrs(pool);
  if (at.ints('pads', []).some((p) => p !== 0) || at.ints('dilations', []).some((d) => d !== 1)) return undefined;
  if (at.string('auto_pad', 'NOTSET') !== 'NOTSET') return undefined;
  const pooled = pool.outputs[0]!;
  const flat = soleConsumer(nodes, pooled);
  if (flat?.op !== 'Flatten' || readAttrs(flat).int('axis', 1) !== 1) return undefined;
  const features = flat.outputs[0]!;
  const gemms = nodes.filter((n) => n.inputs.includes(features));
  const plain = (n: Node) => {
    const at = readAttrs(n);
    return n.op === 'Gemm' && n.inputs[0] === features && at.int('transA', 0) === 0 && at.float('alpha', 1) === 1;
  };
  if (!gemms.length || !gemms.every(plain)) return undefined;
  const transposed = (n: Node) => readAttrs(n).int('transB', 0) === 1;
  const transB = transposed(gemms[0]!);
  if (gemms.some((n) => transposed(n) !== transB)) return undefined;
  const shape = b.shape(A);
  if (shape.length !== 4 || shape.some((d) => typeof d !== 'number')) return undefined;
  if (gemms.length === 1) return { pooled, z: gemms[0]!.outputs[0]!, kernels: [gemms[0]!.inputs[1]!], transB };
  // Blocks: every output read only by one Concat along axis 1, which takes nothing else.
  const join = soleConsumer(nodes, gemms[0]!.outputs[0]!);
  if (join?.op !== 'Concat' || readAttrs(join).int('axis', 0) !== 1 || join.inputs.length !== gemms.length)
    return undefined;
  const byOutput = new Map(gemms.map((n) => [n.outputs[0]!, n]));
  const ordered = join.inputs.map((i) => byOutput.get(i));
  if (ordered.some((n) => !n || soleConsumer(nodes, n.outputs[0]!) !== join)) return undefined;
  return { pooled, z: join.outputs[0]!, kernels: ordered.map((n) => n!.inputs[1]!), transB };
}
