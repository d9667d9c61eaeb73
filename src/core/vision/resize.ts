/**
 * Resampling on plain typed arrays. Sample positions use half-pixel centres (align_corners=false), the
 * convention of cv2.resize, tf.image.resize and PyTorch's default, so a 14×14 Grad-CAM map lands on the
 * same pixels it would in the Python recipes.
 */
import { assertRgba, type RgbaImage } from './image';

/**
 * The taps of one axis, flat: output sample o is Σ weight[k]·src[index[k]] for k in [start[o], start[o + 1]).
 * Typed arrays, not an object per sample: the resampling loops below are the live view's preprocessing.
 */
interface Taps {
  start: Int32Array;
  index: Int32Array;
  weight: Float64Array;
}

/** Flattens per-sample (indices, weights) lists; `lists(o)` gives output sample o's. */
function flatTaps(dstLen: number, lists: (o: number) => [number[], number[]]): Taps {
  const start = new Int32Array(dstLen + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let o = 0; o < dstLen; o++) {
    const [i, w] = lists(o);
    index.push(...i);
    weight.push(...w);
    start[o + 1] = index.length;
  }
  return { start, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/** The taps of output samples [from, from + len): a window of the output, as a crop of the resized axis. */
function windowTaps(t: Taps, from: number, len: number): Taps {
  const lo = t.start[from]!;
  const hi = t.start[from + len]!;
  return {
    start: t.start.slice(from, from + len + 1).map((v) => v - lo),
    index: t.index.slice(lo, hi),
    weight: t.weight.slice(lo, hi),
  };
}

/** Shrink factors above this switch from bilinear to area averaging, since bilinear then skips pixels and aliases. */
const MAX_BILINEAR_SHRINK = 2;

/** Two-tap linear interpolation at half-pixel centres, clamped at the borders (edge pixels repeat). */
function bilinearTaps(srcLen: number, dstLen: number): Taps {
  const scale = srcLen / dstLen;
  return flatTaps(dstLen, (o) => {
    const pos = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), srcLen - 1);
    const i0 = Math.floor(pos);
    const i1 = Math.min(i0 + 1, srcLen - 1);
    const t = pos - i0;
    return [
      [i0, i1],
      [1 - t, t],
    ];
  });
}

/** Box filter: each output sample is the mean of the source span it covers, partial pixels weighted by overlap. */
function areaTaps(srcLen: number, dstLen: number): Taps {
  const scale = srcLen / dstLen;
  return flatTaps(dstLen, (o) => {
    const lo = o * scale;
    const hi = Math.min((o + 1) * scale, srcLen);
    const index: number[] = [];
    const weight: number[] = [];
    for (let i = Math.floor(lo); i < Math.ceil(hi); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap <= 0) continue;
      index.push(i);
      weight.push(overlap / (hi - lo));
    }
    return [index, weight];
  });
}

function axisTaps(srcLen: number, dstLen: number, antialias: boolean): Taps {
  return antialias && srcLen > MAX_BILINEAR_SHRINK * dstLen ? areaTaps(srcLen, dstLen) : bilinearTaps(srcLen, dstLen);
}

/**
 * Separable resample of an interleaved w×h×channels array: rows first (only the source rows some
 * output row reads), then columns, in float32. Each sum runs over its taps in order, so the result
 * does not depend on which window of the output is asked for.
 */
function resampleSeparable(
  src: ArrayLike<number>,
  w: number,
  h: number,
  channels: number,
  xTaps: Taps,
  yTaps: Taps,
): Float32Array {
  const outW = xTaps.start.length - 1;
  const outH = yTaps.start.length - 1;
  let y0 = h;
  let y1 = -1;
  for (const i of yTaps.index) {
    if (i < y0) y0 = i;
    if (i > y1) y1 = i;
  }
  const stride = outW * channels;
  const rows = new Float32Array(Math.max(0, y1 - y0 + 1) * stride);
  const { start: xs, index: xi, weight: xw } = xTaps;
  for (let y = y0; y <= y1; y++) {
    const srcRow = y * w;
    const dst = (y - y0) * stride;
    for (let x = 0; x < outW; x++) {
      const k0 = xs[x]!;
      const k1 = xs[x + 1]!;
      if (channels === 4) {
        // RGBA, the live path: the four sums side by side, each still over its taps in order.
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        for (let k = k0; k < k1; k++) {
          const wk = xw[k]!;
          const p = (srcRow + xi[k]!) * 4;
          a0 += wk * src[p]!;
          a1 += wk * src[p + 1]!;
          a2 += wk * src[p + 2]!;
          a3 += wk * src[p + 3]!;
        }
        const d = dst + x * 4;
        rows[d] = a0;
        rows[d + 1] = a1;
        rows[d + 2] = a2;
        rows[d + 3] = a3;
        continue;
      }
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = k0; k < k1; k++) acc += xw[k]! * src[(srcRow + xi[k]!) * channels + c]!;
        rows[dst + x * channels + c] = acc;
      }
    }
  }
  const out = new Float32Array(outH * stride);
  const { start: ys, index: yi, weight: yw } = yTaps;
  // Row by row (a weighted sum of whole rows, in tap order, in float64): contiguous reads.
  const acc = new Float64Array(stride);
  for (let y = 0; y < outH; y++) {
    acc.fill(0);
    for (let k = ys[y]!; k < ys[y + 1]!; k++) {
      const wk = yw[k]!;
      const from = (yi[k]! - y0) * stride;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + wk * rows[from + i]!;
    }
    out.set(acc, y * stride);
  }
  return out;
}

