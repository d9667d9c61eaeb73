/** Resampling: constants survive, ramps land where an independent formula puts them, crops are centred. */
import { describe, expect, it } from 'vitest';
import {
  crop,
  resizeBilinear,
  resizeCenterCrop,
  resizeFloatMap,
  shorterSideSize,
} from '../../../src/core/vision/resize';
import { clampedByte, imageFrom, pixelAt, rowChannel } from './images';

/** Half-pixel-centre source position of output sample o, clamped to the source (align_corners=false). */
function halfPixelSource(o: number, srcLen: number, dstLen: number): number {
  return Math.min(Math.max((o + 0.5) * (srcLen / dstLen) - 0.5, 0), srcLen - 1);
}

/** Mean of f(floor(u)) over the output sample's footprint, by brute-force supersampling (no tap tables). */
function supersampledMean(o: number, srcLen: number, dstLen: number, f: (i: number) => number): number {
  const lo = (o * srcLen) / dstLen;
  const hi = ((o + 1) * srcLen) / dstLen;
  const n = 10_000;
  let sum = 0;
  for (let k = 0; k < n; k++) sum += f(Math.floor(lo + ((k + 0.5) * (hi - lo)) / n));
  return sum / n;
}

describe('resizeBilinear', () => {
  const constant = imageFrom(50, 30, () => [37, 200, 90, 255]);

  it.each([
    [13, 7],
    [80, 45],
    [50, 30],
    [1, 1],
  ])('keeps a constant image constant at %i×%i', (w, h) => {
    const out = resizeBilinear(constant, w, h);
    expect(out.width).toBe(w);
    expect(out.height).toBe(h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(pixelAt(out, x, y)).toEqual([37, 200, 90, 255]);
  });

  it('halves a horizontal ramp by sampling at half-pixel centres', () => {
    const ramp = imageFrom(8, 3, (x) => [10 * x, 0, 0, 255]);
    const out = resizeBilinear(ramp, 4, 3);
    const expected = Array.from({ length: 4 }, (_, o) => 10 * halfPixelSource(o, 8, 4));
    expect(expected).toEqual([5, 25, 45, 65]);
    for (let y = 0; y < 3; y++) expect(rowChannel(out, y, 0)).toEqual(expected);
  });

  it('upsamples a vertical ramp with edge clamping', () => {
    const ramp = imageFrom(2, 4, (_, y) => [0, 40 * y, 0, 255]);
    const out = resizeBilinear(ramp, 2, 8);
    for (let y = 0; y < 8; y++) expect(pixelAt(out, 1, y)[1]).toBe(clampedByte(40 * halfPixelSource(y, 4, 8)));
    expect(pixelAt(out, 0, 0)[1]).toBe(0);
    expect(pixelAt(out, 0, 7)[1]).toBe(120);
  });

  it('area-averages when shrinking more than 2×, also at a non-integer ratio', () => {
    const f = (x: number) => (x * 37) % 256; // not linear, so sampling and averaging disagree
    const src = imageFrom(10, 2, (x) => [f(x), 0, 0, 255]);
    const out = resizeBilinear(src, 3, 2);
    const expected = [0, 1, 2].map((o) => supersampledMean(o, 10, 3, f));
    rowChannel(out, 0, 0).forEach((v, o) => expect(Math.abs(v - expected[o]!)).toBeLessThanOrEqual(0.51));
  });

  it('antialiases stripes that plain bilinear would miss', () => {
    // Every 4th column is white: the mean is 63.75, but the bilinear samples at 4o+1.5 all fall on black.
    const stripes = imageFrom(16, 1, (x) => (x % 4 === 3 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
    expect(rowChannel(resizeBilinear(stripes, 4, 1), 0, 0)).toEqual([64, 64, 64, 64]);
    expect(rowChannel(resizeBilinear(stripes, 4, 1, false), 0, 0)).toEqual([0, 0, 0, 0]);
  });

  it('rejects bad sizes and short buffers', () => {
    expect(() => resizeBilinear(constant, 0, 5)).toThrow(RangeError);
    expect(() => resizeBilinear({ width: 4, height: 4, data: new Uint8ClampedArray(10) }, 2, 2)).toThrow(
      /needs 64 bytes/,
    );
  });
});

describe('crop and resizeCenterCrop', () => {
  /** Each pixel encodes its own coordinates, so a crop's origin can be read back exactly. */
  const coords = (w: number, h: number) => imageFrom(w, h, (x, y) => [x * 8, y * 8, 7, 255]);

  it('crop copies the requested window', () => {
    const out = crop(coords(10, 6), 3, 2, 4, 3);
    expect(pixelAt(out, 0, 0)).toEqual([24, 16, 7, 255]);
    expect(pixelAt(out, 3, 2)).toEqual([48, 32, 7, 255]);
    expect(() => crop(coords(10, 6), 8, 0, 4, 3)).toThrow(RangeError);
  });

  it('takes the middle of a landscape image whose short side already fits (odd excess rounds down)', () => {
    const out = resizeCenterCrop(coords(31, 20), 20);
    expect([out.width, out.height]).toEqual([20, 20]);
    for (let y = 0; y < 20; y++)
      for (let x = 0; x < 20; x++) expect(pixelAt(out, x, y)).toEqual([(x + 5) * 8, y * 8, 7, 255]);
  });

  it('takes the middle of a portrait image (odd excess rounds down)', () => {
    const out = resizeCenterCrop(coords(20, 31), 20);
    expect(pixelAt(out, 0, 0)).toEqual([0, 5 * 8, 7, 255]);
    expect(pixelAt(out, 19, 19)).toEqual([19 * 8, 24 * 8, 7, 255]);
  });

  it('scales the short side to 224 and crops equal margins', () => {
    expect(shorterSideSize(448, 300, 224)).toEqual({ width: 335, height: 224 });
    // Black bands on both sides, each 100 of 448 px: after scaling they are ~74.7 px, 55 of which are cropped away.
    const banded = imageFrom(448, 300, (x) => (x < 100 || x >= 348 ? [0, 0, 0, 255] : [255, 255, 255, 255]));
    const out = resizeCenterCrop(banded, 224);
    expect([out.width, out.height]).toEqual([224, 224]);
    const row = rowChannel(out, 112, 0);
    const darkLeft = row.findIndex((v) => v > 127);
    const darkRight = 224 - 1 - row.findLastIndex((v) => v > 127);
    expect(darkLeft).toBeGreaterThanOrEqual(18);
    expect(darkLeft).toBeLessThanOrEqual(21);
    expect(Math.abs(darkLeft - darkRight)).toBeLessThanOrEqual(1);
    expect(row[112]).toBe(255);
  });

  // resizeCenterCrop computes only the square's pixels; it must be exactly the square of the full resize.
  it.each([
    [320, 240, 224], // landscape, bilinear (shrink 1.07)
    [640, 480, 224], // landscape, area averaging (shrink 2.14)
    [480, 1280, 224], // portrait, area averaging on both axes
    [150, 100, 224], // upsampling
    [31, 20, 20], // no scaling, odd margin
  ])('equals resizeBilinear to the short side, then crop, bit for bit (%i×%i → %i)', (w, h, size) => {
    let seed = w * 7919 + h;
    const noise = imageFrom(w, h, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return [seed & 255, (seed >>> 8) & 255, (seed >>> 16) & 255, (seed >>> 24) & 255];
    });
    const scaled = shorterSideSize(w, h, size);
    const full = resizeBilinear(noise, scaled.width, scaled.height);
    const expected = crop(
      full,
      Math.floor((scaled.width - size) / 2),
      Math.floor((scaled.height - size) / 2),
      size,
      size,
    );
    const out = resizeCenterCrop(noise, size);
    expect([out.width, out.height]).toEqual([size, size]);
    expect(Buffer.from(out.data).equals(Buffer.from(expected.data))).toBe(true);
  });
});

describe('resizeFloatMap', () => {
  const map = Float32Array.from([0, 1, 2, 3]); // [[0, 1], [2, 3]]

  it('matches hand-computed align_corners=false values for 2×2 → 4×4', () => {
    // Output columns sample source x = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1); rows likewise.
    const expected = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3];
    expect(Array.from(resizeFloatMap(map, 2, 2, 4, 4))).toEqual(expected);
  });

  it('matches hand-computed values for 2×2 → 3×3', () => {
    // Samples at -1/6 (→0), 0.5 and 7/6 (→1).
    const out = Array.from(resizeFloatMap(map, 2, 2, 3, 3));
    [0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3].forEach((v, i) => expect(out[i]).toBeCloseTo(v, 6));
  });

  it('upsamples a 14×14 constant to 224×224 unchanged, and checks the map length', () => {
    const out = resizeFloatMap(new Float32Array(196).fill(0.625), 14, 14, 224, 224);
    expect(out.length).toBe(224 * 224);
    expect(out.every((v) => v === 0.625)).toBe(true);
    expect(() => resizeFloatMap(new Float32Array(195), 14, 14, 224, 224)).toThrow(RangeError);
  });
});
