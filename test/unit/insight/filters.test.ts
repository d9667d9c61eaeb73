/**
 * Filter visualisation: the ascent graph's input gradient against central finite differences on
 * TINY_VGG (with and without the Winograd rewrite and the ConvTranspose → Conv kernel flip), the
 * step formula (book: x + step·g/(rms + 1e-5); with the TV term), the batch independence of the
 * pictures, and on the demo VGG16 that the target activation rises at every step.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import type { FilterSettings, GraphSession } from '../../../src/core/insight';
import {
  ascend,
  ASCENT_IO,
  BOOK_SETTINGS,
  buildAscentGraph,
  deprocess,
  Insight,
  RMS_EPS,
  roll,
} from '../../../src/core/insight';
import type { Graph } from '../../../src/core/onnx/ir';
import { encodeModel } from '../../../src/core/onnx/encode';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { inlineWeights } from '../../../src/core/vgg16/graph';
import type { VggWeights } from '../../../src/core/vgg16/spec';
import { layers, TINY_VGG, VGG16 } from '../../../src/core/vgg16/spec';
import { mulberry32 } from '../../helpers/ort';

ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

async function open(g: Graph): Promise<GraphSession> {
  const s = await ort.InferenceSession.create(encodeModel(g), { graphOptimizationLevel: 'all' });
  return {
    async run(feeds) {
      const t: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) t[k] = new ort.Tensor('float32', v.data as Float32Array, v.dims);
      const out = await s.run(t);
      return Object.fromEntries(
        Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: v.data as Float32Array }]),
      );
    },
    release: () => s.release(),
  };
}

/** Tiny demo kernels with small biases. */
function tinyWeights(): VggWeights {
  const w = demoWeights(TINY_VGG, 5, ['base']);
  let k = 0;
  for (const lw of w.values()) lw.bias = lw.bias.map(() => 0.3 * Math.cos(k++));
  return w;
}

/** Score of image i of x (n, 3, S, S) RGB pixels for `filter` of `layer`, in float64: caffe preprocessing, convs + ReLU, max-pools. */
function reference(w: VggWeights, x: Float64Array, i: number, layer: string, filter: number): number {
  const S = Math.round(Math.sqrt(x.length / 6));
  const plane = S * S;
  const mean = [103.939, 116.779, 123.68];
  let size = S;
  let h = new Float64Array(3 * plane);
  for (let c = 0; c < 3; c++)
    for (let p = 0; p < plane; p++) h[c * plane + p] = x[(i * 3 + (2 - c)) * plane + p]! - mean[c]!;
  let channels = 3;
  for (const l of layers(TINY_VGG)) {
    if (l.kind === 'dense') break;
    if (l.kind === 'conv') {
      const { kernel, bias } = w.get(l.name)!;
      const y = new Float64Array(l.cout * size * size);
      for (let o = 0; o < l.cout; o++)
        for (let r = 0; r < size; r++)
          for (let q = 0; q < size; q++) {
            let v = bias[o]!;
            for (let c = 0; c < channels; c++)
              for (let dr = 0; dr < 3; dr++) {
                const rr = r + dr - 1;
                if (rr < 0 || rr >= size) continue;
                for (let dq = 0; dq < 3; dq++) {
                  const qq = q + dq - 1;
                  if (qq >= 0 && qq < size)
                    v += kernel[((o * channels + c) * 3 + dr) * 3 + dq]! * h[(c * size + rr) * size + qq]!;
                }
              }
            y[(o * size + r) * size + q] = Math.max(v, 0);
          }
      h = y;
      channels = l.cout;
    } else {
      const half = size / 2;
      const y = new Float64Array(channels * half * half);
      for (let c = 0; c < channels; c++)
        for (let r = 0; r < half; r++)
          for (let q = 0; q < half; q++) {
            const at = (dr: number, dq: number) => h[(c * size + 2 * r + dr) * size + 2 * q + dq]!;
            y[(c * half + r) * half + q] = Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1));
          }
      h = y;
      size = half;
    }
    if (l.name === layer) break;
  }
  let s = 0;
  for (let p = 0; p < size * size; p++) s += h[filter * size * size + p]!;
  return s / (size * size);
}

