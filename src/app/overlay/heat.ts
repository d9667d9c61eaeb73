/**
 * Drawing Grad-CAM over the camera. The engine explains the centre square of each frame (the grabber
 * crops it), so the heatmap goes exactly there. Colours and resampling are src/core/vision's; the live
 * view lets the canvas composite (CSS opacity over the video is the same blend as blendHeatmap), and the
 * saved PNG uses blendHeatmap itself on the frame's pixels.
 */
import type { Grid } from '../../../workers/engine/protocol';
import { applyJet } from '../../core/vision/colormap';
import { blendHeatmap } from '../../core/vision/overlay';
import { resizeFloatMap } from '../../core/vision/resize';
import { centerSquare } from '../camera/grabber';

/** Side of the coloured heatmap; the canvas scales it to the frame (both bilinear, so it looks the same). */
export const HEAT_SIDE = 256;

/** Width and height of a heatmap grid (the last two dims; [14, 14] for VGG16's block5_conv3). */
export function heatSize(heat: Grid): { w: number; h: number } {
  const h = heat.dims.at(-2) ?? 0;
  const w = heat.dims.at(-1) ?? 0;
  if (!(w > 0 && h > 0) || w * h !== heat.data.length) {
    throw new RangeError(`a heatmap of dims [${heat.dims.join(', ')}] cannot hold ${heat.data.length} values`);
  }
  return { w, h };
}

/** The heatmap upsampled to side×side and coloured with jet: RGBA pixels ready for ImageData. */
export function heatPixels(heat: Grid, side: number): Uint8ClampedArray<ArrayBuffer> {
  const { w, h } = heatSize(heat);
  return applyJet(resizeFloatMap(heat.data, w, h, side, side)) as Uint8ClampedArray<ArrayBuffer>;
}

function context(canvas: HTMLCanvasElement): CanvasRenderingContext2D {
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser gives no 2D canvas');
  return ctx;
}

/**
 * Paint the overlay canvas (the size of the video frame): the heatmap over the centre square, transparent
 * elsewhere; no heatmap clears it. `scratch` is a reusable canvas for the small coloured map.
 */
export function drawHeatmap(
  canvas: HTMLCanvasElement,
  scratch: HTMLCanvasElement,
  heat: Grid | undefined,
  frameWidth: number,
  frameHeight: number,
): void {
  if (canvas.width !== frameWidth) canvas.width = frameWidth;
  if (canvas.height !== frameHeight) canvas.height = frameHeight;
  const ctx = context(canvas);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!heat || frameWidth <= 0 || frameHeight <= 0) return;
  const { x, y, side } = centerSquare(frameWidth, frameHeight);
  const small = Math.min(HEAT_SIDE, side);
  scratch.width = small;
  scratch.height = small;
  context(scratch).putImageData(new ImageData(heatPixels(heat, small), small, small), 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(scratch, x, y, side, side);
}

/** The current video frame with the heatmap blended over its centre square, as a PNG. */
export function snapshotPng(video: HTMLVideoElement, heat: Grid | undefined, opacity: number): Promise<Blob> {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (!width || !height) return Promise.reject(new Error('the camera has no frame to save yet'));
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = context(canvas);
  ctx.drawImage(video, 0, 0, width, height);
  if (heat) {
    const { w, h } = heatSize(heat);
    const { x, y, side } = centerSquare(width, height);
    const pixels = ctx.getImageData(x, y, side, side);
    const out = blendHeatmap({ width: side, height: side, data: pixels.data }, heat.data, w, h, opacity);
    ctx.putImageData(new ImageData(out.data as Uint8ClampedArray<ArrayBuffer>, side, side), x, y);
  }
  return new Promise((resolve, reject) =>
    canvas.toBlob(
      (blob) => (blob ? resolve(blob) : reject(new Error('the browser could not encode the PNG'))),
      'image/png',
    ),
  );
}

/** A file name for a saved overlay: convlens-<label>-<time>.png, safe on every file system. */
export function snapshotName(label: string | undefined, date: Date): string {
  const slug = (label ?? 'frame')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  const stamp = date.toISOString().replace(/[:.]/g, '-').replace(/Z$/, '');
  return `convlens-${slug || 'frame'}-${stamp}.png`;
}
