/**
 * Seeded demo weights: not pretrained (predictions are meaningless), but the maths is real, and the
 * bytes are the same on every machine, engine and browser for a given (config, seed).
 *
 * Why no Math.random, Math.log, Math.sin or Math.cos: the ECMAScript spec leaves the last bits of
 * Math.log/sin/cos/exp to the implementation (V8, SpiderMonkey and JavaScriptCore use different
 * libm code), so a Box–Muller normal could differ by an ulp between engines and change every
 * shard's sha256. This file uses only 32-bit integer arithmetic (Math.imul, shifts, xor) and the
 * IEEE-754 operations +, −, ×, ÷ and sqrt, which the spec requires to be correctly rounded, so the
 * result is bit-identical everywhere. Float32Array stores round to nearest even, also exact.
 *
 * Kernels: He-normal for conv (std √(2 / fan_in), fan_in = cin·3·3), Glorot-uniform for dense
 * (Keras's default: U(−l, l), l = √(6 / (fan_in + fan_out))). Biases are zero.
 * Every layer draws from its own stream (seed, layer index), so asking for some parts only gives
 * the same values for those layers as asking for all of them.
 */
import type { Part, VggConfig, VggWeights } from './spec';
import { kernelDims, layers, partOf } from './spec';

const TWO_32 = 4294967296;

/** A 32-bit integer hash (Chris Wellons's "lowbias32"): good avalanche, two multiplies. */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/**
 * A splitmix-style generator: a Weyl sequence (state += golden ratio · 2³²) through hash32.
 * Returns uint32 values; period 2³², far more than the 4 · 14.7 M draws the largest layer needs.
 */
class Stream {
  private s: number;
  constructor(seed: number, layerIndex: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / TWO_32) >>> 0;
    this.s = hash32(hash32(lo ^ 0x5bd1e995) ^ hash32(hi + 0x27d4eb2f) ^ hash32(layerIndex + 0x165667b1));
  }
  next(): number {
    this.s = (this.s + 0x9e3779b9) | 0;
    return hash32(this.s);
  }
}

/**
 * Approximately normal values with standard deviation `std`: the sum of 4 independent uniforms
 * (Irwin–Hall, n = 4) centred and scaled to unit variance. Each uniform is (u + ½) / 2³² for a
 * uint32 u, so the sum of the four integers (< 2³⁴) and its centring are exact in a double, and
 * the one scaling multiply is correctly rounded. Var(U) = 1/12, so the sum of 4 has variance 1/3:
 * z = (Σ − 2) · √3. Its tails stop at ±2√3 ≈ ±3.46 σ, like the truncated normals Keras uses.
 */
function fillNormal(out: Float32Array, std: number, rng: Stream): void {
  const k = (std * Math.sqrt(3)) / TWO_32;
  const centre = 2 * TWO_32 - 2; // Σ(u + ½) − 2·2³² = Σu + 2 − 2³³
  for (let i = 0; i < out.length; i++) {
    const sum = rng.next() + rng.next() + rng.next() + rng.next();
    out[i] = (sum - centre) * k;
  }
}

/** Uniform values in (−limit, limit): (2(u + ½) / 2³² − 1) · limit, exact up to the final rounding. */
function fillUniform(out: Float32Array, limit: number, rng: Stream): void {
  const k = (2 * limit) / TWO_32;
  const centre = TWO_32 / 2 - 0.5;
  for (let i = 0; i < out.length; i++) out[i] = (rng.next() - centre) * k;
}

/**
 * Deterministic demo weights in the internal layout (conv OIHW, dense (out, in)). `seed` is any
 * safe integer. `parts` restricts the layers made (default: every part).
 */
export function demoWeights(cfg: VggConfig, seed = 1, parts?: readonly Part[]): VggWeights {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`demo weights: the seed must be an integer, got ${seed}`);
  const w: VggWeights = new Map();
  let index = 0;
  for (const l of layers(cfg)) {
    if (l.kind === 'pool') continue;
    const layerIndex = index++;
    if (parts && !parts.includes(partOf(l))) continue;
    const dims = kernelDims(l);
    const kernel = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const rng = new Stream(seed, layerIndex);
    if (l.kind === 'conv') fillNormal(kernel, Math.sqrt(2 / (l.cin * 9)), rng);
    else fillUniform(kernel, Math.sqrt(6 / (l.inputs + l.units)), rng);
    w.set(l.name, { kernel, bias: new Float32Array(dims[0]!) });
  }
  return w;
}
