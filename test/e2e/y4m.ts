/**
 * A Y4M video (YUV 4:2:0, BT.601 studio range) made of real fixture photos, for Chromium's fake camera
 * (`--use-file-for-fake-video-capture=<file>.y4m`; Chromium loops it). Each photo is scaled to cover the
 * frame and centre-cropped, then held for a few frames.
 */
import { writeFile } from 'node:fs/promises';
import { readImage } from '../../src/cli/imageio';
import type { RgbaImage } from '../../src/core/vision/image';
import { crop, resizeBilinear } from '../../src/core/vision/resize';

export interface Y4mOptions {
  photos: string[];
  width?: number;
  height?: number;
  framesPerPhoto?: number;
  fps?: number;
}

/** Scale so the image covers w×h, then take the centre w×h (no distortion, no borders). */
export function cover(img: RgbaImage, w: number, h: number): RgbaImage {
  const scale = Math.max(w / img.width, h / img.height);
  const sw = Math.max(w, Math.round(img.width * scale));
  const sh = Math.max(h, Math.round(img.height * scale));
  const scaled = resizeBilinear(img, sw, sh);
  return crop(scaled, Math.floor((sw - w) / 2), Math.floor((sh - h) / 2), w, h);
}

const clampByte = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** One I420 frame: the Y plane, then U and V at half resolution (each the mean of a 2×2 block). */
export function toI420(img: RgbaImage): Uint8Array {
  const { width: w, height: h, data } = img;
  if (w % 2 || h % 2) throw new RangeError(`4:2:0 needs even sizes, got ${w}×${h}`);
  const out = new Uint8Array((w * h * 3) / 2);
  const u0 = w * h;
  const v0 = u0 + (w * h) / 4;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4;
      out[y * w + x] = clampByte(16 + (65.481 * data[o]! + 128.553 * data[o + 1]! + 24.966 * data[o + 2]!) / 255);
    }
  }
  for (let y = 0; y < h; y += 2) {
    for (let x = 0; x < w; x += 2) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ] as const) {
        const o = ((y + dy) * w + x + dx) * 4;
        r += data[o]! / 4;
        g += data[o + 1]! / 4;
        b += data[o + 2]! / 4;
      }
      const c = (y / 2) * (w / 2) + x / 2;
      out[u0 + c] = clampByte(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      out[v0 + c] = clampByte(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  return out;
}

export async function makeY4m(o: Y4mOptions): Promise<Uint8Array> {
  const w = o.width ?? 320;
  const h = o.height ?? 240;
  const frames = o.framesPerPhoto ?? 10;
  const header = new TextEncoder().encode(`YUV4MPEG2 W${w} H${h} F${o.fps ?? 30}:1 Ip A1:1 C420jpeg\n`);
  const frameTag = new TextEncoder().encode('FRAME\n');
  const planes: Uint8Array[] = [];
  for (const path of o.photos) planes.push(toI420(cover(await readImage(path), w, h)));
  const frameBytes = frameTag.length + (w * h * 3) / 2;
  const out = new Uint8Array(header.length + planes.length * frames * frameBytes);
  out.set(header, 0);
  let at = header.length;
  for (const plane of planes) {
    for (let i = 0; i < frames; i++) {
      out.set(frameTag, at);
      out.set(plane, at + frameTag.length);
      at += frameBytes;
    }
  }
  return out;
}

export async function writeY4m(path: string, o: Y4mOptions): Promise<string> {
  await writeFile(path, await makeY4m(o));
  return path;
}
