/** The one pixel format the vision code speaks: 8-bit RGBA, row-major, 4 bytes per pixel, no padding. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** A new opaque-black image; the clamped array makes float writes round and saturate for free. */
export function createImage(width: number, height: number): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height, data };
}

export class ImageShapeError extends Error {
  override name = 'ImageShapeError';
}

/** Fail early on a buffer that cannot hold width×height RGBA pixels, rather than read past its end later. */
export function assertRgba(img: RgbaImage): void {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new ImageShapeError(`image size must be positive integers, got ${width}×${height}`);
  }
  if (data.length !== width * height * 4) {
    throw new ImageShapeError(`a ${width}×${height} RGBA image needs ${width * height * 4} bytes, got ${data.length}`);
  }
}
