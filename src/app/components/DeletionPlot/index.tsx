/**
 * The deletion curve as a small SVG plot: the class probability as the most salient pixels are removed
 * (blur-filled), for the CAM and for random saliency maps (their mean), with the areas under the curves.
 * A faithful map makes the probability fall fast: a smaller area than random.
 */
import type { DeletionCurve, DeletionResult } from '../../../../workers/engine/protocol';

export interface DeletionPlotProps {
  result: DeletionResult;
  /** The CAM's name in the legend, e.g. "Grad-CAM++". */
  name: string;
}

const W = 240;
const H = 140;
const M = { l: 36, r: 8, t: 8, b: 24 };

/** The mean of several curves over the same fractions (undefined without curves). */
export function meanCurve(curves: DeletionCurve[]): DeletionCurve | undefined {
  if (!curves.length) return undefined;
  const fractions = curves[0]!.fractions;
  const scores = fractions.map((_, i) => curves.reduce((s, c) => s + (c.scores[i] ?? 0), 0) / curves.length);
  return { fractions, scores, auc: curves.reduce((s, c) => s + c.auc, 0) / curves.length };
}

const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 0.01 ? v.toFixed(3) : v.toExponential(2));

export function DeletionPlot({ result, name }: DeletionPlotProps) {
  const random = meanCurve(result.random);
  const curves = [result.curve, ...(random ? [random] : [])];
  const top = Math.max(1e-12, ...curves.flatMap((c) => c.scores));
  const x = (f: number) => M.l + f * (W - M.l - M.r);
  const y = (p: number) => H - M.b - (p / top) * (H - M.t - M.b);
  const points = (c: DeletionCurve) =>
    c.fractions.map((f, i) => `${x(f).toFixed(1)},${y(c.scores[i]!).toFixed(1)}`).join(' ');
  const summary =
    `${name}: area ${fmt(result.curve.auc)}` +
    (random ? `; random maps (mean of ${result.random.length}): area ${fmt(random.auc)}` : '');
  return (
    <figure class="deletion" data-testid="deletion-plot">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Deletion curve. ${summary}`}>
        <line class="axis" x1={M.l} y1={H - M.b} x2={W - M.r} y2={H - M.b} />
        <line class="axis" x1={M.l} y1={M.t} x2={M.l} y2={H - M.b} />
        <text x={M.l - 4} y={M.t + 8} text-anchor="end">
          {fmt(top)}
        </text>
        <text x={M.l - 4} y={H - M.b} text-anchor="end">
          0
        </text>
        <text x={(M.l + W - M.r) / 2} y={H - 6} text-anchor="middle">
          pixels removed (0 → 100 %)
        </text>
        {random && <polyline class="curve curve-random" points={points(random)} data-testid="deletion-random" />}
        <polyline class="curve curve-cam" points={points(result.curve)} data-testid="deletion-cam" />
      </svg>
      <figcaption data-testid="deletion-auc">
        <span class="key key-cam">{name}</span> area {fmt(result.curve.auc)}
        {random && (
          <>
            {' · '}
            <span class="key key-random">random</span> area {fmt(random.auc)} (mean of {result.random.length})
          </>
        )}
        {' · smaller is more faithful'}
      </figcaption>
    </figure>
  );
}