describe('the ascent graph (TINY_VGG, 32 px)', () => {
  const cfg = TINY_VGG;
  const S = 32;
  const w = tinyWeights();
  const B = 2;

  async function session(layer: string, winograd: boolean) {
    const g = buildAscentGraph({
      cfg,
      weights: (b) => inlineWeights(b, cfg, w),
      layer,
      size: S,
      preprocessing: 'caffe',
      winograd: winograd ? { minChannels: 4 } : false,
      exposeGradient: true,
    });
    const C = g.inputs.find((v) => v.name === ASCENT_IO.select)!.shape[1] as number;
    const s = await open(g);
    const run = async (pixels: Float32Array, select: Float32Array, step = 1, tv = 0) => {
      const out = await s.run({
        [ASCENT_IO.pixels]: { data: pixels, dims: [B, 3, S, S] },
        [ASCENT_IO.select]: { data: select, dims: [B, C] },
        [ASCENT_IO.step]: { data: Float32Array.of(step), dims: [1] },
        [ASCENT_IO.tvWeight]: { data: Float32Array.of(tv), dims: [1] },
      });
      return {
        next: out[ASCENT_IO.next]!.data as Float32Array,
        score: out[ASCENT_IO.score]!.data as Float32Array,
        grad: out[ASCENT_IO.grad]!.data as Float32Array,
      };
    };
    return { C, run, g };
  }

  const rng = mulberry32(3);
  const pixels = Float32Array.from({ length: B * 3 * S * S }, () => rng() * 60 + 100);

  for (const [layer, winograd] of [
    ['block3_conv2', false],
    ['block5_conv3', false],
    ['block4_pool', true],
    ['block5_conv3', true],
  ] as const) {
    it(`input gradient of ${layer} matches finite differences${winograd ? ' (Winograd, flipped-kernel Conv)' : ''}`, async () => {
      const { C, run, g } = await session(layer, winograd);
      expect(g.nodes.some((n) => n.op === 'ConvTranspose')).toBe(false); // all became Convs
      if (winograd) expect(g.nodes.some((n) => n.op === 'MatMul')).toBe(true);
      const select = new Float32Array(B * C);
      select[0 * C + 1] = 1;
      select[1 * C + (C - 1)] = 1;
      const base = await run(pixels, select);
      expect(base.score.every((v) => v > 0)).toBe(true);
      // FD on an independent float64 forward (float32 FD on a deep ReLU net has no good step: noise
      // ∝ 1/h, kinks ∝ h); the graph's own scores must agree with it first.
      const ref = (x: Float64Array) => [0, 1].reduce((s, i) => s + reference(w, x, i, layer, i === 0 ? 1 : C - 1), 0);
      const x64 = Float64Array.from(pixels);
      expect(ref(x64)).toBeCloseTo(base.score[0]! + base.score[1]!, 4);
      const h = 1e-3;
      let err2 = 0;
      let num2 = 0;
      const pick = mulberry32(9);
      for (let n = 0; n < 40; n++) {
        const i = Math.floor(pick() * pixels.length);
        const plus = x64.slice();
        const minus = x64.slice();
        plus[i] = x64[i]! + h;
        minus[i] = x64[i]! - h;
        const fd = (ref(plus) - ref(minus)) / (2 * h);
        err2 += (fd - base.grad[i]!) ** 2;
        num2 += fd * fd;
      }
      expect(Math.sqrt(err2 / num2)).toBeLessThan(winograd ? 1e-3 : 1e-4);
    });
  }

  it('steps x + step·g / (rms(g) + 1e-5) per image, minus tv·t / (rms(t) + 1e-5) for the TV term', async () => {
    const { C, run } = await session('block3_conv1', false);
    const select = new Float32Array(B * C);
    select[2] = 1;
    select[C + 5] = 1;
    const plane = 3 * S * S;
    const rms = (v: Float32Array) => Math.sqrt(v.reduce((s, q) => s + q * q, 0) / v.length);
    for (const tv of [0, 0.4]) {
      const { next, grad } = await run(pixels, select, 2.5, tv);
      for (let i = 0; i < B; i++) {
        const g = grad.subarray(i * plane, (i + 1) * plane);
        const x = pixels.subarray(i * plane, (i + 1) * plane);
        // ∂/∂x Σ squared neighbour differences = 2·Σ over neighbours (x − x_neighbour), per channel plane.
        const t = new Float32Array(plane);
        for (let c = 0; c < 3; c++)
          for (let r = 0; r < S; r++)
            for (let q = 0; q < S; q++) {
              const at = (rr: number, qq: number) => x[c * S * S + rr * S + qq]!;
              let v = 0;
              if (r > 0) v += at(r, q) - at(r - 1, q);
              if (r < S - 1) v += at(r, q) - at(r + 1, q);
              if (q > 0) v += at(r, q) - at(r, q - 1);
              if (q < S - 1) v += at(r, q) - at(r, q + 1);
              t[c * S * S + r * S + q] = 2 * v;
            }
        const [rg, rt] = [rms(g) + RMS_EPS, rms(t) + RMS_EPS];
        let worst = 0;
        for (let p = 0; p < plane; p++) {
          const want = x[p]! + 2.5 * (g[p]! / rg - tv * (t[p]! / rt));
          worst = Math.max(worst, Math.abs(next[i * plane + p]! - want));
        }
        expect(worst).toBeLessThan(1e-3);
      }
    }
  });
});

