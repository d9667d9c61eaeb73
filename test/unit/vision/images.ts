/** Small synthetic images for the vision tests, built pixel by pixel from a formula. */
import type { RgbaImage } from '../../../src/core/vision/image';

export type Pixel = readonly [r: number, g: number, b: number, a: number];

/** A w×h image whose pixel (x, y) is `pixel(x, y)`. */
export function imageFrom(w: number, h: number, pixel: (x: number, y: number) => Pixel): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(pixel(x, y), (y * w + x) * 4);
  return { width: w, height: h, data };
}

/** The RGBA bytes of pixel (x, y). */
export function pixelAt(img: RgbaImage, x: number, y: number): number[] {
  const i = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(i, i + 4));
}

/** One colour channel of a whole row, left to right. */
export function rowChannel(img: RgbaImage, y: number, c: number): number[] {
  return Array.from({ length: img.width }, (_, x) => img.data[(y * img.width + x) * 4 + c]!);
}

/** What a Uint8ClampedArray stores for v (round half to even, saturate): the expected byte for a float formula. */
export function clampedByte(v: number): number {
  return Uint8ClampedArray.of(v)[0]!;
}
