/** Heatmap overlays: the book's additive recipe and the live view's blend, checked against their formulas. */
import { describe, expect, it } from 'vitest';
import { jet } from '../../../src/core/vision/colormap';
import { blendHeatmap, overlayHeatmap } from '../../../src/core/vision/overlay';
import { clampedByte, imageFrom, pixelAt } from './images';

/** Deterministic pseudo-random bytes (a small LCG), so the photo stand-in has no structure to hide bugs. */
function lcgBytes(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s >>> 24;
  };
}

const next = lcgBytes(42);
const photo = imageFrom(28, 28, () => [next(), next(), next(), 200]);
/** A 14×14 map with distinct values in 0..1: heat(i, j) = ((i * 14 + j) * 7 % 196) / 195. */
const heat = Float32Array.from({ length: 196 }, (_, k) => ((k * 7) % 196) / 195);

/** The heat value under image pixel (x, y): 2× bilinear at half-pixel centres, written out directly. */
function heatUnder(x: number, y: number): number {
  const src = (o: number) => Math.min(Math.max(o / 2 - 0.25, 0), 13);
  const [sx, sy] = [src(x), src(y)];
  const [x0, y0] = [Math.floor(sx), Math.floor(sy)];
  const [x1, y1] = [Math.min(x0 + 1, 13), Math.min(y0 + 1, 13)];
  const [tx, ty] = [sx - x0, sy - y0];
  const at = (i: number, j: number) => heat[j * 14 + i]!;
  return (1 - ty) * ((1 - tx) * at(x0, y0) + tx * at(x1, y0)) + ty * ((1 - tx) * at(x0, y1) + tx * at(x1, y1));
}

const SAMPLES = [
  [0, 0],
  [27, 27],
  [5, 9],
  [13, 14],
  [20, 3],
  [1, 26],
] as const;

describe('overlayHeatmap', () => {
  const out = overlayHeatmap(photo, heat, 14, 14);

  it('keeps the image size and alpha', () => {
    expect([out.width, out.height]).toEqual([28, 28]);
    for (let i = 3; i < out.data.length; i += 4) expect(out.data[i]).toBe(200);
  });

  it.each(SAMPLES)('equals clip(jet(heat) × 0.4 + image) at (%i, %i)', (x, y) => {
    const colour = jet(heatUnder(x, y));
    const pixel = pixelAt(photo, x, y);
    const got = pixelAt(out, x, y);
    // ±1: the library upsamples in float32, which can move jet's byte rounding by one step.
    for (let c = 0; c < 3; c++)
      expect(Math.abs(got[c]! - clampedByte(colour[c]! * 0.4 + pixel[c]!))).toBeLessThanOrEqual(1);
  });

  it('adds rather than blends, and clips at 255 (exact on a flat heatmap)', () => {
    const flat = new Float32Array(4).fill(0.5); // jet(0.5) = (128, 255, 128); red 240 + 51.2 must clip
    const img = imageFrom(4, 4, (x) => (x < 2 ? [240, 10, 0, 255] : [0, 0, 0, 255]));
    const result = overlayHeatmap(img, flat, 2, 2, 0.4);
    expect(pixelAt(result, 0, 0)).toEqual([255, clampedByte(10 + 102), clampedByte(51.2), 255]);
    expect(pixelAt(result, 3, 3)).toEqual([clampedByte(51.2), 102, clampedByte(51.2), 255]);
  });
});

describe('blendHeatmap', () => {
  it.each(SAMPLES)('equals (1 − opacity) × image + opacity × jet at (%i, %i)', (x, y) => {
    const out = blendHeatmap(photo, heat, 14, 14, 0.3);
    const colour = jet(heatUnder(x, y));
    const pixel = pixelAt(photo, x, y);
    const got = pixelAt(out, x, y);
    for (let c = 0; c < 3; c++)
      expect(Math.abs(got[c]! - clampedByte(0.7 * pixel[c]! + 0.3 * colour[c]!))).toBeLessThanOrEqual(1);
    expect(got[3]).toBe(200);
  });

  it('is the image at opacity 0 and the colour map at opacity 1', () => {
    expect(blendHeatmap(photo, heat, 14, 14, 0).data).toEqual(photo.data);
    const full = blendHeatmap(photo, heat, 14, 14, 1);
    expect(pixelAt(full, 0, 0).slice(0, 3)).toEqual(jet(heat[0]!));
  });
});