function assertTargetSize(w: number, h: number): void {
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) {
    throw new RangeError(`target size must be positive integers, got ${w}×${h}`);
  }
}

/**
 * Resize all four channels (alpha is not premultiplied). Bilinear; with `antialias` (the default) an
 * axis shrunk by more than 2× is area-averaged instead, so fine detail does not alias into noise.
 */
export function resizeBilinear(img: RgbaImage, w: number, h: number, antialias = true): RgbaImage {
  assertRgba(img);
  assertTargetSize(w, h);
  const xTaps = axisTaps(img.width, w, antialias);
  const yTaps = axisTaps(img.height, h, antialias);
  // The clamped array rounds and saturates the float result on assignment.
  const data = new Uint8ClampedArray(resampleSeparable(img.data, img.width, img.height, 4, xTaps, yTaps));
  return { width: w, height: h, data };
}

/** A copy of the w×h window whose top-left corner is (x, y); the window must lie inside the image. */
export function crop(img: RgbaImage, x: number, y: number, w: number, h: number): RgbaImage {
  assertRgba(img);
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > img.width || y + h > img.height) {
    throw new RangeError(`crop ${w}×${h}+${x}+${y} falls outside a ${img.width}×${img.height} image`);
  }
  const data = new Uint8ClampedArray(w * h * 4);
  for (let row = 0; row < h; row++) {
    const start = ((y + row) * img.width + x) * 4;
    data.set(img.data.subarray(start, start + w * 4), row * w * 4);
  }
  return { width: w, height: h, data };
}

/** The size the image takes when its shorter side is scaled to `size`, keeping the aspect ratio. */
export function shorterSideSize(width: number, height: number, size: number): { width: number; height: number } {
  const scale = size / Math.min(width, height);
  if (width <= height) return { width: size, height: Math.max(size, Math.round(height * scale)) };
  return { width: Math.max(size, Math.round(width * scale)), height: size };
}

/** The usual ImageNet input: shorter side to `size`, then the central size×size square (no distortion). */
export function resizeCenterCrop(img: RgbaImage, size = 224): RgbaImage {
  assertRgba(img);
  assertTargetSize(size, size);
  const scaled = shorterSideSize(img.width, img.height, size);
  // resizeBilinear to `scaled`, then the central square — computing only the square's pixels.
  const xTaps = windowTaps(axisTaps(img.width, scaled.width, true), Math.floor((scaled.width - size) / 2), size);
  const yTaps = windowTaps(axisTaps(img.height, scaled.height, true), Math.floor((scaled.height - size) / 2), size);
  const data = new Uint8ClampedArray(resampleSeparable(img.data, img.width, img.height, 4, xTaps, yTaps));
  return { width: size, height: size, data };
}

/**
 * Bilinear resize of a single-channel float map (row-major w×h), with no area averaging so it matches
 * cv2.resize(INTER_LINEAR) and tf.image.resize(bilinear) exactly; meant for upsampling heatmaps.
 */
export function resizeFloatMap(map: Float32Array, w: number, h: number, outW: number, outH: number): Float32Array {
  assertTargetSize(w, h);
  assertTargetSize(outW, outH);
  if (map.length !== w * h) throw new RangeError(`a ${w}×${h} map needs ${w * h} values, got ${map.length}`);
  return resampleSeparable(map, w, h, 1, bilinearTaps(w, outW), bilinearTaps(h, outH));
}
