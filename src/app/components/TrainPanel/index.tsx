/** Settings, Train / Resume / Cancel, a progress bar per phase and the live loss and accuracy curves. */
import type { TrainPhase } from '../../../../workers/engine/protocol';
import type { RunView, TrainSettings } from '../../train/state';
import { ProgressBar } from '../ProgressBar';
import { TrainChart } from '../TrainChart';

export interface TrainPanelProps {
  settings: TrainSettings;
  run?: RunView;
  resumable: boolean;
  /** Why Train cannot start, if it cannot. */
  blocker?: string;
  onSettings(settings: Partial<TrainSettings>): void;
  onTrain(): void;
  onResume(): void;
  onCancel(): void;
}

const PHASES: { phase: TrainPhase; label: string }[] = [
  { phase: 'extract', label: 'Augmenting and extracting features' },
  { phase: 'train', label: 'Training the head' },
  { phase: 'finetune', label: 'Fine-tuning block5' },
];

const STATUS: Record<RunView['status'], string> = {
  running: 'Training…',
  cancelling: 'Stopping after this step…',
  done: 'Training finished.',
  cancelled: 'Training stopped: press Resume to continue.',
  failed: 'Training failed.',
};

export function TrainPanel({ settings, run, resumable, blocker, ...on }: TrainPanelProps) {
  const busy = run?.status === 'running' || run?.status === 'cancelling';
  const phases = PHASES.filter(({ phase }) => phase !== 'finetune' || settings.fineTune || run?.phases.finetune);
  return (
    <section class="train-panel" aria-labelledby="train-title" data-testid="train-panel">
      <h3 id="train-title">Train</h3>
      <fieldset class="train-settings" disabled={busy}>
        <legend>Settings</legend>
        <label>
          Head
          <select
            data-testid="setting-head"
            value={settings.head}
            onChange={(e) => on.onSettings({ head: (e.target as HTMLSelectElement).value as TrainSettings['head'] })}
          >
            <option value="dense">Dense 256 + dropout (the book)</option>
            <option value="gap">Global average pooling (fast, light)</option>
          </select>
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="setting-finetune"
            checked={settings.fineTune}
            onChange={(e) => on.onSettings({ fineTune: (e.target as HTMLInputElement).checked })}
          />
          Fine-tune block5 (slower)
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="setting-continue"
            checked={settings.continueFrom}
            title="Start at its weights and stop at the first epoch without a better validation loss"
            onChange={(e) => on.onSettings({ continueFrom: (e.target as HTMLInputElement).checked })}
          />
          Continue from the classifier in use (same classes and head: a quick retrain)
        </label>
        <label>
          Variants per photo
          <input
            type="number"
            data-testid="setting-variants"
            min={1}
            max={16}
            value={settings.variants}
            onChange={(e) => on.onSettings({ variants: Number((e.target as HTMLInputElement).value) })}
          />
        </label>
        <label>
          Max epochs
          <input
            type="number"
            data-testid="setting-epochs"
            min={1}
            max={200}
            value={settings.epochs}
            onChange={(e) => on.onSettings({ epochs: Number((e.target as HTMLInputElement).value) })}
          />
        </label>
        <label>
          Patience
          <input
            type="number"
            data-testid="setting-patience"
            min={1}
            max={200}
            value={settings.patience}
            title="Stop after this many epochs without a better validation loss"
            onChange={(e) => on.onSettings({ patience: Number((e.target as HTMLInputElement).value) })}
          />
        </label>
      </fieldset>
      <div class="train-buttons">
        <button type="button" data-testid="train" disabled={busy || !!blocker} onClick={on.onTrain}>
          Train
        </button>
        {resumable && !busy && (
          <button type="button" data-testid="resume" onClick={on.onResume}>
            Resume
          </button>
        )}
        {busy && (
          <button type="button" data-testid="cancel-train" disabled={run.status !== 'running'} onClick={on.onCancel}>
            Cancel
          </button>
        )}
      </div>
      {blocker && !busy && <p class="hint">To train: {blocker}.</p>}
      {run && (
        <div class="train-progress" aria-live="polite" data-testid="train-progress">
          <p data-testid="train-status">
            {STATUS[run.status]}
            {run.continued && ` Continuing from “${run.continued}”.`}
            {run.cached !== undefined &&
              run.features !== undefined &&
              ` ${run.cached} of ${run.features} features cached.`}
          </p>
          {phases.map(({ phase, label }) => (
            <ProgressBar
              key={phase}
              label={label}
              testId={`progress-${phase}`}
              progress={run.phases[phase] && { phase: '', ...run.phases[phase] }}
            />
          ))}
          <div class="charts">
            <TrainChart title="Loss" metric="loss" history={run.history} />
            <TrainChart title="Accuracy" metric="acc" history={run.history} />
          </div>
        </div>
      )}
    </section>
  );
}
