/**
 * Classifier heads on top of the conv base, as graph builders shared by the training graphs and the
 * live graph (so the head trained is exactly the head run):
 *
 *   dense (the book): Flatten → Dense(hidden, ReLU) → Dropout(0.5) → Dense(n)
 *   gap:              GlobalAveragePooling → Dense(n)   (any input size; cheap live Grad-CAM)
 *
 * Both start with a fixed per-channel standardisation of the features, x' = (x − μ_c)·s_c, with μ and
 * s = 1/σ measured on the training features (Keras's Normalization layer, adapted): pretrained
 * VGG16 channels differ in scale by orders of magnitude, and random demo features have RMS ≈ 100 and
 * one dominant common direction (cosine ≈ 0.995 between any two photos), which leaves an
 * unstandardised head ill-conditioned for any single learning rate. μ and s are constants (graph
 * inputs while training, initializers when live), stored in the classifier file with the weights.
 *
 * Dense kernels use the base's layout, (out, in) with Gemm transB = 1; Flatten is NCHW order.
 * Dropout is Keras's inverted dropout: the training graph multiplies by a mask input whose entries
 * are 0 or 1/(1 − rate), drawn by the training loop from its seeded PRNG; inference uses no mask.
 */
import type { GraphBuilder } from '../onnx/builder';
import type { Rng } from './rng';

export type HeadKind = 'dense' | 'gap';

export interface HeadSpec {
  kind: HeadKind;
  classes: number;
  /** block5_pool's (C, H, W) for the input size the head is trained at. */
  featureShape: [number, number, number];
  /** Units of the hidden Dense layer (dense head only; the book's 256). */
  hidden: number;
  /** Dropout rate after the hidden layer (dense head only; the book's 0.5). */
  dropout: number;
}

export const BOOK_HIDDEN = 256;
export const BOOK_DROPOUT = 0.5;

export interface ParamSpec {
  name: string;
  dims: number[];
}

export const HEAD_PARAM = {
  normMean: 'head/norm/mean',
  normScale: 'head/norm/scale',
  hiddenKernel: 'head/hidden/kernel',
  hiddenBias: 'head/hidden/bias',
  logitsKernel: 'head/logits/kernel',
  logitsBias: 'head/logits/bias',
} as const;

export function headSpec(
  kind: HeadKind,
  classes: number,
  featureShape: [number, number, number],
  o: { hidden?: number; dropout?: number } = {},
): HeadSpec {
  return { kind, classes, featureShape, hidden: o.hidden ?? BOOK_HIDDEN, dropout: o.dropout ?? BOOK_DROPOUT };
}

/** The head's trainable tensors, in a fixed order (the classifier file stores them in this order). */
export function headParams(s: HeadSpec): ParamSpec[] {
  const [c, h, w] = s.featureShape;
  if (s.kind === 'gap')
    return [
      { name: HEAD_PARAM.logitsKernel, dims: [s.classes, c] },
      { name: HEAD_PARAM.logitsBias, dims: [s.classes] },
    ];
  return [
    { name: HEAD_PARAM.hiddenKernel, dims: [s.hidden, c * h * w] },
    { name: HEAD_PARAM.hiddenBias, dims: [s.hidden] },
    { name: HEAD_PARAM.logitsKernel, dims: [s.classes, s.hidden] },
    { name: HEAD_PARAM.logitsBias, dims: [s.classes] },
  ];
}

/** The head's fixed (not trained) tensors: the feature standardisation, (C, 1, 1) each. */
export function headConstants(s: HeadSpec): ParamSpec[] {
  const c = s.featureShape[0];
  return [
    { name: HEAD_PARAM.normMean, dims: [c, 1, 1] },
    { name: HEAD_PARAM.normScale, dims: [c, 1, 1] },
  ];
}

/**
 * μ_c and s_c = 1/√(σ_c² + ε) over (samples, h, w) of (C, H, W) feature maps, in float64. ε is 1e-3 of
 * the mean channel variance, so a channel that is constant on the training photos is not blown up
 * by a near-zero σ when a new photo lights it.
 */
