/**
 * An independent reference: the Keras VGG built from TensorFlow.js layers (channels-last Conv2D with
 * 'same' padding and ReLU, MaxPooling2D 2/2, Flatten, Dense), loaded with weights in the layout of
 * the .h5 file (HWIO kernels, (in, out) dense, fc1 rows in (H, W, C) Flatten order). It shares no code
 * with our ONNX graph or the importers, so agreeing with it checks their transposes and fc1's permutation.
 */
import * as tf from '@tensorflow/tfjs';
import type { VggConfig } from '../../src/core/vgg16/spec';
import { layers } from '../../src/core/vgg16/spec';
import type { KerasWeights } from './vgg-fixtures';

export interface KerasForward {
  /** block5_pool, NHWC. */
  pool5: Float32Array;
  pool5Shape: number[];
  logits?: Float32Array;
  probs?: Float32Array;
}

/** Run the Keras-layout network on one NHWC image (1 × S × S × 3). */
export async function kerasForward(
  cfg: VggConfig,
  kw: KerasWeights,
  imageNhwc: Float32Array,
  includeTop: boolean,
): Promise<KerasForward> {
  await tf.setBackend('cpu');
  const S = cfg.inputSize;
  const input = tf.input({ shape: [S, S, 3], name: 'input_1' });
  let h = input;
  let pool5: tf.SymbolicTensor | undefined;
  for (const l of layers(cfg)) {
    if (l.kind === 'conv') {
      h = tf.layers
        .conv2d({ name: l.name, filters: l.cout, kernelSize: 3, padding: 'same', activation: 'relu' })
        .apply(h) as tf.SymbolicTensor;
    } else if (l.kind === 'pool') {
      h = tf.layers.maxPooling2d({ name: l.name, poolSize: 2, strides: 2 }).apply(h) as tf.SymbolicTensor;
      if (l.name === 'block5_pool') pool5 = h;
    } else {
      if (!includeTop) break;
      if (l.name === 'fc1') h = tf.layers.flatten({ name: 'flatten' }).apply(h) as tf.SymbolicTensor;
      const activation = l.name === 'predictions' ? 'linear' : 'relu';
      h = tf.layers.dense({ name: l.name, units: l.units, activation }).apply(h) as tf.SymbolicTensor;
    }
  }
  const model = tf.model({ inputs: input, outputs: includeTop ? [pool5!, h] : [pool5!] });
  for (const [name, k] of kw) {
    if (!includeTop && !name.startsWith('block')) continue;
    const t = [tf.tensor(k.kernel, k.kernelShape), tf.tensor1d(k.bias)];
    model.getLayer(name).setWeights(t);
    tf.dispose(t);
  }
  const x = tf.tensor4d(imageNhwc, [1, S, S, 3]);
  const outs = model.predict(x) as tf.Tensor | tf.Tensor[];
  const [p5, logits] = Array.isArray(outs) ? outs : [outs];
  const res: KerasForward = { pool5: (await p5!.data()) as Float32Array, pool5Shape: p5!.shape };
  if (logits) {
    const probs = tf.softmax(logits as tf.Tensor2D);
    res.logits = (await logits.data()) as Float32Array;
    res.probs = (await probs.data()) as Float32Array;
    probs.dispose();
  }
  tf.dispose([x, ...(Array.isArray(outs) ? outs : [outs])]);
  model.dispose();
  return res;
}

/** NCHW → NHWC for one image. */
export function nchwToNhwc(x: Float32Array, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) out[(i * W + j) * C + c] = x[(c * H + i) * W + j]!;
  return out;
}
