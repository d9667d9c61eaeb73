/** Timing helpers for the benchmark: warm-up, then N timed runs; median, min, max. */
export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function summarize(samples: number[]): Stat {
  const s = [...samples].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}

export async function timeIt(fn: () => Promise<unknown>, runs = 5, warmup = 1): Promise<Stat> {
  return summarize((await inTurns([fn], runs, warmup))[0]!);
}

/**
 * Runs `fns` in turns (a, b, a, b, …) after `warmup` calls each; returns each one's `runs` samples.
 * Rows whose ratio matters (the Grad-CAM overhead) are timed this way so that the host's drift,
 * larger than the ratio's goal, falls on both alike.
 */
export async function inTurns(fns: (() => Promise<unknown>)[], runs = 5, warmup = 1): Promise<number[][]> {
  for (let i = 0; i < warmup; i++) for (const fn of fns) await fn();
  const samples = fns.map((): number[] => []);
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of fns.entries()) {
      const t = performance.now();
      await fn();
      samples[k]!.push(performance.now() - t);
    }
  }
  return samples;
}
