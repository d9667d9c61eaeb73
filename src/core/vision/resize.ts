/**
 * Resampling on plain typed arrays. Sample positions use half-pixel centres (align_corners=false), the
 * convention of cv2.resize, tf.image.resize and PyTorch's default, so a 14×14 Grad-CAM map lands on the
 * same pixels it would in the Python recipes.
 */
import { assertRgba, type RgbaImage } from './image';

/** The source indices and weights that make one output sample along one axis. */
interface Tap {
  index: number[];
  weight: number[];
}

/** Shrink factors above this switch from bilinear to area averaging, since bilinear then skips pixels and aliases. */
const MAX_BILINEAR_SHRINK = 2;

/** Two-tap linear interpolation at half-pixel centres, clamped at the borders (edge pixels repeat). */
function bilinearTaps(srcLen: number, dstLen: number): Tap[] {
  const scale = srcLen / dstLen;
  return Array.from({ length: dstLen }, (_, o) => {
    const pos = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), srcLen - 1);
    const i0 = Math.floor(pos);
    const i1 = Math.min(i0 + 1, srcLen - 1);
    const t = pos - i0;
    return { index: [i0, i1], weight: [1 - t, t] };
  });
}

/** Box filter: each output sample is the mean of the source span it covers, partial pixels weighted by overlap. */
function areaTaps(srcLen: number, dstLen: number): Tap[] {
  const scale = srcLen / dstLen;
  return Array.from({ length: dstLen }, (_, o) => {
    const lo = o * scale;
    const hi = Math.min((o + 1) * scale, srcLen);
    const tap: Tap = { index: [], weight: [] };
    for (let i = Math.floor(lo); i < Math.ceil(hi); i++) {
      const overlap = Math.min(hi, i + 1) - Math.max(lo, i);
      if (overlap <= 0) continue;
      tap.index.push(i);
      tap.weight.push(overlap / (hi - lo));
    }
    return tap;
  });
}

function axisTaps(srcLen: number, dstLen: number, antialias: boolean): Tap[] {
  return antialias && srcLen > MAX_BILINEAR_SHRINK * dstLen ? areaTaps(srcLen, dstLen) : bilinearTaps(srcLen, dstLen);
}

/** Separable resample of an interleaved w×h×channels array: rows first, then columns, in float32. */
function resampleSeparable(
  src: ArrayLike<number>,
  w: number,
  h: number,
  channels: number,
  xTaps: Tap[],
  yTaps: Tap[],
): Float32Array {
  const outW = xTaps.length;
  const outH = yTaps.length;
  const rows = new Float32Array(h * outW * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < outW; x++) {
      const { index, weight } = xTaps[x]!;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < index.length; k++) acc += weight[k]! * src[(y * w + index[k]!) * channels + c]!;
        rows[(y * outW + x) * channels + c] = acc;
      }
    }
  }
  const out = new Float32Array(outH * outW * channels);
  const stride = outW * channels;
  for (let y = 0; y < outH; y++) {
    const { index, weight } = yTaps[y]!;
    for (let i = 0; i < stride; i++) {
      let acc = 0;
      for (let k = 0; k < index.length; k++) acc += weight[k]! * rows[index[k]! * stride + i]!;
      out[y * stride + i] = acc;
    }
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
  assertTargetSize(size, size);
  const scaled = shorterSideSize(img.width, img.height, size);
  const resized = resizeBilinear(img, scaled.width, scaled.height);
  return crop(resized, Math.floor((scaled.width - size) / 2), Math.floor((scaled.height - size) / 2), size, size);
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
