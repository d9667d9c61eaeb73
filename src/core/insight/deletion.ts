/**
 * Faithfulness of a saliency map by the deletion curve (Petsiuk et al., RISE, 2018): remove the
 * most salient pixels first, in K equal steps, and record the class probability after each; the
 * area under that curve (fractions 0..1 on x) is the score: lower = the map found what the model
 * really uses. "Removed" pixels take the value of a blurred copy of the image (not black, which
 * would add edges of its own).
 *
 * Step k (0..K) replaces the first round(k·P/K) pixels of the order (P = S·S): step 0 is the image,
 * step K the fully blurred image; every step's mask contains the previous one.
 */
import type { Rng } from './random';
import { seeded } from './random';

export interface Rgba {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

export interface DeletionCurve {
  /** Fraction of pixels removed at each step, 0 … 1 (K + 1 values). */
  fractions: number[];
  /** The class probability at each step. */
  scores: number[];
  /** Trapezoidal area under scores over fractions. */
  auc: number;
}

/** 1-D Gaussian taps for sigma (radius 3σ), normalised to sum 1. */
function gaussian(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / sum);
}

/** Separable Gaussian blur of the RGB channels (edges clamped); alpha kept. */
export function blurRgba(img: Rgba, sigma: number): Rgba {
  const { width: w, height: h } = img;
  const k = gaussian(sigma);
  const r = (k.length - 1) / 2;
  const tmp = new Float64Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r]! * img.data[(y * w + Math.min(w - 1, Math.max(0, x + i))) * 4 + c]!;
        tmp[(y * w + x) * 3 + c] = s;
      }
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let i = -r; i <= r; i++) s += k[i + r]! * tmp[(Math.min(h - 1, Math.max(0, y + i)) * w + x) * 3 + c]!;
        data[(y * w + x) * 4 + c] = s;
      }
      data[(y * w + x) * 4 + 3] = img.data[(y * w + x) * 4 + 3]!;
    }
  return { width: w, height: h, data };
}

/** Pixel indices by saliency, highest first; ties in a seeded random order (not top rows first). */
export function deletionOrder(saliency: Float32Array, seed = 1): Uint32Array {
  const rng = seeded(seed);
  const tie = Float64Array.from(saliency, () => rng());
  return Uint32Array.from(saliency.keys()).sort((a, b) => saliency[b]! - saliency[a]! || tie[a]! - tie[b]!);
}

/** How many pixels step k of K removes. */
export function removedAt(k: number, steps: number, pixels: number): number {
  return Math.round((k * pixels) / steps);
}

/** The image at step k: the first removedAt(k) pixels of `order` taken from `blurred`. */
export function deletedImage(img: Rgba, blurred: Rgba, order: Uint32Array, count: number): Rgba {
  const data = new Uint8ClampedArray(img.data);
  for (let i = 0; i < count; i++) {
    const p = order[i]! * 4;
    data[p] = blurred.data[p]!;
    data[p + 1] = blurred.data[p + 1]!;
    data[p + 2] = blurred.data[p + 2]!;
  }
  return { width: img.width, height: img.height, data };
}

export function trapezoid(xs: readonly number[], ys: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < xs.length; i++) a += ((xs[i]! - xs[i - 1]!) * (ys[i]! + ys[i - 1]!)) / 2;
  return a;
}

/** Class probabilities of a batch of equally sized images, one row per image. */
export type Classify = (images: Rgba[]) => Promise<Float32Array[]>;

export interface DeletionOptions {
  /** K (default 16). */
  steps?: number;
  /** Blur σ in px for the fill (default: width / 16, blurry enough to erase object detail). */
  sigma?: number;
  /** Images per classify call (default 8). */
  batch?: number;
  /** Seed of the tie order. */
  seed?: number;
}

/**
 * The deletion curve of `saliency` (one value per pixel of `img`, row-major) for class `cls`.
 * `img` must already be the network's input size.
 */
export async function deletionCurve(
  classify: Classify,
  img: Rgba,
  saliency: Float32Array,
  cls: number,
  o: DeletionOptions = {},
): Promise<DeletionCurve> {
  const { steps = 16, batch = 8, seed = 1 } = o;
  const pixels = img.width * img.height;
  if (saliency.length !== pixels) throw new RangeError(`saliency has ${saliency.length} values for ${pixels} pixels`);
  const blurred = blurRgba(img, o.sigma ?? img.width / 16);
  const order = deletionOrder(saliency, seed);
  const fractions = Array.from({ length: steps + 1 }, (_, k) => removedAt(k, steps, pixels) / pixels);
  const scores: number[] = [];
  for (let k0 = 0; k0 <= steps; k0 += batch) {
    const ks = Array.from({ length: Math.min(batch, steps + 1 - k0) }, (_, i) => k0 + i);
    const probs = await classify(ks.map((k) => deletedImage(img, blurred, order, removedAt(k, steps, pixels))));
    for (const p of probs) scores.push(p[cls]!);
  }
  return { fractions, scores, auc: trapezoid(fractions, scores) };
}

/** A random saliency map at h×w (to upsample like a CAM): the baseline a faithful map must beat. */
export function randomMap(rng: Rng, h: number, w: number): Float32Array {
  return Float32Array.from({ length: h * w }, () => rng());
}
