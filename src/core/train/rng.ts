/**
 * A seeded PRNG whose whole state is one uint32, so a training run can be saved mid-way and resumed
 * bit-exactly. splitmix32: a Weyl sequence (state += golden ratio · 2³²) through an integer mixer;
 * integer arithmetic only, so the draws are the same on every JS engine.
 */

const GOLDEN = 0x9e3779b9;

/** A 32-bit mixer (Chris Wellons's "lowbias32"). */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x21f0aaad);
  x ^= x >>> 15;
  x = Math.imul(x, 0x735a2d97);
  x ^= x >>> 15;
  return x >>> 0;
}

/** FNV-1a over a string's UTF-16 code units, then mixed: a stable 32-bit key for ids. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return mix32(h >>> 0);
}

/** Combine integers (seeds, indices, hashes) into one 32-bit seed, order-sensitive. */
export function seedOf(...parts: number[]): number {
  let h = 0x27d4eb2f;
  for (const p of parts) h = mix32((h ^ mix32((p >>> 0) + GOLDEN)) >>> 0);
  return h;
}

export class Rng {
  /** The whole state: save it to resume the same stream. */
  state: number;

  constructor(seed: number) {
    this.state = seedOf(seed) >>> 0;
  }

  /** Continue from a saved `state`. */
  static resume(state: number): Rng {
    const r = new Rng(0);
    r.state = state >>> 0;
    return r;
  }

  /** A uniform uint32. */
  next(): number {
    this.state = (this.state + GOLDEN) >>> 0;
    return mix32(this.state);
  }

  /** Uniform in [0, 1) with 32 random bits (exact: an integer divided by 2³²). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.float();
  }

  /** A uniform integer in [0, n) (multiply-shift; bias < n / 2³², negligible for our sizes). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}
