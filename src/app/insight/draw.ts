/**
 * Painting insight results into canvases, straight from the buffers the worker transferred: channel maps
 * through viridis (src/core/insight/grid.ts, the scale-color-perceptual table), filter pictures as they
 * are, and a CAM heatmap (jet, as the live view) over its still.
 */
import type { Explanation, RgbaFrame } from '../../../workers/engine/protocol';
import { viridisTile } from '../../core/insight/grid';
import { heatPixels } from '../overlay/heat';

export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D | undefined {
  return canvas.getContext('2d') ?? undefined;
}

/** The canvas becomes the image's size and shows it (CSS scales it, pixelated for small maps). */
export function paintImage(canvas: HTMLCanvasElement, img: RgbaImage): void {
  if (canvas.width !== img.width) canvas.width = img.width;
  if (canvas.height !== img.height) canvas.height = img.height;
  const pixels = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  context(canvas)?.putImageData(new ImageData(pixels as Uint8ClampedArray<ArrayBuffer>, img.width, img.height), 0, 0);
}

/** Channel c of (C, H, W) maps, normalised to [lo, hi], in viridis. */
export function paintChannel(
  canvas: HTMLCanvasElement,
  maps: { dims: number[]; data: Float32Array },
  c: number,
  range: [number, number],
): void {
  const [, h = 0, w = 0] = maps.dims;
  paintImage(canvas, viridisTile(maps.data, h, w, c, range));
}

/** The still with its heatmap blended over it at `opacity`. */
export function paintCam(
  canvas: HTMLCanvasElement,
  frame: RgbaFrame,
  heat: Explanation['heatmap'] | undefined,
  opacity = 0.5,
): void {
  const ctx = context(canvas);
  if (!ctx) return;
  canvas.width = frame.width;
  canvas.height = frame.height;
  paintImage(canvas, frame);
  if (!heat) return;
  const side = Math.min(frame.width, frame.height);
  const layer = document.createElement('canvas');
  paintImage(layer, { width: side, height: side, data: heatPixels(heat, side) });
  ctx.globalAlpha = opacity;
  ctx.drawImage(layer, (frame.width - side) / 2, (frame.height - side) / 2);
  ctx.globalAlpha = 1;
}
