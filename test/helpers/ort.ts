/**
 * Run generated graphs in onnxruntime-web (WASM backend, one thread) with Float32Array feeds, and
 * make deterministic test data.
 */
import * as ort from 'onnxruntime-web';
import { encodeModel } from '../../src/core/onnx/encode';
import type { Graph } from '../../src/core/onnx/ir';
import { isStatic } from '../../src/core/onnx/ir';

ort.env.wasm.numThreads = 1;

export type FloatFeeds = Record<string, Float32Array>;

/** A session over a Graph: feeds by input name, float32 outputs by name. */
export interface Runner {
  session: ort.InferenceSession;
  run(feeds: FloatFeeds): Promise<FloatFeeds>;
}

/** Feed dims come from the graph; `fixed` gives them for inputs with a symbolic shape. */
export async function compile(g: Graph, fixed: Record<string, number[]> = {}): Promise<Runner> {
  const dims = new Map<string, number[]>();
  for (const v of g.inputs) {
    const d = fixed[v.name] ?? v.shape;
    if (!isStatic(d)) throw new Error(`input '${v.name}' has a symbolic shape [${v.shape}]`);
    dims.set(v.name, d);
  }
  const session = await ort.InferenceSession.create(encodeModel(g));
  return {
    session,
    async run(feeds) {
      const t: Record<string, ort.Tensor> = {};
      for (const [name, data] of Object.entries(feeds)) {
        const d = dims.get(name);
        if (!d) throw new Error(`'${name}' is not an input of graph '${g.name}'`);
        t[name] = new ort.Tensor('float32', data, d);
      }
      const out = await session.run(t);
      const res: FloatFeeds = {};
      for (const [name, v] of Object.entries(out)) {
        if (v.type !== 'float32') throw new Error(`output '${name}' is ${v.type}, not float32`);
        res[name] = v.data as Float32Array;
      }
      return res;
    },
  };
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1) (the one the insight code uses). */
export { seeded as mulberry32 } from '../../src/core/insight/random';

export type Rng = () => number;

export function uniform(rng: Rng, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng());
}

/** Standard normal samples (Box–Muller), times `std`. */
export function normal(rng: Rng, n: number, std = 1): Float32Array {
  return Float32Array.from(
    { length: n },
    () => std * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()),
  );
}

/** A random permutation of 0 … n−1 (Fisher–Yates). */
export function permutation(rng: Rng, n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}
