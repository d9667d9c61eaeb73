/**
 * A byte progress bar on stderr: bytes done of total, rate and ETA. On a terminal one line redrawn
 * in place (at most 10 times a second); otherwise (a log, CI) a plain line every 10 % or 10 s.
 */

export interface Progress {
  /** Bytes done so far (absolute), and the total once known. */
  update(done: number, total?: number): void;
  /** The final line. */
  end(): void;
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

function clock(s: number): string {
  if (!Number.isFinite(s)) return '?';
  const t = Math.round(s);
  const m = Math.floor(t / 60);
  return m >= 60
    ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(t % 60).padStart(2, '0')}`
    : `${m}:${String(t % 60).padStart(2, '0')}`;
}

export function progressBar(
  label: string,
  out: { write(s: string): unknown; isTTY?: boolean } = process.stderr,
  now: () => number = () => performance.now(),
): Progress {
  const tty = !!out.isTTY;
  const t0 = now();
  let last = -Infinity;
  let lastTenth = -1;
  let done = 0;
  let total: number | undefined;
  const line = () => {
    const secs = (now() - t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta =
      total !== undefined && done >= total ? 0 : total !== undefined && rate > 0 ? (total - done) / rate : NaN;
    const frac = total ? Math.min(1, done / total) : 0;
    const width = 24;
    const bar = total ? `[${'#'.repeat(Math.round(frac * width)).padEnd(width, '.')}] ` : '';
    const pct = total ? ` (${(frac * 100).toFixed(0)} %)` : '';
    return `${label} ${bar}${mb(done)}${total ? ` of ${mb(total)}` : ''}${pct}, ${mb(rate)}/s, ETA ${clock(eta)}`;
  };
  return {
    update(d, t) {
      done = d;
      if (t !== undefined) total = t;
      const ms = now();
      if (tty) {
        if (ms - last < 100) return;
        last = ms;
        out.write(`\r${line()}\x1b[K`);
        return;
      }
      const tenth = total ? Math.floor((10 * done) / total) : -1;
      if (tenth > lastTenth || ms - last >= 10_000) {
        lastTenth = Math.max(lastTenth, tenth);
        last = ms;
        out.write(`${line()}\n`);
      }
    },
    end() {
      out.write(tty ? `\r${line()}\x1b[K\n` : `${line()}\n`);
    },
  };
}
