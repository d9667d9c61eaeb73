/** Network preprocessing: exact formula values, BGR plane order for caffe, RGB for torch, batching. */
import { describe, expect, it } from 'vitest';
import { toNchw, toNchwBatch } from '../../../src/core/vision/preprocess';
import { imageFrom } from './images';

// A 2×1 image: pure red, then an arbitrary colour with a non-opaque alpha (which must be ignored).
const RED = [255, 0, 0, 255] as const;
const OTHER = [10, 20, 30, 7] as const;
const pair = imageFrom(2, 1, (x) => (x === 0 ? RED : OTHER));
const f = Math.fround;

describe('toNchw caffe (Keras VGG16)', () => {
  const out = toNchw(pair, 'caffe');

  it('is BGR planes with the ImageNet BGR mean subtracted and no scaling', () => {
    const [blue, green, red] = [0, 1, 2].map((c) => Array.from(out.subarray(c * 2, c * 2 + 2)));
    expect(out.length).toBe(3 * 2);
    expect(blue).toEqual([f(0 - 103.939), f(30 - 103.939)]);
    expect(green).toEqual([f(0 - 116.779), f(20 - 116.779)]);
    expect(red).toEqual([f(255 - 123.68), f(10 - 123.68)]);
  });

  it('puts a pure red pixel in channel 2', () => {
    const firstPixel = [0, 1, 2].map((c) => out[c * 2]!);
    expect(firstPixel.indexOf(Math.max(...firstPixel))).toBe(2);
    expect(firstPixel[2]).toBeGreaterThan(0);
    expect(firstPixel[0]).toBeLessThan(0);
  });
});

describe('toNchw torch (torchvision)', () => {
  it('is RGB planes scaled to 0..1 and standardised', () => {
    const expected = [
      [(255 / 255 - 0.485) / 0.229, (10 / 255 - 0.485) / 0.229],
      [(0 / 255 - 0.456) / 0.224, (20 / 255 - 0.456) / 0.224],
      [(0 / 255 - 0.406) / 0.225, (30 / 255 - 0.406) / 0.225],
    ]
      .flat()
      .map(f);
    expect(Array.from(toNchw(pair, 'torch'))).toEqual(expected);
  });

  it('ignores alpha', () => {
    const opaque = imageFrom(2, 1, (x) => (x === 0 ? RED : [10, 20, 30, 255]));
    expect(toNchw(opaque, 'torch')).toEqual(toNchw(pair, 'torch'));
  });
});

describe('toNchwBatch', () => {
  const other = imageFrom(2, 1, () => [1, 2, 3, 255]);

  it('stacks images in order', () => {
    const batch = toNchwBatch([pair, other], 'caffe');
    expect(batch.length).toBe(12);
    expect(batch.subarray(0, 6)).toEqual(toNchw(pair, 'caffe'));
    expect(batch.subarray(6)).toEqual(toNchw(other, 'caffe'));
  });

  it('refuses images of different sizes', () => {
    expect(() => toNchwBatch([pair, imageFrom(1, 2, () => RED)], 'torch')).toThrow(/batch image 1 is 1×2/);
  });

  it('gives an empty tensor for no images', () => {
    expect(toNchwBatch([], 'torch').length).toBe(0);
  });
});
