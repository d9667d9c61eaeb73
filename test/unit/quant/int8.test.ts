/** Symmetric per-output-channel int8: error bounds, exact zeros and extremes, dequantize. */
import { describe, expect, it } from 'vitest';
import { dequantize, QuantizeError, quantizePerChannel } from '../../../src/core/quant/int8';

/** Deterministic test values in [-amp, amp] with a different amplitude per channel. */
function kernel(rows: number, cols: number): Float32Array {
  const k = new Float32Array(rows * cols);
  let s = 12345;
  for (let i = 0; i < k.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const amp = 10 ** ((Math.floor(i / cols) % 7) - 4); // 1e-4 … 1e2
    k[i] = ((s / 2 ** 32) * 2 - 1) * amp;
  }
  return k;
}

describe('quantizePerChannel / dequantize', () => {
  const dims = [12, 3, 3, 3];
  const k = kernel(12, 27);
  const { q, scale } = quantizePerChannel(k, dims);
  const back = dequantize(q, scale, dims);

  it('one scale per output channel: max|w| / 127', () => {
    expect(scale.length).toBe(12);
    for (let c = 0; c < 12; c++) {
      const m = Math.max(...Array.from(k.subarray(c * 27, c * 27 + 27), Math.abs));
      expect(scale[c]).toBe(Math.fround(m / 127));
    }
  });

  it('error ≤ scale/2 on every element', () => {
    for (let i = 0; i < k.length; i++) {
      const s = scale[Math.floor(i / 27)]!;
      expect(Math.abs(back[i]! - k[i]!)).toBeLessThanOrEqual((s / 2) * (1 + 1e-6));
    }
  });

  it('the largest magnitude of each channel maps to exactly ±127, nothing beyond', () => {
    for (let c = 0; c < 12; c++) {
      const row = k.subarray(c * 27, c * 27 + 27);
      let arg = 0;
      for (let i = 1; i < 27; i++) if (Math.abs(row[i]!) > Math.abs(row[arg]!)) arg = i;
      expect(q[c * 27 + arg]).toBe(Math.sign(row[arg]!) * 127);
    }
    expect(Math.min(...q)).toBeGreaterThanOrEqual(-127);
    expect(Math.max(...q)).toBeLessThanOrEqual(127);
  });

  it('exact extremes and exact zero: ±max and 0 come back bit for bit', () => {
    const w = Float32Array.of(0.5, -0.5, 0, 0.25, 3, 0, -3, 1.5);
    const r = quantizePerChannel(w, [2, 4]);
    expect(Array.from(r.q)).toEqual([127, -127, 0, 64, 127, 0, -127, 64]);
    const d = dequantize(r.q, r.scale, [2, 4]);
    expect(d[0]).toBe(Math.fround(127 * Math.fround(0.5 / 127)));
    expect(Math.abs(d[0]! - 0.5)).toBeLessThan(1e-7);
    expect(d[2]).toBe(0);
    expect(d[5]).toBe(0);
  });

  it('an all-zero channel gets scale 1 and quantizes to zeros', () => {
    const w = Float32Array.of(0, 0, 0, 1, -2, 0);
    const r = quantizePerChannel(w, [2, 3]);
    expect(Array.from(r.scale)).toEqual([1, Math.fround(2 / 127)]);
    expect(Array.from(r.q.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(Array.from(dequantize(r.q, r.scale, [2, 3]).subarray(0, 3))).toEqual([0, 0, 0]);
  });

  it('rounds halves to even, symmetrically', () => {
    // scale = 127/127 = 1: values are their own quantized levels, halves round to even.
    const w = Float32Array.of(127, 2.5, -2.5, 3.5, -3.5, 0.5, -0.5);
    const r = quantizePerChannel(w, [1, 7]);
    expect(r.scale[0]).toBe(1);
    expect(Array.from(r.q)).toEqual([127, 2, -2, 4, -4, 0, 0]);
  });

  it('refuses non-finite weights and mismatched dims', () => {
    expect(() => quantizePerChannel(Float32Array.of(1, NaN), [1, 2])).toThrow(QuantizeError);
    expect(() => quantizePerChannel(Float32Array.of(1, Infinity), [1, 2])).toThrow(/not finite/);
    expect(() => quantizePerChannel(new Float32Array(6), [4, 2])).toThrow(QuantizeError);
    expect(() => dequantize(new Int8Array(6), new Float32Array(2), [3, 2])).toThrow(QuantizeError);
  });
});
