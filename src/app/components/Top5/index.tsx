/**
 * The top-5 classes as buttons: pressing one explains that class (its heatmap), "Auto" follows top-1.
 * Rows are keyed by rank so the focused button stays put while labels change under it.
 */
import type { Prediction } from '../../../../workers/engine/protocol';
import { formatProb } from '../../format';
import type { ClassChoice } from '../../state';

export interface Top5Props {
  top5: Prediction[];
  choice: ClassChoice;
  /** The class the shown heatmap explains. */
  target?: { index: number; label: string };
  onChoose(choice: ClassChoice): void;
}

export function Top5({ top5, choice, target, onChoose }: Top5Props) {
  const offList = choice !== 'auto' && !top5.some((p) => p.index === choice);
  return (
    <section class="top5" aria-labelledby="top5-title" data-testid="top5">
      <h2 id="top5-title">Top 5</h2>
      <button type="button" class="choice-auto" aria-pressed={choice === 'auto'} onClick={() => onChoose('auto')}>
        Auto: explain the top class
      </button>
      {top5.length === 0 ? (
        <p class="hint">Waiting for the first frame…</p>
      ) : (
        <ol class="classes">
          {top5.map((p, rank) => (
            <li key={rank}>
              <button
                type="button"
                class="class-button"
                aria-pressed={choice === p.index}
                aria-label={`${p.label}, ${formatProb(p.prob)}: show its heatmap`}
                onClick={() => onChoose(p.index)}
              >
                <span class="class-label">{p.label}</span>
                <span class="class-prob">{formatProb(p.prob)}</span>
                <meter class="class-meter" min={0} max={1} value={p.prob} aria-hidden="true" />
              </button>
            </li>
          ))}
        </ol>
      )}
      {target && (
        <p class="target">
          Heatmap explains: <strong>{target.label}</strong>
          {offList ? ' (no longer in the top 5)' : ''}
        </p>
      )}
    </section>
  );
}
