/**
 * VGG16 as a generated ONNX graph. The base (conv blocks) and the ImageNet head are assembled
 * separately so a custom head can be attached to the same base without touching it.
 */
import type { GraphBuilder } from '../onnx/builder';
import type { VggConfig } from './spec';
import { convLayers, denseLayers, layers } from './spec';

/** Returns the graph value holding a layer's float kernel or bias (initializer, or dequantized). */
export type WeightRef = (layer: string, which: 'kernel' | 'bias') => string;

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
    h = b.gemm(h, weight(l.name, 'kernel'), weight(l.name, 'bias'), { transB: 1 }, `${l.name}_preact`);
    if (l.name !== 'predictions') h = b.relu(h, l.name);
    acts.set(l.name, h);
  }
  return h;
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
