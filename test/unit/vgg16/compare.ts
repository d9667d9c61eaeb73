/** Small numeric helpers shared by the VGG16 importer tests. */

/** max |a − b| / max |b|: the largest difference relative to the reference's scale. */
export function relMaxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / (scale || 1);
}

/** Largest |a − b|, for values already on a 0…1 scale (probabilities). */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** NHWC → NCHW for one image. */
export function nhwcToNchw(x: Float32Array, C: number, H: number, W: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < H; i++)
    for (let j = 0; j < W; j++) for (let c = 0; c < C; c++) out[(c * H + i) * W + j] = x[(i * W + j) * C + c]!;
  return out;
}
