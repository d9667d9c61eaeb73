/**
 * Data augmentation as Keras's ImageDataGenerator does it (the book's recipe), as ONE affine warp:
 *
 *   rotation_range=40, width_shift_range=0.2, height_shift_range=0.2, shear_range=0.2,
 *   zoom_range=0.2, horizontal_flip=True, fill_mode='nearest'
 *
 * Conventions, following keras.preprocessing.image.apply_affine_transform, on (row, col) coordinates,
 * mapping each OUTPUT pixel to the INPUT position it samples (scipy.ndimage.affine_transform style):
 *
 *   src = C · R(θ) · Shift(tx, ty) · Shear(s) · Zoom(zx, zy) · C⁻¹ · dst
 *
 * - θ ~ U(−rotation, rotation) degrees; R = [[cos θ, −sin θ], [sin θ, cos θ]].
 * - tx ~ U(−heightShift, heightShift)·height rows, ty ~ U(−widthShift, widthShift)·width columns.
 * - Shear = [[1, −sin s], [0, cos s]], s ~ U(−shear, shear) in RADIANS. Keras ≤ 2.1 (which the book
 *   used, 2017) took shear_range in radians, so 0.2 is ≈ 11.5°; Keras ≥ 2.2 reads it as degrees, which
 *   makes the book's 0.2 a 0.2° no-op. We keep the book's intent.
 * - zx, zy ~ U(1 − zoom, 1 + zoom) independently (Keras draws each axis on its own); > 1 zooms out.
 * - C centres the transform on the image centre ((h − 1)/2, (w − 1)/2): pixel-centre convention
 *   (Keras uses h/2 + 0.5, half a pixel off; immaterial for augmentation).
 * - Horizontal flip with probability ½, applied after the warp (as Keras does), folded into the same
 *   sampling so there is one pass.
 * - Bilinear sampling (Keras's interpolation_order=1); 'nearest' fill: positions outside the image
 *   take the value of the nearest edge pixel (coordinates are clamped), so there are no black borders.
 *
 * Random parameters come from a caller-supplied uniform source, so augmentation is deterministic
 * under a seed (src/core/train/rng.ts). Sines and cosines come from Math.sin/cos, whose last bits the
 * ECMAScript spec leaves to the engine: identical on one engine, possibly an ulp apart across engines.
 */
import { assertRgba, type RgbaImage } from './image';

export interface AugmentConfig {
  /** Maximum rotation, degrees. */
  rotation: number;
  /** Maximum horizontal shift, fraction of the width. */
  widthShift: number;
  /** Maximum vertical shift, fraction of the height. */
  heightShift: number;
  /** Maximum shear angle, radians (see the header: Keras ≤ 2.1 semantics). */
  shear: number;
  /** Zoom factor range per axis: [1 − zoom, 1 + zoom]. */
  zoom: number;
  horizontalFlip: boolean;
}

/** The book's ImageDataGenerator settings. */
export const BOOK_AUGMENT: Readonly<AugmentConfig> = Object.freeze({
  rotation: 40,
  widthShift: 0.2,
  heightShift: 0.2,
  shear: 0.2,
  zoom: 0.2,
  horizontalFlip: true,
});

/** One draw of the random transform. */
export interface AugmentParams {
  /** Rotation, degrees (counter-clockwise in (row, col) terms, as Keras). */
  theta: number;
  /** Row shift as a fraction of the height. */
  tx: number;
  /** Column shift as a fraction of the width. */
  ty: number;
  /** Shear angle, radians. */
  shear: number;
  zx: number;
  zy: number;
  flip: boolean;
}

export const IDENTITY_AUGMENT: Readonly<AugmentParams> = Object.freeze({
  theta: 0,
  tx: 0,
  ty: 0,
  shear: 0,
  zx: 1,
  zy: 1,
  flip: false,
});

