/** Reading and writing image files for the CLI and tests (Node only; the browser decodes with its own codecs). */
import { readFile, writeFile } from 'node:fs/promises';
import { decode as decodeJpegBytes } from 'jpeg-js';
import { PNG } from 'pngjs';
import { assertRgba, type RgbaImage } from '../core/vision/image';

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** Enough for a ~60-megapixel JPEG (about 16 bytes a pixel while decoding), small enough to refuse a decompression bomb. */
const JPEG_MAX_MEMORY_MB = 1024;

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return magic.every((b, i) => bytes[i] === b);
}

/** A fresh clamped array over a copy of the pixels, so callers never alias a decoder's pooled Buffer. */
function toRgba(width: number, height: number, pixels: Uint8Array): RgbaImage {
  return { width, height, data: new Uint8ClampedArray(pixels) };
}

function decodeJpeg(bytes: Uint8Array): RgbaImage {
  const { width, height, data } = decodeJpegBytes(bytes, {
    useTArray: true,
    formatAsRGBA: true,
    maxMemoryUsageInMB: JPEG_MAX_MEMORY_MB,
  });
  return toRgba(width, height, data);
}

/** pngjs expands grey, palette and 16-bit PNGs to 8-bit RGBA. */
function decodePng(bytes: Buffer): RgbaImage {
  const png = PNG.sync.read(bytes);
  return toRgba(png.width, png.height, png.data);
}

/** Decode a PNG or JPEG to RGBA, chosen by the file's magic bytes (extensions lie). */
export async function readImage(path: string): Promise<RgbaImage> {
  const bytes = await readFile(path);
  const decode = startsWith(bytes, PNG_MAGIC) ? decodePng : startsWith(bytes, JPEG_MAGIC) ? decodeJpeg : undefined;
  if (!decode) throw new ImageDecodeError(`${path}: not a PNG or JPEG image`);
  try {
    return decode(bytes);
  } catch (err) {
    // A truncated or corrupt file is the caller's bad input too, so it gets the same error type.
    throw new ImageDecodeError(`${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Encode an RGBA image as an 8-bit RGBA PNG. */
export async function writePng(path: string, img: RgbaImage): Promise<void> {
  assertRgba(img);
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  await writeFile(path, PNG.sync.write(png));
}
