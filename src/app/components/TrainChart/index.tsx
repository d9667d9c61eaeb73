/** Loss or accuracy per epoch, training and validation, as a small SVG line chart with a text summary. */
import type { EpochMetrics } from '../../../../workers/engine/protocol';

export interface TrainChartProps {
  title: string;
  history: EpochMetrics[];
  metric: 'loss' | 'acc';
}

const W = 240;
const H = 120;
const PAD = 24;

/** Points of a polyline for `values` scaled into the plot box (max: the top). */
export function chartPoints(values: number[], max: number): string {
  const n = values.length;
  const x = (i: number) => PAD + (n > 1 ? (i * (W - 2 * PAD)) / (n - 1) : (W - 2 * PAD) / 2);
  const y = (v: number) => H - PAD - (Math.min(Math.max(v, 0), max) / max) * (H - 2 * PAD);
  return values.map((v, i) => `${x(i).toFixed(1)},${y(Number.isFinite(v) ? v : 0).toFixed(1)}`).join(' ');
}

export function TrainChart({ title, history, metric }: TrainChartProps) {
  const train = history.map((m) => (metric === 'loss' ? m.loss : m.acc));
  const val = history.map((m) => (metric === 'loss' ? m.valLoss : m.valAcc));
  const finite = [...train, ...val].filter(Number.isFinite);
  const max = metric === 'acc' ? 1 : Math.max(1e-6, ...finite) * 1.05;
  const last = history[history.length - 1];
  const fmt = (v: number) => (metric === 'acc' ? `${Math.round(v * 100)} %` : v.toFixed(3));
  const summary = last
    ? `${title} after epoch ${history.length}: training ${fmt(metric === 'loss' ? last.loss : last.acc)}, validation ${fmt(metric === 'loss' ? last.valLoss : last.valAcc)}`
    : `${title}: no epoch yet`;
  return (
    <figure class="train-chart" data-testid={`chart-${metric}`}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary}>
        <line class="axis" x1={PAD} y1={H - PAD} x2={W - PAD} y2={H - PAD} />
        <line class="axis" x1={PAD} y1={PAD} x2={PAD} y2={H - PAD} />
        <text x={2} y={PAD + 4} class="tick">
          {metric === 'acc' ? '100%' : max.toFixed(2)}
        </text>
        <text x={2} y={H - PAD} class="tick">
          0
        </text>
        {history.length > 0 && <polyline class="line-train" points={chartPoints(train, max)} />}
        {history.length > 0 && <polyline class="line-val" points={chartPoints(val, max)} />}
      </svg>
      <figcaption>
        {title} <span class="key-train">— training</span> <span class="key-val">- - validation</span>
        <span class="sr-only">{summary}</span>
      </figcaption>
    </figure>
  );
}
