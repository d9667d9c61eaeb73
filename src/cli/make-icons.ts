/**
 * Draws the app icons (static/icons/*.png): a lens ring around a 3×3 "kernel" of heat colours.
 * Run `node --import tsx src/cli/make-icons.ts`; the PNGs are committed, so this only runs when the
 * design changes. Shapes are signed-distance tests, supersampled 4× per axis for smooth edges.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';

type Rgba = [number, number, number, number];

const BACKGROUND: Rgba = [16, 20, 24, 255];
const RING: Rgba = [94, 234, 212, 255];
/** Grad-CAM-like heat colours, cold to hot, for the kernel's cells. */
const HEAT: Rgba[] = [
  [37, 99, 235, 255],
  [6, 182, 212, 255],
  [34, 197, 94, 255],
  [250, 204, 21, 255],
  [249, 115, 22, 255],
  [239, 68, 68, 255],
];
const CELLS = [0, 1, 2, 1, 5, 3, 2, 4, 1];

interface IconSpec {
  file: string;
  size: number;
  /** Maskable icons fill the square; the artwork stays inside the central 80 % safe zone. */
  maskable: boolean;
}

export const ICONS: IconSpec[] = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'maskable-512.png', size: 512, maskable: true },
  { file: 'apple-touch-icon.png', size: 180, maskable: true },
];

function roundedSquare(x: number, y: number, half: number, radius: number): boolean {
  const qx = Math.abs(x) - (half - radius);
  const qy = Math.abs(y) - (half - radius);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) <= radius;
}

/** Colour of the point (x, y) in unit coordinates centred on 0 (the icon spans −1..1). */
function shade(x: number, y: number, maskable: boolean): Rgba | undefined {
  const scale = maskable ? 0.72 : 0.92;
  const bg = maskable || roundedSquare(x, y, 1, 0.36);
  if (!bg) return undefined;
  const u = x / scale;
  const v = y / scale;
  const r = Math.hypot(u, v);
  if (r >= 0.78 && r <= 0.92) return RING;
  // The lens handle: a short bar at 45° towards the lower right.
  const along = (u + v) / Math.SQRT2;
  const across = (u - v) / Math.SQRT2;
  if (along > 0.92 && along < 1.22 && Math.abs(across) < 0.09 && !maskable) return RING;
  const cell = 0.34;
  const gap = 0.05;
  const i = Math.floor((u + 1.5 * cell) / cell);
  const j = Math.floor((v + 1.5 * cell) / cell);
  if (i >= 0 && i < 3 && j >= 0 && j < 3) {
    const cu = u + 1.5 * cell - (i + 0.5) * cell;
    const cv = v + 1.5 * cell - (j + 0.5) * cell;
    if (roundedSquare(cu, cv, cell / 2 - gap / 2, 0.04)) return HEAT[CELLS[j * 3 + i]!]!;
  }
  return BACKGROUND;
}

export function drawIcon(size: number, maskable: boolean, samples = 4): PNG {
  const png = new PNG({ width: size, height: size });
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = ((px + (sx + 0.5) / samples) / size) * 2 - 1;
          const y = ((py + (sy + 0.5) / samples) / size) * 2 - 1;
          const c = shade(x, y, maskable);
          if (!c) continue;
          // Premultiplied accumulation, so transparent corners do not darken the edge.
          acc[0]! += c[0] * c[3];
          acc[1]! += c[1] * c[3];
          acc[2]! += c[2] * c[3];
          acc[3]! += c[3];
        }
      }
      const o = (py * size + px) * 4;
      const a = acc[3]!;
      png.data[o] = a ? Math.round(acc[0]! / a) : 0;
      png.data[o + 1] = a ? Math.round(acc[1]! / a) : 0;
      png.data[o + 2] = a ? Math.round(acc[2]! / a) : 0;
      png.data[o + 3] = Math.round(a / (samples * samples));
    }
  }
  return png;
}

export async function makeIcons(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const icon of ICONS) {
    const path = join(dir, icon.file);
    await writeFile(path, PNG.sync.write(drawIcon(icon.size, icon.maskable)));
    written.push(path);
  }
  return written;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = fileURLToPath(new URL('../../static/icons/', import.meta.url));
  for (const path of await makeIcons(dir)) console.log(`wrote ${path}`);
}
