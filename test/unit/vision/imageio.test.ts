/** File decoding by magic bytes, on the real photo fixtures, and the PNG writer. */
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDecodeError, readImage, writePng } from '../../../src/cli/imageio';
import type { RgbaImage } from '../../../src/core/vision/image';
import { imageFrom } from './images';

const PHOTOS = fileURLToPath(new URL('../../fixtures/photos/', import.meta.url));

/** Mean of one colour channel over the whole image. */
function channelMean(img: RgbaImage, c: number): number {
  let sum = 0;
  for (let i = c; i < img.data.length; i += 4) sum += img.data[i]!;
  return sum / (img.width * img.height);
}

let scratch = '';
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'convlens-imageio-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('readImage', () => {
  it('decodes a colour JPEG to opaque RGBA of the right size', async () => {
    const img = await readImage(join(PHOTOS, 'misc/rocket.jpg'));
    expect([img.width, img.height]).toEqual([320, 214]);
    expect(img.data.length).toBe(320 * 214 * 4);
    expect(channelMean(img, 3)).toBe(255);
    // A night launch: mostly dark, but not black and not blown out.
    const brightness = (channelMean(img, 0) + channelMean(img, 1) + channelMean(img, 2)) / 3;
    expect(brightness).toBeGreaterThan(10);
    expect(brightness).toBeLessThan(160);
  });

  it('expands a greyscale JPEG to R = G = B', async () => {
    const img = await readImage(join(PHOTOS, 'chessboard/left01.jpg'));
    expect([img.width, img.height]).toEqual([320, 240]);
    const reds = Array.from(img.data.filter((_, i) => i % 4 === 0));
    const notGrey = reds.filter((r, p) => img.data[p * 4 + 1] !== r || img.data[p * 4 + 2] !== r).length;
    expect(notGrey).toBe(0);
    // A black-and-white chessboard fills much of the frame: both extremes must be present.
    expect(reds.reduce((a, b) => Math.min(a, b))).toBeLessThan(40);
    expect(reds.reduce((a, b) => Math.max(a, b))).toBeGreaterThan(200);
  });

  it('decodes a colour PNG (the ginger cat is redder than it is blue)', async () => {
    const img = await readImage(join(PHOTOS, 'misc/chelsea.png'));
    expect([img.width, img.height]).toEqual([320, 213]);
    expect(channelMean(img, 0)).toBeGreaterThan(channelMean(img, 2) + 20);
  });

  it('sniffs content, not the extension', async () => {
    const disguised = join(scratch, 'actually-a-png.jpg');
    await copyFile(join(PHOTOS, 'grass/grass_r0c0.png'), disguised);
    const img = await readImage(disguised);
    expect([img.width, img.height]).toEqual([170, 170]);
  });

  it('throws ImageDecodeError for a text file', async () => {
    const path = join(PHOTOS, 'README.md');
    const err = await readImage(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageDecodeError);
    expect((err as Error).name).toBe('ImageDecodeError');
    expect((err as Error).message).toBe(`${path}: not a PNG or JPEG image`);
  });

  it('throws ImageDecodeError for a truncated JPEG', async () => {
    const bytes = await readFile(join(PHOTOS, 'misc/rocket.jpg'));
    const truncated = join(scratch, 'truncated.jpg');
    await writeFile(truncated, bytes.subarray(0, 200));
    await expect(readImage(truncated)).rejects.toBeInstanceOf(ImageDecodeError);
  });
});

describe('writePng', () => {
  it('round-trips every byte, alpha included', async () => {
    const img = imageFrom(5, 3, (x, y) => [x * 50, y * 100, 255 - x * 10, 100 + x + y]);
    const path = join(scratch, 'round-trip.png');
    await writePng(path, img);
    const back = await readImage(path);
    expect([back.width, back.height]).toEqual([5, 3]);
    expect(Array.from(back.data)).toEqual(Array.from(img.data));
  });
});
