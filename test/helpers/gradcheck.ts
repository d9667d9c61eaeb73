/**
 * Check generated gradients against central finite differences.
 *
 * The graph's float inputs are the differentiable tensors. A random seed r (shape of the output y)
 * is the target's incoming gradient, so the analytic gradients are those of L = Σ y·r. The
 * numeric ones come from a forward-only session of the same graph (or a float64 reference):
 * (L(x+h) − L(x−h)) / 2h per sampled element, L accumulated in float64. Per wrt tensor:
 * ‖a − n‖ / max(‖n‖, 1e-6) ≤ tol, and the analytic gradient must not be all zeros.
 */
import { backward } from '../../src/core/autodiff/backward';
import { GraphBuilder } from '../../src/core/onnx/builder';
import { isStatic, numel } from '../../src/core/onnx/ir';
import type { FloatFeeds, Rng } from './ort';
import { compile, mulberry32, permutation, uniform } from './ort';

/**
 * How an input is drawn. uniform: U(−1, 1). positive: U(0.5, 2) (logs, roots, denominators).
 * separated: distinct values 0.05 apart, shuffled, none within 0.025 of zero, so an FD step
 * h < 0.025 neither reorders two elements (MaxPool) nor crosses a kink at 0 (ReLU, Abs).
 */
export type Dist = 'uniform' | 'positive' | 'separated';

export function draw(rng: Rng, n: number, dist: Dist = 'uniform'): Float32Array {
  switch (dist) {
    case 'uniform':
      return uniform(rng, n);
    case 'positive':
      return uniform(rng, n, 0.5, 2);
    case 'separated': {
      const half = Math.floor(n / 2);
      return Float32Array.from(permutation(rng, n), (k) => (k - half + 0.5) * 0.05);
    }
  }
}

export interface GradcheckOptions {
  /** Inputs to differentiate (default: every float32 graph input). */
  wrt?: string[];
  /** FD step: 1e-2 (default) for piecewise-linear graphs, ~3e-3 for smooth non-linear ones. */
  h?: number;
  tol?: number;
  /** Elements checked per wrt tensor: all when there are at most this many, else a seeded sample. */
  samples?: number;
  seed?: number;
  /** Distribution of each input not given in `feeds` (default uniform). */
  dist?: Record<string, Dist>;
  /**
   * An independent float64 forward (feeds → y, graph output order), used for the FD instead of the
   * ORT forward session; checked against that session at the base point first. For deep float32
   * graphs where FD noise (∝ 1/h) and kinks (∝ h) leave no good h.
   */
  reference?: (feeds: FloatFeeds) => ArrayLike<number>;
  /** Explicit input data. */
  feeds?: FloatFeeds;
}

export interface GradcheckReport {
  wrt: string;
  /** ‖a − n‖ / max(‖n‖, 1e-6) over the checked elements. */
  error: number;
  numericNorm: number;
  checked: number;
}

export class GradcheckError extends Error {
  override name = 'GradcheckError';
}

const SEED = '__gradcheck_seed';

