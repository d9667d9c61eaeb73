/**
 * Filter visualisation by gradient ascent on the input (Deep Learning with Python, ch. 5): start
 * from gray noise (random·20 + 128, in pixel space), repeatedly step along the RMS-normalised
 * gradient of the filter's mean activation, then deprocess to an image. One session run of the
 * ascent graph (graphs.ts) is one step for a whole batch of filters.
 *
 * Regularisers (all optional, all off in BOOK_SETTINGS):
 * - jitter: each step the image is rolled by a random shift of up to `jitter` px (per image) and
 *   rolled back after the step, so no pattern can depend on exact pixel positions (tf-keras-vis,
 *   Lucid); done in JS between runs, seeded.
 * - tv: a total-variation term in the graph: the step direction becomes ĝ − tv·t̂, both normalised
 *   per image, t the gradient of Σ squared neighbour differences (a discrete Laplacian): each step
 *   also diffuses the image a little, which removes the checkerboard noise plain ascent amplifies.
 *   Normalised, the weight is relative and the same number works on every layer.
 * Small rotations and scales (Lucid's transforms) are not implemented: jitter and TV already give
 * structure; a per-step bilinear warp in JS beside `roll` would be where they go.
 */
import type { Rng } from './random';
import { randint, seeded } from './random';

export interface FilterSettings {
  /** Ascent steps (the book: 40). */
  steps: number;
  /** Step size in pixel units along the RMS-normalised gradient (the book: 1). */
  step: number;
  /** Input size of the ascent (multiple of 2^pools up to the layer; rounded up by the service). */
  size: number;
  /** Largest random shift in px per step (0: off). */
  jitter: number;
  /** Relative weight of the total-variation direction (0: off). */
  tv: number;
  /** Seeds the start noise and the jitter. */
  seed: number;
  /** Maximise the conv's output after its ReLU (the book) or before it (graphs.ts explains). */
  objective: 'activation' | 'preactivation';
}

/** The book's recipe exactly (at the book's 150 px rounded to a pool-friendly 160). */
export const BOOK_SETTINGS: FilterSettings = {
  steps: 40,
  step: 1,
  size: 160,
  jitter: 0,
  tv: 0,
  seed: 1,
  objective: 'activation',
};

/**
 * The defaults: the book's objective, 40 steps of size 1 from the book's noise, plus jitter (4 px)
 * and the TV direction at weight 0.6, at 128 px. Chosen by looking at block5_conv3 of the demo
 * VGG16 (random weights, 8 filters): the book's recipe gives pixel noise with at most a faint
 * texture (random deep filters are driven by high frequencies, and 40 unit steps do not outgrow
 * the start noise); jitter alone still noise; TV 0.3 a hint of blobs; TV 0.6 + jitter 4 gives
 * clear lattices of coloured blobs for 7 of 8 filters (TV 1.0: the same, blurrier); 80 steps or
 * step 2 change little. The post-ReLU objective looks better than the pre-ReLU one on live
 * filters (it localises); pre-ReLU only helps filters dead on the start noise. 128 px: the deep
 * layers' patterns repeat well within it, at a third of 224 px's cost.
 */
export const DEFAULT_FILTER_SETTINGS: FilterSettings = {
  steps: 40,
  step: 1,
  size: 128,
  jitter: 4,
  tv: 0.6,
  seed: 1,
  objective: 'activation',
};

/** A key for caching one filter's picture (the gallery's IndexedDB): everything that changes it. */
export function filterCacheKey(model: string, layer: string, filter: number, s: FilterSettings): string {
  return [model, layer, filter, s.steps, s.step, s.size, s.jitter, s.tv, s.seed, s.objective].join('|');
}

/** One ascent step on a batch: pixels (n, 3, S, S), one-hot select (n, C) → next pixels, score (n). */
export type AscentStep = (
  pixels: Float32Array,
  select: Float32Array,
  n: number,
  step: number,
  tv: number,
) => Promise<{ next: Float32Array; score: Float32Array }>;