describe('ascend, roll and deprocess', () => {
  it('roll by (dy, dx) then by (−dy, −dx) is the identity; a roll moves pixels with wrap-around', () => {
    const S = 5;
    const x = Float32Array.from({ length: 2 * 3 * S * S }, (_, i) => i);
    const shifts: [number, number][] = [
      [2, -1],
      [-3, 4],
    ];
    const y = roll(x, 2, S, shifts);
    expect(y[(0 * 3 + 0) * S * S + 2 * S + 4]).toBe(x[0]); // (0,0) → (2, −1 mod 5 = 4)
    expect(
      roll(
        y,
        2,
        S,
        shifts.map(([a, b]) => [-a, -b]),
      ),
    ).toEqual(x);
  });

  it("deprocess is the book's: standardise, ×0.1, +0.5, clip, ×255", () => {
    const S = 2;
    const x = Float32Array.from([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 1e4]);
    const img = deprocess(x, 0, S);
    const mean = x.reduce((a, b) => a + b) / x.length;
    const std = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    const byte = (v: number) =>
      Uint8ClampedArray.of(Math.min(Math.max(((v - mean) / (std + 1e-5)) * 0.1 + 0.5, 0), 1) * 255)[0];
    expect(img.data[0]).toBe(byte(0)); // R of pixel 0 = plane 0
    expect(img.data[1]).toBe(byte(40)); // G of pixel 0 = plane 1
    expect(img.data[4 * 3 + 2]).toBe(byte(1e4)); // B of pixel 3 = plane 2
    const spike = new Float32Array(48);
    spike[47] = 1e6; // 6.9 standard deviations out: clipped at 1
    expect(deprocess(spike, 0, 4).data[15 * 4 + 2]).toBe(255);
    expect(img.data[3]).toBe(255);
  });

  it('a filter gets the same picture alone or in a batch (its own noise and jitter stream)', async () => {
    const cfg = TINY_VGG;
    const w = tinyWeights();
    const insight = new Insight({
      cfg,
      preprocessing: 'caffe',
      labels: [],
      weights: (b) => inlineWeights(b, cfg, w),
      open,
    });
    const settings: Partial<FilterSettings> = { steps: 5, size: 32, jitter: 2, tv: 0.2, seed: 4 };
    const batched = await insight.filters({ layer: 'block4_conv1', filters: [1, 6, 3], settings, batch: 3 });
    const alone = await insight.filters({ layer: 'block4_conv1', filters: [6], settings, batch: 1 });
    expect(batched.pictures.map((p) => p.filter)).toEqual([1, 6, 3]);
    const a = alone.pictures[0]!;
    const b = batched.pictures[1]!;
    expect(a.scores.map((v) => v.toFixed(3))).toEqual(b.scores.map((v) => v.toFixed(3)));
    let diff = 0;
    for (let i = 0; i < a.image.data.length; i++) diff = Math.max(diff, Math.abs(a.image.data[i]! - b.image.data[i]!));
    expect(diff).toBeLessThanOrEqual(1);
    expect(batched.pictures[0]!.image.data).not.toEqual(b.image.data);
    await insight.dispose();
  });

  it('rejects a filter index outside the layer', async () => {
    const run = async () => ({ next: new Float32Array(0), score: new Float32Array(0) });
    await expect(ascend(run, [8], 8, { ...BOOK_SETTINGS, size: 32 })).rejects.toThrow(/not in 0..7/);
  });
});

describe('gradient ascent on the demo VGG16 (64 px)', () => {
  it('raises the target activation at every one of the 40 steps (book settings, block5_conv3 and block1_conv1)', async () => {
    const cfg = VGG16;
    const w = demoWeights(cfg, 1, ['base']);
    const insight = new Insight({
      cfg,
      preprocessing: 'caffe',
      labels: [],
      weights: (b) => inlineWeights(b, cfg, w),
      open,
      winograd: true,
    });
    for (const layer of ['block5_conv3', 'block1_conv1']) {
      const r = await insight.filters({ layer, filters: [0, 1, 3], settings: { ...BOOK_SETTINGS, size: 64 } });
      // A filter whose ReLU output is 0 everywhere on the start noise has a zero gradient and stays
      // there (the book's post-ReLU objective); the demo weights have such filters in deep layers.
      const alive = r.pictures.filter((p) => p.scores[0]! > 0);
      expect(alive.length).toBeGreaterThanOrEqual(2);
      for (const p of r.pictures) {
        expect(p.scores).toHaveLength(40);
        if (!alive.includes(p)) {
          expect(p.scores.every((v) => v === 0)).toBe(true);
          continue;
        }
        for (let k = 1; k < p.scores.length; k++) expect(p.scores[k]!).toBeGreaterThan(p.scores[k - 1]!);
        expect(p.scores.at(-1)!).toBeGreaterThan(2 * p.scores[0]!);
      }
    }
    await insight.dispose();
  }, 300_000);
});