export function featureStats(s: HeadSpec, features: readonly Float32Array[]): Record<string, Float32Array> {
  const [c, h, w] = s.featureShape;
  const hw = h * w;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  for (const f of features)
    for (let k = 0; k < c; k++)
      for (let j = 0; j < hw; j++) {
        const v = f[k * hw + j]!;
        sum[k] = sum[k]! + v;
        sq[k] = sq[k]! + v * v;
      }
  const count = Math.max(features.length * hw, 1);
  const mean = new Float32Array(c);
  const variance = new Float64Array(c);
  for (let k = 0; k < c; k++) {
    const m = sum[k]! / count;
    mean[k] = m;
    variance[k] = Math.max(sq[k]! / count - m * m, 0);
  }
  const eps = Math.max((1e-3 * variance.reduce((a, b) => a + b, 0)) / c, 1e-12);
  const scale = Float32Array.from(variance, (v) => 1 / Math.sqrt(v + eps));
  return { [HEAD_PARAM.normMean]: mean, [HEAD_PARAM.normScale]: scale };
}

/** Keras's defaults: Glorot-uniform kernels U(−l, l), l = √(6 / (fan_in + fan_out)); zero biases. */
export function initHead(s: HeadSpec, rng: Rng): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const p of headParams(s)) {
    const a = new Float32Array(p.dims.reduce((x, y) => x * y, 1));
    if (p.dims.length === 2) {
      const limit = Math.sqrt(6 / (p.dims[0]! + p.dims[1]!));
      for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-limit, limit);
    }
    out[p.name] = a;
  }
  return out;
}

/** The dropout mask's shape per sample (dense head), or undefined. */
export const dropoutWidth = (s: HeadSpec): number | undefined => (s.kind === 'dense' ? s.hidden : undefined);

/** (x − μ)·s per channel: the head's first, fixed step. Commutes with max-pooling, since s > 0. */
export function standardise(b: GraphBuilder, x: string, param: (name: string) => string): string {
  return b.mul(b.sub(x, param(HEAD_PARAM.normMean)), param(HEAD_PARAM.normScale), 'head_standardised');
}

/**
 * Logits (N, classes) from block5_pool-shaped features. `param` names each head tensor's graph value
 * (parameters and constants); `mask` (N, hidden), when given, is the training-time dropout mask.
 * `standardised`: the features are already standardised (the live graph standardises before the pool).
 */
export function headLogits(
  b: GraphBuilder,
  s: HeadSpec,
  features: string,
  param: (name: string) => string,
  mask?: string,
  standardised = false,
): string {
  const z = standardised ? features : standardise(b, features, param);
  if (s.kind === 'gap') {
    const pooled = b.flatten(b.globalAveragePool(z, 'head_gap'), 1);
    return b.gemm(pooled, param(HEAD_PARAM.logitsKernel), param(HEAD_PARAM.logitsBias), { transB: 1 }, 'head_logits');
  }
  const x = b.flatten(z, 1);
  let h = b.relu(
    b.gemm(x, param(HEAD_PARAM.hiddenKernel), param(HEAD_PARAM.hiddenBias), { transB: 1 }, 'head_hidden_preact'),
    'head_hidden',
  );
  if (mask) h = b.mul(h, mask, 'head_dropout');
  return b.gemm(h, param(HEAD_PARAM.logitsKernel), param(HEAD_PARAM.logitsBias), { transB: 1 }, 'head_logits');
}

/**
 * Softmax cross-entropy, mean over the batch (Keras's categorical_crossentropy from logits), and
 * accuracy (argmax agreement), both scalars. LogSoftmax keeps it stable; its gradient rule gives
 * (softmax − onehot)/N without forming the softmax's own Jacobian.
 */
export function lossAndAccuracy(b: GraphBuilder, logits: string, labels: string): { loss: string; accuracy: string } {
  const logp = b.logSoftmax(logits, 1);
  const perSample = b.reduce('ReduceSum', b.mul(labels, logp), [1], false);
  const loss = b.neg(b.reduce('ReduceMean', perSample, [0], false, 'loss_mean'));
  const hit = b.cast(b.equal(b.argMax(logits, 1, false), b.argMax(labels, 1, false)), 'float32');
  const accuracy = b.reduce('ReduceMean', hit, [0], false, 'accuracy_mean');
  return { loss, accuracy };
}