export interface AscentResult {
  /** Final pixels (n, 3, S, S), RGB, unbounded floats. */
  pixels: Float32Array;
  /** scores[k][i]: filter i's mean activation at the input of step k. */
  scores: number[][];
}

/** The book's start: uniform noise in [128, 148) per pixel and channel. */
export function grayNoise(rng: Rng, n: number, size: number): Float32Array {
  return Float32Array.from({ length: n * 3 * size * size }, () => rng() * 20 + 128);
}

/** Roll each image of (n, 3, S, S) by (dy_i, dx_i) with wrap-around; negative shifts undo. */
export function roll(x: Float32Array, n: number, size: number, shifts: readonly [number, number][]): Float32Array {
  const out = new Float32Array(x.length);
  const plane = size * size;
  for (let i = 0; i < n; i++) {
    const [dy, dx] = shifts[i] ?? [0, 0];
    for (let c = 0; c < 3; c++) {
      const base = (i * 3 + c) * plane;
      for (let r = 0; r < size; r++) {
        const rr = (((r + dy) % size) + size) % size;
        for (let q = 0; q < size; q++) {
          const qq = (((q + dx) % size) + size) % size;
          out[base + rr * size + qq] = x[base + r * size + q]!;
        }
      }
    }
  }
  return out;
}

/**
 * Gradient ascent for `filters` (channel indices of a layer with `channels` channels), all in one
 * batch. Each filter's noise and jitter come from its own stream (seed, filter), so a filter's
 * picture does not depend on which others share its batch. `onStep(k)` is called after each step.
 */
export async function ascend(
  run: AscentStep,
  filters: readonly number[],
  channels: number,
  s: FilterSettings,
  onStep?: (k: number) => void,
): Promise<AscentResult> {
  const n = filters.length;
  const plane = 3 * s.size * s.size;
  const rngs = filters.map((f) => seeded(Math.imul(s.seed, 0x9e3779b1) ^ (f + 1)));
  let x: Float32Array = new Float32Array(n * plane);
  rngs.forEach((rng, i) => x.set(grayNoise(rng, 1, s.size), i * plane));
  const select = new Float32Array(n * channels);
  filters.forEach((f, i) => {
    if (!Number.isInteger(f) || f < 0 || f >= channels)
      throw new RangeError(`filter ${f} is not in 0..${channels - 1}`);
    select[i * channels + f] = 1;
  });
  const scores: number[][] = [];
  for (let k = 0; k < s.steps; k++) {
    const shifts = rngs.map((rng): [number, number] =>
      s.jitter > 0 ? [randint(rng, -s.jitter, s.jitter), randint(rng, -s.jitter, s.jitter)] : [0, 0],
    );
    const jittered = s.jitter > 0 ? roll(x, n, s.size, shifts) : x;
    const { next, score } = await run(jittered, select, n, s.step, s.tv);
    x =
      s.jitter > 0
        ? roll(
            next,
            n,
            s.size,
            shifts.map(([dy, dx]) => [-dy, -dx]),
          )
        : next;
    scores.push(Array.from(score));
    onStep?.(k);
  }
  return { pixels: x, scores };
}

/** An RGBA image (the vision code's format), declared here to keep this file dependency-free. */
export interface Rgba {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/**
 * The book's deprocess_image for image i of (n, 3, S, S): standardise (over all its values), ×0.1,
 * +0.5, clip to 0..1, ×255; as opaque RGBA.
 */
export function deprocess(x: Float32Array, i: number, size: number): Rgba {
  const plane = size * size;
  const v = x.subarray(i * 3 * plane, (i + 1) * 3 * plane);
  let mean = 0;
  for (const a of v) mean += a;
  mean /= v.length;
  let varSum = 0;
  for (const a of v) varSum += (a - mean) ** 2;
  const std = Math.sqrt(varSum / v.length);
  const data = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      const t = Math.min(Math.max(((v[c * plane + p]! - mean) / (std + 1e-5)) * 0.1 + 0.5, 0), 1);
      data[p * 4 + c] = t * 255;
    }
    data[p * 4 + 3] = 255;
  }
  return { width: size, height: size, data };
}
