/**
 * VGG16 as a generated ONNX graph. The base (conv blocks) and the ImageNet head are assembled
 * separately so a custom head can be attached to the same base without touching it.
 */
import type { GraphBuilder } from '../onnx/builder';
import type { VggConfig } from './spec';
import { convLayers, denseLayers, layers } from './spec';

/** Returns the graph value holding a layer's float kernel or bias (initializer, or dequantized). */
export interface WeightRef {
  (layer: string, which: 'kernel' | 'bias'): string;
  /**
   * A dense kernel stored in row blocks (a bundle's shards split fc1): the float value of each block,
   * in order. Absent, or one block: use the whole kernel.
   */
  blocks?(layer: string): string[];
  /**
   * For a dense kernel value `value` (one stored block, rows × cols) whose bytes the caller holds:
   * each row's sums over `groups` equal runs of columns, as a (rows, groups) row-major array, or
   * undefined. Grad-CAM's shortcut takes fc1 summed over space from here, so onnxruntime does not
   * fold a reshaped copy of fc1 at session creation (src/core/graphs/cam-weights.ts).
   */
  rowSums?(value: string, groups: number): Float32Array | undefined;
}

/** Layer name → value name of its output (post-ReLU for conv and fc1/fc2, logits for predictions). */
export type Activations = Map<string, string>;

/**
 * The conv base from an NCHW image tensor up to `until` (inclusive; default block5_pool).
 * Keras applies ReLU inside each conv layer, so a conv layer's output is post-ReLU here too.
 */
export function vggBase(
  b: GraphBuilder,
  cfg: VggConfig,
  x: string,
  weight: WeightRef,
  until = 'block5_pool',
): Activations {
  const acts: Activations = new Map();
  let h = x;
  for (const l of layers(cfg)) {
    if (l.kind === 'dense') break;
    if (l.kind === 'conv') {
      const conv = b.conv(
        h,
        weight(l.name, 'kernel'),
        weight(l.name, 'bias'),
        { pads: [1, 1, 1, 1] },
        `${l.name}_preact`,
      );
      h = b.relu(conv, l.name);
    } else {
      h = b.maxPool(h, { kernel_shape: [2, 2], strides: [2, 2] }, l.name);
    }
    acts.set(l.name, h);
    if (l.name === until) break;
  }
  return acts;
}

/** fc1 → fc2 → predictions on block5_pool's output; returns the logits (pre-softmax). */
export function imagenetHead(
  b: GraphBuilder,
  cfg: VggConfig,
  pool5: string,
  weight: WeightRef,
  acts: Activations,
): string {
  let h = b.flatten(pool5, 1);
  for (const l of denseLayers(cfg)) {
    h = dense(b, h, weight, l.name);
    if (l.name !== 'predictions') h = b.relu(h, l.name);
    acts.set(l.name, h);
  }
  return h;
}

/**
 * x·Wᵀ + bias for a dense layer. A kernel stored in row blocks runs as one Gemm per block, outputs
 * concatenated: the runtime never materialises the whole fp32 kernel (fc1: 411 MB, and as much again
 * while folding a Concat of its blocks), and each block fits a 128 MiB WebGPU storage binding.
 */
function dense(b: GraphBuilder, x: string, weight: WeightRef, layer: string): string {
  const blocks = weight.blocks?.(layer) ?? [];
  const bias = weight(layer, 'bias');
  if (blocks.length < 2) return b.gemm(x, weight(layer, 'kernel'), bias, { transB: 1 }, `${layer}_preact`);
  let row = 0;
  const outs = blocks.map((kernel) => {
    const rows = b.staticShape(kernel)[0]!;
    const part = b.slice(bias, [row], [row + rows], [0]);
    row += rows;
    return b.gemm(x, kernel, part, { transB: 1 }, `${layer}_block`);
  });
  return b.identity(b.concat(outs, 1), `${layer}_preact`);
}

/** Plain fp32 weights as inline initializers named `<layer>/kernel`, `<layer>/bias`. */
export function inlineWeights(
  b: GraphBuilder,
  cfg: VggConfig,
  w: Map<string, { kernel: Float32Array; bias: Float32Array }>,
): WeightRef {
  for (const l of [...convLayers(cfg), ...denseLayers(cfg)]) {
    const lw = w.get(l.name);
    if (!lw) continue;
    const dims = l.kind === 'conv' ? [l.cout, l.cin, 3, 3] : [l.units, l.inputs];
    b.initializer({ name: `${l.name}/kernel`, dtype: 'float32', dims, data: lw.kernel });
    b.initializer({ name: `${l.name}/bias`, dtype: 'float32', dims: [dims[0]!], data: lw.bias });
  }
  return (layer, which) => `${layer}/${which}`;
}
