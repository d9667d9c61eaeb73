/**
 * An independent Grad-CAM: TensorFlow.js ops and tf.grad on the same weights (channels-last),
 * the way the book computes it. Shares no code with the ONNX graph it checks.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { VggConfig, VggWeights } from '../../src/core/vgg16/spec';
import { convLayers, denseLayers } from '../../src/core/vgg16/spec';

export interface TfGradCam {
  probs: Float32Array;
  heatmap: Float32Array;
  cls: number;
}

/** OIHW → HWIO. */
function hwio(kernel: Float32Array, o: number, i: number): tf.Tensor4D {
  return tf.tidy(() => tf.tensor4d(kernel, [o, i, 3, 3]).transpose([2, 3, 1, 0]) as tf.Tensor4D);
}

/**
 * `imageNchw` is the preprocessed input, 1×3×S×S. The conv base runs on the wasm backend (speed);
 * the head and tf.grad on the cpu backend (every gradient kernel exists there).
 */
export async function tfGradCam(
  cfg: VggConfig,
  w: VggWeights,
  imageNchw: Float32Array,
  target = -1,
  score: 'probability' | 'logit' = 'probability',
): Promise<TfGradCam> {
  const S = cfg.inputSize;
  await tf.setBackend('wasm');
  let x: tf.Tensor4D = tf.tensor4d(imageNchw, [1, 3, S, S]).transpose([0, 2, 3, 1]);
  for (const l of convLayers(cfg)) {
    const lw = w.get(l.name)!;
    const k = hwio(lw.kernel, l.cout, l.cin);
    const y = tf.relu(tf.add(tf.conv2d(x, k, 1, 'same'), tf.tensor1d(lw.bias))) as tf.Tensor4D;
    tf.dispose([x, k]);
    x = y;
    if (l.name === 'block5_conv3') break;
    if (l.name.endsWith(`conv${cfg.blocks[l.block - 1]!.length}`)) {
      const p = tf.maxPool(x, 2, 2, 'valid');
      x.dispose();
      x = p;
    }
  }
  const A = await x.data();
  const shape = x.shape;
  x.dispose();

  await tf.setBackend('cpu');
  const dense = denseLayers(cfg).map((l) => ({
    l,
    k: tf.tensor2d(w.get(l.name)!.kernel, [l.units, l.inputs]),
    b: tf.tensor1d(w.get(l.name)!.bias),
  }));
  const head = (a: tf.Tensor4D) => {
    // Flatten in NCHW order, matching fc1's row order (C, H, W).
    let h: tf.Tensor = tf.maxPool(a, 2, 2, 'valid').transpose([0, 3, 1, 2]).reshape([1, -1]);
    dense.forEach(({ l, k, b }) => {
      h = tf.add(tf.matMul(h as tf.Tensor2D, k, false, true), b);
      if (l.name !== 'predictions') h = tf.relu(h);
    });
    return h as tf.Tensor2D;
  };
  const a = tf.tensor4d(A, shape);
  const logits = head(a);
  const probs = tf.softmax(logits);
  const cls = target >= 0 ? target : (await logits.argMax(1).data())[0]!;
  const onehot = tf.oneHot([cls], cfg.classes).toFloat();
  const f = (t: tf.Tensor) =>
    tf.sum(tf.mul(score === 'logit' ? head(t as tf.Tensor4D) : tf.softmax(head(t as tf.Tensor4D)), onehot));
  const g = tf.grad(f)(a) as tf.Tensor4D;
  const alpha = tf.mean(g, [0, 1, 2]);
  const cam = tf.relu(tf.mean(tf.mul(a, alpha), 3).squeeze([0]));
  const max = (await cam.max().data())[0]!;
  const heat = max > 0 ? tf.div(cam, max) : cam;
  const result = { probs: (await probs.data()) as Float32Array, heatmap: (await heat.data()) as Float32Array, cls };
  tf.dispose([a, logits, probs, onehot, g, alpha, cam, heat, ...dense.flatMap((d) => [d.k, d.b])]);
  return result;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}
