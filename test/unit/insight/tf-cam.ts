/**
 * An independent reference for the CAM variants: the VGG forward in TensorFlow.js ops (channels
 * last), the layer's output A and g = ∂logit_c/∂A from tf.grad, then each CAM formula written out
 * in plain float64 loops. Shares no code with the ONNX graphs or src/core/insight/cam.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { VggConfig, VggWeights } from '../../../src/core/vgg16/spec';
import { layers } from '../../../src/core/vgg16/spec';

/** A GAP head for the "custom classifier" case: mean over H, W of `layer`, then x·Wᵀ + b. */
export interface GapHead {
  layer: string;
  kernel: Float32Array; // (classes, C)
  bias: Float32Array;
  classes: number;
}

/** OIHW → HWIO. */
const hwio = (k: Float32Array, o: number, i: number) =>
  tf.tensor4d(k, [o, i, 3, 3]).transpose([2, 3, 1, 0]) as tf.Tensor4D;

function applyLayer(cfg: VggConfig, w: VggWeights, name: string, x: tf.Tensor): tf.Tensor {
  const l = layers(cfg).find((q) => q.name === name)!;
  if (l.kind === 'conv') {
    const lw = w.get(name)!;
    return tf.relu(
      tf.add(tf.conv2d(x as tf.Tensor4D, hwio(lw.kernel, l.cout, l.cin), 1, 'same'), tf.tensor1d(lw.bias)),
    );
  }
  if (l.kind === 'pool') return tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid');
  const lw = w.get(name)!;
  // fc1 rows are in NCHW flatten order.
  const flat = x.rank === 4 ? x.transpose([0, 3, 1, 2]).reshape([1, -1]) : x;
  const y = tf.add(
    tf.matMul(flat as tf.Tensor2D, tf.tensor2d(lw.kernel, [l.units, l.inputs]), false, true),
    tf.tensor1d(lw.bias),
  );
  return name === 'predictions' ? y : tf.relu(y);
}

/** A (C, H, W) and g (C, H, W) at `layer` for class `cls` (−1: the top-1 logit). */
export async function tfLayerGradient(
  cfg: VggConfig,
  w: VggWeights,
  imageNchw: Float32Array,
  layer: string,
  cls: number,
  head?: GapHead,
): Promise<{ A: Float64Array; g: Float64Array; dims: [number, number, number]; cls: number }> {
  await tf.setBackend('cpu');
  const names = layers(cfg).map((l) => l.name);
  const at = names.indexOf(layer);
  const S = cfg.inputSize;
  tf.engine().startScope();
  try {
    let x: tf.Tensor = tf.tensor4d(imageNchw, [1, 3, S, S]).transpose([0, 2, 3, 1]);
    for (const n of names.slice(0, at + 1)) x = applyLayer(cfg, w, n, x);
    const A = x;
    const logitsOf = (a: tf.Tensor): tf.Tensor => {
      if (head) {
        let h = a;
        for (const n of names.slice(at + 1, names.indexOf(head.layer) + 1)) h = applyLayer(cfg, w, n, h);
        const gap = tf.mean(h, [1, 2]);
        const C = h.shape[3]!;
        return tf.add(
          tf.matMul(gap as tf.Tensor2D, tf.tensor2d(head.kernel, [head.classes, C]), false, true),
          tf.tensor1d(head.bias),
        );
      }
      let h = a;
      for (const n of names.slice(at + 1)) h = applyLayer(cfg, w, n, h);
      return h;
    };
    const logits = logitsOf(A);
    const classes = logits.shape[1]!;
    const c = cls >= 0 ? cls : (logits.argMax(1).dataSync()[0] as number);
    const onehot = tf.oneHot([c], classes).toFloat();
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(logitsOf(a), onehot)))(A);
    const [, H, W, C] = A.shape as [number, number, number, number];
    const chw = (t: tf.Tensor) => Float64Array.from(t.transpose([0, 3, 1, 2]).dataSync());
    return { A: chw(A), g: chw(g), dims: [C, H, W] as [number, number, number], cls: c };
  } finally {
    tf.engine().endScope();
  }
}

/** The three CAMs from A and g (C, H, W), in plain loops; ReLU, then divided by the max. */
export function camReference(
  A: Float64Array,
  g: Float64Array,
  [C, H, W]: [number, number, number],
  method: string,
): Float64Array {
  const P = H * W;
  const cam = new Float64Array(P);
  for (let c = 0; c < C; c++) {
    const a = A.subarray(c * P, (c + 1) * P);
    const d = g.subarray(c * P, (c + 1) * P);
    if (method === 'layercam') {
      for (let p = 0; p < P; p++) cam[p] = cam[p]! + Math.max(d[p]!, 0) * a[p]!;
      continue;
    }
    let weight = 0;
    if (method === 'gradcam') {
      for (let p = 0; p < P; p++) weight += d[p]! / P;
    } else {
      let sumA = 0;
      for (let p = 0; p < P; p++) sumA += a[p]!;
      for (let p = 0; p < P; p++) {
        const gg = d[p]!;
        if (gg === 0) continue;
        const alpha = (gg * gg) / (2 * gg * gg + sumA * gg * gg * gg + 1e-7);
        weight += alpha * Math.max(gg, 0);
      }
    }
    for (let p = 0; p < P; p++) cam[p] = cam[p]! + weight * a[p]!;
  }
  let max = 0;
  for (let p = 0; p < P; p++) max = Math.max(max, (cam[p] = Math.max(cam[p]!, 0)));
  return max > 0 ? cam.map((v) => v / max) : cam;
}
