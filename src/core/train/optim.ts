/**
 * Optimisers as graph ops, so one session run does forward, loss, backward and the update. The
 * formulas are Keras 3's (keras/src/optimizers/rmsprop.py, adam.py), element by element:
 *
 *   RMSprop:  v ← ρ·v + (1 − ρ)·g²;   p ← p − lr·g / √(v + ε)
 *   Adam:     m ← m + (g − m)·(1 − β₁);   v ← v + (g² − v)·(1 − β₂)
 *             α = lr·√(1 − β₂ᵗ) / (1 − β₁ᵗ);   p ← p − α·m / (√v + ε)      (t = 1, 2, …: the step input)
 *
 * lr and t are graph inputs (scalars), so a schedule or a resumed run needs no new graph.
 */
import type { GraphBuilder } from '../onnx/builder';

export type OptimizerSpec =
  { kind: 'rmsprop'; rho: number; epsilon: number } | { kind: 'adam'; beta1: number; beta2: number; epsilon: number };

export type OptimizerKind = OptimizerSpec['kind'];

/** Keras's defaults. */
export function optimizer(kind: OptimizerKind): OptimizerSpec {
  return kind === 'adam' ? { kind, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 } : { kind, rho: 0.9, epsilon: 1e-7 };
}

/** Names of a parameter's optimizer slots (zero-initialised). */
export function slotNames(spec: OptimizerSpec, param: string): string[] {
  return spec.kind === 'adam' ? [`${param}:m`, `${param}:v`] : [`${param}:rms`];
}

/** Emit one parameter's update; returns the new parameter and new slots (same order as slotNames). */
export function emitUpdate(
  b: GraphBuilder,
  spec: OptimizerSpec,
  p: string,
  g: string,
  slots: string[],
  lr: string,
  step: string,
): { param: string; slots: string[] } {
  const c = (v: number) => b.scalar(v);
  const g2 = b.mul(g, g);
  if (spec.kind === 'rmsprop') {
    const v = b.add(b.mul(slots[0]!, c(spec.rho)), b.mul(g2, c(1 - spec.rho)));
    const param = b.sub(p, b.div(b.mul(g, lr), b.sqrt(b.add(v, c(spec.epsilon)))));
    return { param, slots: [v] };
  }
  const [m0, v0] = slots as [string, string];
  const m = b.add(m0, b.mul(b.sub(g, m0), c(1 - spec.beta1)));
  const v = b.add(v0, b.mul(b.sub(g2, v0), c(1 - spec.beta2)));
  // α in float64: in float32, 1 − β₂ᵗ loses ~5 digits to cancellation (0.999 itself is off by 1.3e-8),
  // a 1e-5 relative error in every step at small t; the cast back costs nothing.
  const d = (v: number) => b.scalar(v, 'float64');
  const t = b.cast(step, 'float64');
  const bias1 = b.sub(d(1), b.pow(d(spec.beta1), t));
  const bias2 = b.sub(d(1), b.pow(d(spec.beta2), t));
  const alpha = b.cast(b.div(b.mul(b.cast(lr, 'float64'), b.sqrt(bias2)), bias1), 'float32');
  const param = b.sub(p, b.div(b.mul(m, alpha), b.add(b.sqrt(v), c(spec.epsilon))));
  return { param, slots: [m, v] };
}

/** Zero slots for the given parameters. */
export function initSlots(spec: OptimizerSpec, params: Record<string, Float32Array>): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [name, p] of Object.entries(params))
    for (const s of slotNames(spec, name)) out[s] = new Float32Array(p.length);
  return out;
}
