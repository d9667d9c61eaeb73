/** The book's augmentation as one affine warp: exact identity and flip, Keras's conventions, determinism, 'nearest' fill. */
import { describe, expect, it } from 'vitest';
import type { AugmentParams } from '../../../src/core/vision/augment';
import {
  augment,
  augmentMatrix,
  BOOK_AUGMENT,
  IDENTITY_AUGMENT,
  randomAugmentParams,
} from '../../../src/core/vision/augment';
import type { RgbaImage } from '../../../src/core/vision/image';
import { Rng } from '../../../src/core/train/rng';
import { readImage } from '../../../src/cli/imageio';
import { resizeCenterCrop } from '../../../src/core/vision/resize';

/** A w×h image whose every pixel differs: R = x, G = y, B = (x·7 + y·13) mod 256. */
function ramp(w: number, h: number): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set([x, y, (x * 7 + y * 13) % 256, 255], (y * w + x) * 4);
  return { width: w, height: h, data };
}

const px = (img: RgbaImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));
const with_ = (p: Partial<AugmentParams>): AugmentParams => ({ ...IDENTITY_AUGMENT, ...p });

describe('augment', () => {
  const img = ramp(37, 23);

  it('identity parameters give the input back, byte for byte', () => {
    const out = augment(img, IDENTITY_AUGMENT);
    expect(out.width).toBe(37);
    expect(out.height).toBe(23);
    expect(Array.from(out.data)).toEqual(Array.from(img.data));
  });

  it('a horizontal flip mirrors the columns exactly', () => {
    const out = augment(img, with_({ flip: true }));
    for (let y = 0; y < img.height; y++)
      for (let x = 0; x < img.width; x++) expect(px(out, x, y)).toEqual(px(img, img.width - 1 - x, y));
  });

  it("shifts follow Keras's convention (output samples input + shift), edges repeated", () => {
    // ty = 0.2 of a width of 10 is 2 columns: out(x, y) = in(min(x + 2, 9), y).
    const small = ramp(10, 6);
    const out = augment(small, with_({ ty: 0.2 }));
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 10; x++) expect(px(out, x, y)).toEqual(px(small, Math.min(x + 2, 9), y));
    // tx shifts rows the same way.
    const down = augment(small, with_({ tx: -0.5 }));
    for (let y = 0; y < 6; y++)
      for (let x = 0; x < 10; x++) expect(px(down, x, y)).toEqual(px(small, x, Math.max(y - 3, 0)));
  });

  it('rotation and zoom act about the image centre', () => {
    const m = augmentMatrix(with_({ theta: 90 }), 11, 11);
    // (row, col) → centre + R·(p − centre); the centre (5, 5) stays put, (5, 10) goes to (0, 5).
    const apply = (r: number, c: number) => [m[0] * r + m[1] * c + m[2], m[3] * r + m[4] * c + m[5]];
    expect(apply(5, 5).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([5, 5]);
    expect(apply(5, 10).map((v) => Math.round(v * 1e9) / 1e9)).toEqual([0, 5]);
    const z = augmentMatrix(with_({ zx: 1.2, zy: 0.8 }), 11, 11);
    expect([z[0], z[4], z[0] * 5 + z[2], z[4] * 5 + z[5]].map((v) => Math.round(v * 1e9) / 1e9)).toEqual([
      1.2, 0.8, 5, 5,
    ]);
  });

  it('draws parameters within the book ranges, and the same ones for the same seed', () => {
    const draw = (seed: number) => {
      const r = new Rng(seed);
      return Array.from({ length: 200 }, () => randomAugmentParams(() => r.float()));
    };
    const a = draw(5);
    expect(draw(5)).toEqual(a);
    expect(draw(6)).not.toEqual(a);
    for (const p of a) {
      expect(Math.abs(p.theta)).toBeLessThanOrEqual(40);
      expect(Math.abs(p.tx)).toBeLessThanOrEqual(0.2);
      expect(Math.abs(p.ty)).toBeLessThanOrEqual(0.2);
      expect(Math.abs(p.shear)).toBeLessThanOrEqual(0.2);
      for (const z of [p.zx, p.zy]) expect(z >= 0.8 && z <= 1.2).toBe(true);
    }
    // The ranges are used, not just respected; about half are flipped.
    expect(Math.max(...a.map((p) => Math.abs(p.theta)))).toBeGreaterThan(35);
    expect(a.filter((p) => p.flip).length).toBeGreaterThan(70);
    expect(a.filter((p) => p.flip).length).toBeLessThan(130);
    expect(BOOK_AUGMENT).toEqual({
      rotation: 40,
      widthShift: 0.2,
      heightShift: 0.2,
      shear: 0.2,
      zoom: 0.2,
      horizontalFlip: true,
    });
  });

  it('is deterministic: the same parameters give the same bytes', async () => {
    const photo = resizeCenterCrop(await readImage('test/fixtures/photos/grass/grass_r0c0.png'), 96);
    const r = new Rng(3);
    const p = randomAugmentParams(() => r.float());
    expect(Array.from(augment(photo, p).data)).toEqual(Array.from(augment(photo, p).data));
  });

  it('fills with the nearest edge pixel: no black borders after a strong rotation, shift and zoom-out', () => {
    const bright: RgbaImage = { width: 40, height: 30, data: new Uint8ClampedArray(40 * 30 * 4).fill(200) };
    const out = augment(bright, { theta: 40, tx: 0.2, ty: -0.2, shear: 0.2, zx: 1.2, zy: 1.2, flip: true });
    expect(Math.min(...out.data)).toBe(200);
    expect(Math.max(...out.data)).toBe(200);
    // On a real photo, the corners (where the warp samples outside the image) keep the edge colours.
    const corners = augment(img, with_({ theta: 40, zx: 1.2, zy: 1.2 }));
    for (const [x, y] of [
      [0, 0],
      [36, 0],
      [0, 22],
      [36, 22],
    ] as const) {
      const v = px(corners, x, y);
      const edge = Array.from({ length: 37 }, (_, i) => [px(img, i, 0), px(img, i, 22)])
        .flat()
        .concat(Array.from({ length: 23 }, (_, i) => [px(img, 0, i), px(img, 36, i)]).flat());
      // Each corner value lies within the range of the border pixels it was clamped to.
      expect(v[3]).toBe(255);
      expect(Math.min(...edge.map((e) => Math.abs(e[0]! - v[0]!) + Math.abs(e[1]! - v[1]!)))).toBeLessThanOrEqual(2);
    }
  });
});
