/** Demo weights: deterministic to the byte, per-layer streams, He-normal / Glorot-uniform statistics. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { demoWeights } from '../../../src/core/vgg16/demo';
import type { VggConfig, VggWeights } from '../../../src/core/vgg16/spec';
import { checkWeights, convLayers, denseLayers, TINY_VGG, VGG16 } from '../../../src/core/vgg16/spec';

/** sha256 over every layer's kernel then bias bytes, in map (= forward) order. */
function digest(w: VggWeights): string {
  const h = createHash('sha256');
  for (const [name, lw] of w) {
    h.update(name);
    h.update(new Uint8Array(lw.kernel.buffer, lw.kernel.byteOffset, lw.kernel.byteLength));
    h.update(new Uint8Array(lw.bias.buffer, lw.bias.byteOffset, lw.bias.byteLength));
  }
  return h.digest('hex');
}

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of a) {
    s += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = s / a.length;
  let ss = 0;
  for (const v of a) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / a.length), min, max };
}

/** VGG16's conv layers exactly (they do not depend on the input size), with a narrow head. */
const NARROW_HEAD: VggConfig = { ...VGG16, name: 'vgg16-narrow-head', fc: [256, 256], classes: 100, inputSize: 32 };

describe('demoWeights', () => {
  it('has every layer with the right sizes and zero biases', () => {
    const w = demoWeights(TINY_VGG, 1);
    checkWeights(TINY_VGG, w, true);
    for (const lw of w.values()) expect(lw.bias.every((v) => v === 0)).toBe(true);
  });

  it('is deterministic: the same seed gives the same bytes, another seed other bytes', () => {
    expect(digest(demoWeights(TINY_VGG, 1))).toBe(digest(demoWeights(TINY_VGG, 1)));
    expect(digest(demoWeights(TINY_VGG, 2))).not.toBe(digest(demoWeights(TINY_VGG, 1)));
    expect(digest(demoWeights(TINY_VGG, 2 ** 40))).not.toBe(digest(demoWeights(TINY_VGG, 0)));
  });

  it('is byte-identical on every machine (pinned hash)', () => {
    // This pin is the test of cross-machine determinism: demo bundles are rebuilt on users' machines and
    // in CI, and their shard hashes must match. The generator uses only integer ops and correctly rounded
    // IEEE operations, so this hash must never change with the engine, OS or CPU; it changes only if the
    // generator itself is changed on purpose (then every published demo bundle changes too).
    expect(digest(demoWeights(TINY_VGG, 1))).toBe('2fb68ba8c867c4e1b9e424bc4c19ced416a0c92483c4007e05ecfe4f385a70e3');
  });

  it('gives a layer the same values whichever parts are asked for', () => {
    const all = demoWeights(TINY_VGG, 3);
    const base = demoWeights(TINY_VGG, 3, ['base']);
    const head = demoWeights(TINY_VGG, 3, ['imagenet-head']);
    expect([...base.keys()]).toEqual(convLayers(TINY_VGG).map((l) => l.name));
    expect([...head.keys()]).toEqual(denseLayers(TINY_VGG).map((l) => l.name));
    for (const [name, lw] of [...base, ...head]) expect(lw.kernel).toEqual(all.get(name)!.kernel);
  });

  it('refuses a seed that is not an integer', () => {
    expect(() => demoWeights(TINY_VGG, 1.5)).toThrow(RangeError);
  });

  describe('statistics (VGG16 conv layers, a 256-wide head)', () => {
    const w = demoWeights(NARROW_HEAD, 1);

    it('conv kernels: He-normal, std √(2 / (cin·9)) within 2 %, mean ≈ 0, tails ≤ 2√3 σ', () => {
      for (const l of convLayers(NARROW_HEAD)) {
        const k = w.get(l.name)!.kernel;
        if (k.length < 10_000) continue; // block1_conv1 (1728 values) is too small for a 2 % bound
        const he = Math.sqrt(2 / (l.cin * 9));
        const s = stats(k);
        expect(Math.abs(s.std / he - 1), l.name).toBeLessThan(0.02);
        expect(Math.abs(s.mean) / he, l.name).toBeLessThan(0.02);
        expect(Math.max(-s.min, s.max) / he, l.name).toBeLessThanOrEqual(2 * Math.sqrt(3) + 1e-6);
      }
    });

    it('the normal approximation has unit variance and the Irwin–Hall shape (kurtosis 2.7)', () => {
      const k = w.get('block5_conv3')!.kernel; // 2.36 M values
      const s = stats(k);
      let m4 = 0;
      for (const v of k) m4 += ((v - s.mean) / s.std) ** 4;
      expect(m4 / k.length).toBeCloseTo(2.7, 1);
    });

    it('dense kernels: Glorot-uniform in ±√(6 / (in + out)), std limit/√3 within 2 %', () => {
      for (const l of denseLayers(NARROW_HEAD)) {
        const k = w.get(l.name)!.kernel;
        const limit = Math.sqrt(6 / (l.inputs + l.units));
        const s = stats(k);
        expect(Math.abs(s.std / (limit / Math.sqrt(3)) - 1), l.name).toBeLessThan(0.02);
        expect(s.min, l.name).toBeGreaterThanOrEqual(-limit);
        expect(s.max, l.name).toBeLessThanOrEqual(limit);
        expect(s.max, l.name).toBeGreaterThan(limit * 0.99);
      }
    });
  });
});
