/**
 * One RMSprop and one Adam update, as emitted into a graph, against the plain float64 formulas
 * (test/unit/train/reference.ts). Parameters, gradients and slots are random and non-zero, Adam runs at
 * step t = 3 so its bias correction (β^t, from the step input) is exercised.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import type { OptimizerSpec } from '../../../src/core/train/optim';
import { emitUpdate, initSlots, optimizer, slotNames } from '../../../src/core/train/optim';
import { compile, mulberry32, uniform } from '../../helpers/ort';
import { adamStep, relErr, rmspropStep } from './reference';

const N = 257;

async function step(spec: OptimizerSpec, feeds: Record<string, Float32Array>, lr: number, t: number) {
  const b = new GraphBuilder('opt');
  const p = b.input('p', 'float32', [N]);
  const g = b.input('g', 'float32', [N]);
  const slots = slotNames(spec, 'p').map((s) => b.input(s, 'float32', [N]));
  const lrIn = b.input('lr', 'float32', []);
  const stepIn = b.input('step', 'float32', []);
  const out = emitUpdate(b, spec, p, g, slots, lrIn, stepIn);
  b.output(b.identity(out.param, 'new_p'));
  out.slots.forEach((s, i) => b.output(b.identity(s, `new_slot${i}`)));
  if (spec.kind === 'rmsprop') b.output(b.identity(b.mul(stepIn, b.scalar(0)), 'unused')); // keep `step` read
  const r = await compile(b.graph);
  const res = await r.run({ ...feeds, lr: Float32Array.of(lr), step: Float32Array.of(t) });
  const outputs = b.graph.outputs.map((o) => res[o.name]!);
  return { p: outputs[0]!, slots: outputs.slice(1, 1 + out.slots.length) };
}

describe('optimizer updates as graph ops', () => {
  const rng = mulberry32(7);
  const p = uniform(rng, N);
  // The last quarter has tiny gradients and second moments, where ε and its place (inside the root
  // for RMSprop, outside for Adam) decide the step: a formula with ε elsewhere fails there.
  const tiny = (i: number) => i >= (3 * N) / 4;
  const g = uniform(rng, N, -0.5, 0.5).map((x, i) => (tiny(i) ? x * 1e-3 : x));
  const second = (lo: number, hi: number) => uniform(rng, N, lo, hi).map((x, i) => (tiny(i) ? x * 1e-6 : x));

  it('has Keras defaults and zero-initialised slots', () => {
    expect(optimizer('rmsprop')).toEqual({ kind: 'rmsprop', rho: 0.9, epsilon: 1e-7 });
    expect(optimizer('adam')).toEqual({ kind: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
    const s = initSlots(optimizer('adam'), { w: new Float32Array(3) });
    expect(Object.keys(s)).toEqual(['w:m', 'w:v']);
    expect([...s['w:m']!, ...s['w:v']!]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('RMSprop: v ← ρv + (1−ρ)g², p ← p − lr·g/√(v+ε), within 1e-6 of float64', async () => {
    const v = second(0.001, 0.1);
    const lr = 0.01;
    const got = await step(optimizer('rmsprop'), { p, g, 'p:rms': v }, lr, 1);
    const want = rmspropStep(p, g, v, lr);
    expect(relErr(got.p, want.p)).toBeLessThan(1e-6);
    expect(relErr(got.slots[0]!, want.v)).toBeLessThan(1e-6);
    // The update itself (not only p, which dominates it) follows the formula.
    const delta = (a: ArrayLike<number>) => Float64Array.from(p, (x, i) => a[i]! - x);
    expect(relErr(delta(got.p), delta(want.p))).toBeLessThan(1e-4);
  });

  it('RMSprop from zero slots moves every weight by about lr·√10 (the first-step signature)', async () => {
    const got = await step(optimizer('rmsprop'), { p, g, 'p:rms': new Float32Array(N) }, 1e-3, 1);
    // lr·g/√(0.1·g² + ε) = lr·√10 once 0.1·g² ≫ ε = 1e-7.
    const big = [...g.keys()].filter((i) => Math.abs(g[i]!) > 0.01);
    expect(big.length).toBeGreaterThan(N * 0.6);
    const moved = big.map((i) => Math.abs(got.p[i]! - p[i]!) / 1e-3);
    expect(Math.min(...moved)).toBeGreaterThan(3.1);
    expect(Math.max(...moved)).toBeLessThan(3.17);
  });

  it('Adam at t = 3: moments, bias-corrected step size, ε outside the root, within 1e-6 of float64', async () => {
    const m = uniform(rng, N, -0.1, 0.1);
    const v = second(0.001, 0.05);
    const lr = 0.01;
    const got = await step(optimizer('adam'), { p, g, 'p:m': m, 'p:v': v }, lr, 3);
    const want = adamStep(p, g, m, v, lr, 3);
    expect(relErr(got.p, want.p)).toBeLessThan(1e-6);
    expect(relErr(got.slots[0]!, want.m)).toBeLessThan(1e-6);
    expect(relErr(got.slots[1]!, want.v)).toBeLessThan(1e-6);
    const delta = (a: ArrayLike<number>) => Float64Array.from(p, (x, i) => a[i]! - x);
    expect(relErr(delta(got.p), delta(want.p))).toBeLessThan(1e-4);
    // t matters: the same inputs at t = 1 give another step.
    const t1 = await step(optimizer('adam'), { p, g, 'p:m': m, 'p:v': v }, lr, 1);
    expect(relErr(t1.p, adamStep(p, g, m, v, lr, 1).p)).toBeLessThan(1e-6);
    expect(relErr(t1.p, got.p)).toBeGreaterThan(1e-4);
  });
});