/** Draw parameters in Keras's order (θ, tx, ty, shear, zx, zy, flip) from a U[0, 1) source. */
export function randomAugmentParams(random: () => number, cfg: AugmentConfig = BOOK_AUGMENT): AugmentParams {
  const u = (r: number) => (2 * random() - 1) * r;
  const theta = u(cfg.rotation);
  const tx = u(cfg.heightShift);
  const ty = u(cfg.widthShift);
  const shear = u(cfg.shear);
  const zx = 1 + u(cfg.zoom);
  const zy = 1 + u(cfg.zoom);
  const flip = cfg.horizontalFlip && random() < 0.5;
  return { theta, tx, ty, shear, zx, zy, flip };
}

type M3 = [number, number, number, number, number, number, number, number, number];

function mul(a: M3, b: M3): M3 {
  const out = new Array<number>(9).fill(0) as M3;
  for (let i = 0; i < 3; i++)
    for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += a[i * 3 + k]! * b[k * 3 + j]!;
      out[i * 3 + j] = s;
    }
  return out;
}

/**
 * The 3×3 homogeneous matrix (row-major) mapping an output (row, col, 1) — after undoing the flip —
 * to the input (row, col) it samples, for a width×height image.
 */
export function augmentMatrix(p: AugmentParams, width: number, height: number): M3 {
  const t = (p.theta * Math.PI) / 180;
  const [c, s] = p.theta === 0 ? [1, 0] : [Math.cos(t), Math.sin(t)];
  const [shc, shs] = p.shear === 0 ? [1, 0] : [Math.cos(p.shear), Math.sin(p.shear)];
  const [or, oc] = [(height - 1) / 2, (width - 1) / 2];
  const offset: M3 = [1, 0, or, 0, 1, oc, 0, 0, 1];
  const rotate: M3 = [c, -s, 0, s, c, 0, 0, 0, 1];
  const shift: M3 = [1, 0, p.tx * height, 0, 1, p.ty * width, 0, 0, 1];
  const shear: M3 = [1, -shs, 0, 0, shc, 0, 0, 0, 1];
  const zoom: M3 = [p.zx, 0, 0, 0, p.zy, 0, 0, 0, 1];
  const reset: M3 = [1, 0, -or, 0, 1, -oc, 0, 0, 1];
  return mul(mul(mul(mul(mul(offset, rotate), shift), shear), zoom), reset);
}

/** Warp an image by `p` (same size out), bilinear, edge pixels extended ('nearest' fill). */
export function augment(img: RgbaImage, p: AugmentParams): RgbaImage {
  assertRgba(img);
  const { width: w, height: h, data: src } = img;
  const m = augmentMatrix(p, w, h);
  const out = new Uint8ClampedArray(w * h * 4);
  for (let r = 0; r < h; r++) {
    for (let col = 0; col < w; col++) {
      const cc = p.flip ? w - 1 - col : col;
      // Clamping the sampling position is exactly 'nearest' fill for linear interpolation.
      const sr = Math.min(Math.max(m[0] * r + m[1] * cc + m[2], 0), h - 1);
      const sc = Math.min(Math.max(m[3] * r + m[4] * cc + m[5], 0), w - 1);
      const r0 = Math.floor(sr);
      const c0 = Math.floor(sc);
      const r1 = Math.min(r0 + 1, h - 1);
      const c1 = Math.min(c0 + 1, w - 1);
      const fr = sr - r0;
      const fc = sc - c0;
      const w00 = (1 - fr) * (1 - fc);
      const w01 = (1 - fr) * fc;
      const w10 = fr * (1 - fc);
      const w11 = fr * fc;
      const i00 = (r0 * w + c0) * 4;
      const i01 = (r0 * w + c1) * 4;
      const i10 = (r1 * w + c0) * 4;
      const i11 = (r1 * w + c1) * 4;
      const o = (r * w + col) * 4;
      for (let k = 0; k < 4; k++) {
        out[o + k] = w00 * src[i00 + k]! + w01 * src[i01 + k]! + w10 * src[i10 + k]! + w11 * src[i11 + k]!;
      }
    }
  }
  return { width: w, height: h, data: out };
}