/** Throws GradcheckError when a gradient is missing, all zero, or off by more than `tol`. */
export async function gradcheck(
  build: (b: GraphBuilder) => string,
  opts: GradcheckOptions = {},
): Promise<GradcheckReport[]> {
  const { h = 1e-2, tol = 1e-3, samples = 64, seed = 1, reference } = opts;
  const rng = mulberry32(seed);

  const fb = new GraphBuilder('forward');
  fb.output(build(fb));
  const floats = fb.graph.inputs.filter((v) => v.dtype === 'float32');
  const wrt = opts.wrt ?? floats.map((v) => v.name);

  // Input data and seed.
  const feeds: FloatFeeds = {};
  for (const v of floats) {
    if (!isStatic(v.shape)) throw new GradcheckError(`input '${v.name}' needs a static shape`);
    const given = opts.feeds?.[v.name];
    if (given && given.length !== numel(v.shape))
      throw new GradcheckError(`feed '${v.name}' has ${given.length} values, shape [${v.shape}]`);
    feeds[v.name] = given ?? draw(rng, numel(v.shape), opts.dist?.[v.name]);
  }
  const yInfo = fb.graph.outputs[0]!;
  if (!isStatic(yInfo.shape)) throw new GradcheckError('the output needs a static shape');
  const r = uniform(rng, numel(yInfo.shape));

  // Forward + backward once: the analytic gradients.
  const gb = new GraphBuilder('gradient');
  const y = build(gb);
  const seedName = gb.input(SEED, 'float32', yInfo.shape);
  const grads = backward(gb, [{ name: y, seed: seedName }], wrt);
  const outName = new Map<string, string>();
  for (const w of wrt) {
    const g = grads.get(w);
    if (!g) throw new GradcheckError(`backward returned no gradient for '${w}'`);
    // An Identity per gradient: two wrt tensors may share a gradient value, or get a graph input (the seed).
    outName.set(w, gb.output(gb.identity(g, `grad_${w}`)));
  }
  const analytic = await (await compile(gb.graph)).run({ ...feeds, [SEED]: r });

  const fwd = await compile(fb.graph);
  if (reference) {
    const [got, want] = [(await fwd.run(feeds))[yInfo.name]!, reference(feeds)];
    const scale = Math.max(...Array.from(want, Math.abs), 1e-6);
    const diff = Math.max(...Array.from(got, (v, i) => Math.abs(v - want[i]!)));
    if (got.length !== want.length || !(diff <= 1e-4 * scale)) {
      throw new GradcheckError(`the reference forward disagrees with the graph (max |Δy| ${diff}, max |y| ${scale})`);
    }
  }
  const loss = async (f: FloatFeeds): Promise<number> => {
    const out = reference ? reference(f) : (await fwd.run(f))[yInfo.name]!;
    let s = 0;
    for (let i = 0; i < out.length; i++) s += out[i]! * r[i]!;
    return s;
  };

  const reports: GradcheckReport[] = [];
  for (const w of wrt) {
    const a = analytic[outName.get(w)!]!;
    const x = feeds[w]!;
    if (a.length !== x.length)
      throw new GradcheckError(`gradient of '${w}' has ${a.length} values, the input ${x.length}`);
    if (a.every((v) => v === 0)) throw new GradcheckError(`the gradient of '${w}' is all zeros`);
    if (!a.every(Number.isFinite)) throw new GradcheckError(`the gradient of '${w}' is not finite`);
    const idx =
      x.length <= samples
        ? [...x.keys()]
        : permutation(rng, x.length)
            .slice(0, samples)
            .sort((p, q) => p - q);
    let err2 = 0;
    let num2 = 0;
    const off: { i: number; d: number; n: number }[] = [];
    for (const i of idx) {
      const plus = x.slice();
      const minus = x.slice();
      plus[i] = x[i]! + h;
      minus[i] = x[i]! - h;
      // Divided by the float32 step actually taken, not 2h.
      const n =
        ((await loss({ ...feeds, [w]: plus })) - (await loss({ ...feeds, [w]: minus }))) / (plus[i]! - minus[i]!);
      err2 += (a[i]! - n) ** 2;
      num2 += n * n;
      off.push({ i, d: Math.abs(a[i]! - n), n });
    }
    const error = Math.sqrt(err2) / Math.max(Math.sqrt(num2), 1e-6);
    if (!(error <= tol)) {
      const worst = off
        .sort((p, q) => q.d - p.d)
        .slice(0, 4)
        .map(({ i, n }) => `[${i}] analytic ${a[i]} numeric ${n}`);
      throw new GradcheckError(
        `gradient of '${w}': relative error ${error.toExponential(2)} > ${tol} over ${idx.length} elements; ${worst.join('; ')}`,
      );
    }
    reports.push({ wrt: w, error, numericNorm: Math.sqrt(num2), checked: idx.length });
  }
  return reports;
}
