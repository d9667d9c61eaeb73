/** The jet colour map, computed (not looked up) so any float in 0..1 gets its exact colour. */

export type Rgb = [r: number, g: number, b: number];

/** One jet channel: a trapezoid of height 1 centred at `centre` on the 4t axis, clipped to 0..1. */
function ramp(t4: number, centre: number): number {
  return Math.min(Math.max(1.5 - Math.abs(t4 - centre), 0), 1);
}

/** Clamp to 0..1, sending NaN to 0 so a bad heatmap value shows as "cold" rather than throwing. */
function unit(t: number): number {
  return t > 0 ? Math.min(t, 1) : 0;
}

/** One jet channel as a byte; red, green and blue peak at 3, 2 and 1 on the 4t axis. */
function jetByte(t4: number, centre: number): number {
  return Math.round(255 * ramp(t4, centre));
}

/**
 * MATLAB's jet (which OpenCV's COLORMAP_JET follows): dark blue (0,0,128) at 0, through cyan, green,
 * yellow, to dark red (128,0,0) at 1; channels 0..255, rounded.
 */
export function jet(t: number): Rgb {
  const t4 = 4 * unit(t);
  return [jetByte(t4, 3), jetByte(t4, 2), jetByte(t4, 1)];
}

/** Colour every value of a map with jet, as opaque RGBA pixels in the map's order (no per-pixel allocation). */
export function applyJet(map: Float32Array): Uint8ClampedArray {
  const out = new Uint8ClampedArray(map.length * 4);
  for (let i = 0; i < map.length; i++) {
    const t4 = 4 * unit(map[i]!);
    out[i * 4] = jetByte(t4, 3);
    out[i * 4 + 1] = jetByte(t4, 2);
    out[i * 4 + 2] = jetByte(t4, 1);
    out[i * 4 + 3] = 255;
  }
  return out;
}
