/** Frame rate and time per frame in the worker. Not a live region: it changes every frame. */
import { formatFps, formatMs } from '../../format';

export interface StatsProps {
  fps: number;
  ms?: { preprocess: number; run: number; total: number };
  paused: boolean;
}

export function Stats({ fps, ms, paused }: StatsProps) {
  return (
    <p class="stats">
      <span data-testid="fps">{paused ? 'paused' : formatFps(fps)}</span>
      <span data-testid="ms" title={ms ? `preprocess ${formatMs(ms.preprocess)}, run ${formatMs(ms.run)}` : undefined}>
        {formatMs(ms?.total)} per frame
      </span>
    </p>
  );
}
