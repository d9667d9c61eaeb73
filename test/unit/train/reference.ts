/**
 * Plain float64 JavaScript references for the training graphs: the model's forward and loss (conv
 * trunk, feature standardisation, dense or GAP head, dropout mask, softmax cross-entropy) and the two
 * optimizers' update formulas, written out loop by loop from their definitions, independent of the
 * graph builder and of onnxruntime.
 */
import type { ModelSpec } from '../../../src/core/train/graphs';
import { HEAD_PARAM } from '../../../src/core/train/heads';

export type Tensors = Record<string, ArrayLike<number>>;

/** 3×3 convolution, stride 1, zero padding 1, then bias and ReLU: x (C, H, W) → (O, H, W). */
function convRelu(
  x: Float64Array,
  c: number,
  h: number,
  w: number,
  k: ArrayLike<number>,
  bias: ArrayLike<number>,
  o: number,
): Float64Array {
  const y = new Float64Array(o * h * w);
  for (let oc = 0; oc < o; oc++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < w; j++) {
        let s = bias[oc]!;
        for (let ic = 0; ic < c; ic++)
          for (let di = 0; di < 3; di++)
            for (let dj = 0; dj < 3; dj++) {
              const [ii, jj] = [i + di - 1, j + dj - 1];
              if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue;
              s += k[((oc * c + ic) * 3 + di) * 3 + dj]! * x[(ic * h + ii) * w + jj]!;
            }
        y[(oc * h + i) * w + j] = Math.max(s, 0);
      }
  return y;
}

function maxPool2(x: Float64Array, c: number, h: number, w: number): Float64Array {
  const [ho, wo] = [h / 2, w / 2];
  const y = new Float64Array(c * ho * wo);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < ho; i++)
      for (let j = 0; j < wo; j++) {
        let m = -Infinity;
        for (let a = 0; a < 2; a++)
          for (let b = 0; b < 2; b++) m = Math.max(m, x[(ch * h + 2 * i + a) * w + 2 * j + b]!);
        y[(ch * ho + i) * wo + j] = m;
      }
  return y;
}

/** Logits of one sample. */
export function referenceLogits(
  m: ModelSpec,
  t: Tensors,
  features: ArrayLike<number>,
  mask?: ArrayLike<number>,
): Float64Array {
  let x: Float64Array = Float64Array.from(features);
  if (m.trunk) {
    const [, h, w] = m.trunk.inputShape;
    let c = m.trunk.inputShape[0];
    for (const l of m.trunk.layers) {
      x = convRelu(x, c, h, w, t[`${l.name}/kernel`]!, t[`${l.name}/bias`]!, l.cout);
      c = l.cout;
    }
    x = maxPool2(x, c, h, w);
  }
  const [c, h, w] = m.head.featureShape;
  const mean = t[HEAD_PARAM.normMean]!;
  const scale = t[HEAD_PARAM.normScale]!;
  const z = x.map((v, i) => (v - mean[Math.floor(i / (h * w))]!) * scale[Math.floor(i / (h * w))]!);
  const dense = (v: ArrayLike<number>, k: ArrayLike<number>, b: ArrayLike<number>, out: number) =>
    Float64Array.from({ length: out }, (_, o) => {
      let s = b[o]!;
      for (let i = 0; i < v.length; i++) s += k[o * v.length + i]! * v[i]!;
      return s;
    });
  const n = m.head.classes;
  if (m.head.kind === 'gap') {
    const pooled = Float64Array.from({ length: c }, (_, ch) => {
      let s = 0;
      for (let i = 0; i < h * w; i++) s += z[ch * h * w + i]!;
      return s / (h * w);
    });
    return dense(pooled, t[HEAD_PARAM.logitsKernel]!, t[HEAD_PARAM.logitsBias]!, n);
  }
  const hid = dense(z, t[HEAD_PARAM.hiddenKernel]!, t[HEAD_PARAM.hiddenBias]!, m.head.hidden).map(
    (v, i) => Math.max(v, 0) * (mask ? mask[i]! : 1),
  );
  return dense(hid, t[HEAD_PARAM.logitsKernel]!, t[HEAD_PARAM.logitsBias]!, n);
}

/** Mean softmax cross-entropy over a batch. */
export function referenceLoss(
  m: ModelSpec,
  t: Tensors,
  batch: { features: ArrayLike<number>; label: number; mask?: ArrayLike<number> }[],
): number {
  let sum = 0;
  for (const s of batch) {
    const z = referenceLogits(m, t, s.features, s.mask);
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((a, v) => a + Math.exp(v - max), 0));
    sum += lse - z[s.label]!;
  }
  return sum / batch.length;
}

/** Keras 3 RMSprop, one step. */
export function rmspropStep(
  p: ArrayLike<number>,
  g: ArrayLike<number>,
  v: ArrayLike<number>,
  lr: number,
  rho = 0.9,
  eps = 1e-7,
) {
  const nv = Float64Array.from(v, (vi, i) => rho * vi + (1 - rho) * g[i]! * g[i]!);
  const np = Float64Array.from(p, (pi, i) => pi - (lr * g[i]!) / Math.sqrt(nv[i]! + eps));
  return { p: np, v: nv };
}

/** Keras 3 Adam, step t (1-based). */
export function adamStep(
  p: ArrayLike<number>,
  g: ArrayLike<number>,
  m: ArrayLike<number>,
  v: ArrayLike<number>,
  lr: number,
  t: number,
  b1 = 0.9,
  b2 = 0.999,
  eps = 1e-7,
) {
  const alpha = (lr * Math.sqrt(1 - b2 ** t)) / (1 - b1 ** t);
  const nm = Float64Array.from(m, (mi, i) => mi + (g[i]! - mi) * (1 - b1));
  const nv = Float64Array.from(v, (vi, i) => vi + (g[i]! * g[i]! - vi) * (1 - b2));
  const np = Float64Array.from(p, (pi, i) => pi - (nm[i]! * alpha) / (Math.sqrt(nv[i]!) + eps));
  return { p: np, m: nm, v: nv };
}

/** max |a − b| / max |b|. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / Math.max(s, 1e-30);
}
