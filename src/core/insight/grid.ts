/**
 * Drawing the insight results: channel maps as a grid of viridis tiles, filter pictures as a grid,
 * each tile labelled with its channel index. The colour table is matplotlib's viridis, taken from
 * the scale-color-perceptual package (its 256-entry float RGB table; see the package's README).
 */
import viridisTable from 'scale-color-perceptual/rgb/viridis.json';

export interface RgbaTile {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

/** viridis as 256 × RGB bytes. */
export const VIRIDIS: Uint8ClampedArray = (() => {
  const table = viridisTable as number[][];
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) for (let c = 0; c < 3; c++) lut[i * 3 + c] = Math.round(table[i]![c]! * 255);
  return lut;
})();

/** The viridis colour of t in 0..1 (clamped; NaN → 0) as [r, g, b] bytes. */
export function viridis(t: number): [number, number, number] {
  const i = viridisIndex(t);
  return [VIRIDIS[i * 3]!, VIRIDIS[i * 3 + 1]!, VIRIDIS[i * 3 + 2]!];
}

function viridisIndex(t: number): number {
  return t > 0 ? Math.min(255, Math.round(t * 255)) : 0;
}

export type MapNormalisation = 'map' | 'layer';

/** (min, max) of each channel's H×W map, or of the whole layer for every channel. */
export function channelRanges(data: Float32Array, channels: number, mode: MapNormalisation): [number, number][] {
  const plane = data.length / channels;
  const ranges: [number, number][] = [];
  for (let c = 0; c < channels; c++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = c * plane; i < (c + 1) * plane; i++) {
      const v = data[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    ranges.push([lo, hi]);
  }
  if (mode === 'map') return ranges;
  const lo = Math.min(...ranges.map((r) => r[0]));
  const hi = Math.max(...ranges.map((r) => r[1]));
  return ranges.map(() => [lo, hi]);
}

/** One channel's map as a viridis tile, (v − lo) / (hi − lo) (a constant map is all dark). */
export function viridisTile(data: Float32Array, h: number, w: number, c: number, [lo, hi]: [number, number]): RgbaTile {
  const out = new Uint8ClampedArray(h * w * 4);
  const span = hi > lo ? hi - lo : 1;
  const base = c * h * w;
  for (let i = 0; i < h * w; i++) {
    const k = viridisIndex((data[base + i]! - lo) / span) * 3;
    out[i * 4] = VIRIDIS[k]!;
    out[i * 4 + 1] = VIRIDIS[k + 1]!;
    out[i * 4 + 2] = VIRIDIS[k + 2]!;
    out[i * 4 + 3] = 255;
  }
  return { width: w, height: h, data: out };
}

export interface GridOptions {
  /** Tiles per row (default 16, as the book's plots). */
  columns?: number;
  /** Integer upscaling of each tile (nearest neighbour), e.g. 4 for 14×14 maps. */
  scale?: number;
  /** Gap between tiles in px (default 2). */
  gap?: number;
  /** Label for each tile, drawn in its top-left corner (e.g. the channel index). */
  labels?: readonly string[];
}

/** Tiles of equal size in a grid on a dark background. */
export function tileGrid(tiles: readonly RgbaTile[], o: GridOptions = {}): RgbaTile {
  const first = tiles[0];
  if (!first) throw new RangeError('tileGrid needs at least one tile');
  const { scale = 1, gap = 2 } = o;
  const columns = Math.max(1, Math.min(o.columns ?? 16, tiles.length));
  const rows = Math.ceil(tiles.length / columns);
  const tw = first.width * scale;
  const th = first.height * scale;
  const width = columns * tw + (columns + 1) * gap;
  const height = rows * th + (rows + 1) * gap;
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < data.length; i += 4) {
    data[i] = data[i + 1] = data[i + 2] = 24;
    data[i + 3] = 255;
  }
  tiles.forEach((t, k) => {
    const x0 = gap + (k % columns) * (tw + gap);
    const y0 = gap + Math.floor(k / columns) * (th + gap);
    for (let y = 0; y < th; y++) {
      const src = Math.floor(y / scale) * t.width * 4;
      const dst = ((y0 + y) * width + x0) * 4;
      if (scale === 1) {
        data.set(t.data.subarray(src, src + tw * 4), dst);
        continue;
      }
      for (let x = 0; x < tw; x++) {
        const s = src + Math.floor(x / scale) * 4;
        const d = dst + x * 4;
        data[d] = t.data[s]!;
        data[d + 1] = t.data[s + 1]!;
        data[d + 2] = t.data[s + 2]!;
        data[d + 3] = t.data[s + 3]!;
      }
    }
    const label = o.labels?.[k];
    if (label) drawLabel(data, width, x0, y0, label);
  });
  return { width, height, data };
}

/** Digits 0–9 in a 3×5 pixel font, one row of 3 bits per entry (MSB = left). */
const DIGITS = [
  [7, 5, 5, 5, 7],
  [2, 6, 2, 2, 7],
  [7, 1, 7, 4, 7],
  [7, 1, 7, 1, 7],
  [5, 5, 7, 1, 1],
  [7, 4, 7, 1, 7],
  [7, 4, 7, 5, 7],
  [7, 1, 1, 1, 1],
  [7, 5, 7, 5, 7],
  [7, 5, 7, 1, 7],
];

/** White digits on a black box at (x0, y0); characters other than 0–9 are skipped. */
function drawLabel(data: Uint8ClampedArray, width: number, x0: number, y0: number, text: string): void {
  const glyphs = [...text].map((ch) => DIGITS[ch.charCodeAt(0) - 48]).filter((g): g is number[] => !!g);
  const boxW = glyphs.length * 4 + 1;
  const height = data.length / 4 / width;
  for (let y = 0; y < 7; y++)
    for (let x = 0; x < boxW; x++) {
      const px = x0 + x;
      const py = y0 + y;
      if (px >= width || py >= height) continue;
      const gx = x - 1;
      const g = glyphs[Math.floor(gx / 4)];
      const on = !!g && y >= 1 && y <= 5 && gx >= 0 && gx % 4 < 3 && (g[y - 1]! >> (2 - (gx % 4))) & 1;
      const v = on ? 255 : 0;
      data.set([v, v, v, 255], (py * width + px) * 4);
    }
}

/** The activation grid of a layer: channels `which` (default all) of data (C, H, W) as viridis tiles. */
export function activationGrid(
  act: { dims: number[]; data: Float32Array },
  o: GridOptions & { normalise?: MapNormalisation; which?: readonly number[] } = {},
): RgbaTile {
  const [C, H, W] = act.dims as [number, number, number];
  const ranges = channelRanges(act.data, C, o.normalise ?? 'map');
  const which = o.which ?? Array.from({ length: C }, (_, c) => c);
  const tiles = which.map((c) => viridisTile(act.data, H, W, c, ranges[c]!));
  return tileGrid(tiles, { ...o, labels: o.labels ?? which.map(String) });
}
