/** The stderr progress bar: redrawn in place on a terminal, plain lines every 10 % otherwise. */
import { describe, expect, it } from 'vitest';
import { progressBar } from '../../../src/cli/progress';

function run(isTTY: boolean) {
  const out: string[] = [];
  let t = 0;
  const bar = progressBar('download', { write: (s: string) => out.push(s), isTTY }, () => t);
  for (let done = 0; done <= 100e6; done += 5e6) {
    t += 500; // 5 MB every half second: 10 MB/s
    bar.update(done, 100e6);
  }
  bar.end();
  return out;
}

describe('progressBar', () => {
  it('writes plain lines every 10 % when stderr is not a terminal, with rate and ETA', () => {
    const out = run(false);
    expect(out.every((l) => l.endsWith('\n') && !l.includes('\r'))).toBe(true);
    expect(out.length).toBe(12); // 0 %, 10 % … 100 %, and the final line
    // 40 MB after 4.5 s: 8.9 MB/s, 60 MB left: 6.75 s.
    expect(out[4]).toBe('download [##########..............] 40.0 MB of 100.0 MB (40 %), 8.9 MB/s, ETA 0:07\n');
    expect(out.at(-1)).toMatch(/100\.0 MB of 100\.0 MB \(100 %\), [\d.]+ MB\/s, ETA 0:00\n$/);
  });

  it('redraws one line in place on a terminal', () => {
    const out = run(true);
    expect(out.every((l) => l.startsWith('\r'))).toBe(true);
    expect(out.length).toBe(22);
    expect(out.at(-1)!.endsWith('\n')).toBe(true);
  });
});
