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
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return summarize(samples);
}
