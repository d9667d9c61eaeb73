/** The stratified validation split and the seeded PRNG the training loop relies on. */
import { describe, expect, it } from 'vitest';
import { Rng, hashString, seedOf } from '../../../src/core/train/rng';
import { stratifiedSplit } from '../../../src/core/train/split';

describe('stratifiedSplit', () => {
  const labels = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 3];
  const ids = labels.map((l, i) => `class${l}/photo-${i}.jpg`);

  it('holds out round(fraction·count) photos of every class that has two or more, never all', () => {
    const s = stratifiedSplit(labels, ids, 4, 0.2, 1);
    const count = (idx: number[], c: number) => idx.filter((i) => labels[i] === c).length;
    expect([0, 1, 2, 3].map((c) => count(s.val, c))).toEqual([2, 1, 1, 0]);
    expect([0, 1, 2, 3].map((c) => count(s.train, c))).toEqual([8, 4, 1, 1]);
    // Every photo exactly once (its variants follow it, so they never straddle the split).
    expect([...s.train, ...s.val].sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
  });

  it('is deterministic under a seed and changes with it', () => {
    expect(stratifiedSplit(labels, ids, 4, 0.3, 5)).toEqual(stratifiedSplit(labels, ids, 4, 0.3, 5));
    const seeds = new Set([1, 2, 3, 4, 5, 6].map((s) => JSON.stringify(stratifiedSplit(labels, ids, 4, 0.3, s).val)));
    expect(seeds.size).toBeGreaterThan(1);
  });

  it('moves at most one other photo of its class across the split when a photo is added', () => {
    // The retrain after one more photo re-extracts the features of every photo that changed side.
    const rng = new Rng(7);
    let moved = 0;
    for (let trial = 0; trial < 200; trial++) {
      const n = 2 + Math.floor(rng.float() * 30);
      const ls = Array.from({ length: n }, () => Math.floor(rng.float() * 3));
      const is = ls.map((_, i) => `t${trial}/p${i}`);
      const before = stratifiedSplit(ls, is, 3, 0.2, trial);
      const c = Math.floor(rng.float() * 3);
      const after = stratifiedSplit([...ls, c], [...is, `t${trial}/new`], 3, 0.2, trial);
      const changed = ls.map((_, i) => i).filter((i) => before.val.includes(i) !== after.val.includes(i));
      expect(changed.length).toBeLessThanOrEqual(1);
      for (const i of changed) expect(ls[i]).toBe(c);
      moved += changed.length;
    }
    // …and it does move one now and then (a rounding step, or the new photo ranked among the held-out).
    expect(moved).toBeGreaterThan(0);
  });

  it('depends on the ids, not on the order the photos come in', () => {
    const order = labels.map((_, i) => i).reverse();
    const a = stratifiedSplit(labels, ids, 4, 0.3, 2);
    const b = stratifiedSplit(
      order.map((i) => labels[i]!),
      order.map((i) => ids[i]!),
      4,
      0.3,
      2,
    );
    expect(b.val.map((j) => ids[order[j]!]).sort()).toEqual(a.val.map((i) => ids[i]).sort());
  });

  it('rejects ids that do not match the labels', () => {
    expect(() => stratifiedSplit([0, 1], ['a'], 2, 0.5, 1)).toThrow(/2 labels but 1 ids/);
  });

  it('holds out nothing for fraction 0 and at most count − 1 for large fractions', () => {
    expect(stratifiedSplit(labels, ids, 4, 0, 1).val).toEqual([]);
    const s = stratifiedSplit([0, 0, 1, 1], ['a', 'b', 'c', 'd'], 2, 0.9, 1);
    expect(s.val).toHaveLength(2);
    expect(s.train).toHaveLength(2);
  });
});

describe('Rng', () => {
  it('resumes bit-exactly from its saved state', () => {
    const a = new Rng(42);
    for (let i = 0; i < 10; i++) a.next();
    const b = Rng.resume(a.state);
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(Array.from({ length: 5 }, () => a.next()));
  });

  it('gives uniform floats in [0, 1) and permutations', () => {
    const r = new Rng(1);
    const xs = Array.from({ length: 10_000 }, () => r.float());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    expect(Math.abs(xs.reduce((a, b) => a + b, 0) / xs.length - 0.5)).toBeLessThan(0.01);
    expect(r.shuffle([...Array(20).keys()]).sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
  });

  it('derives distinct seeds from ids and indices', () => {
    expect(hashString('grass/a.png')).not.toBe(hashString('grass/b.png'));
    expect(seedOf(1, 2, 3)).not.toBe(seedOf(1, 3, 2));
    expect(seedOf(1, 2, 3)).toBe(seedOf(1, 2, 3));
  });
});
