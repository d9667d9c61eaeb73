/** The stored classifiers: use one in the live view (or ImageNet), export to a file, import one, delete. */
import type { ClassifierEntry } from '../../train/state';

export interface ClassifierListProps {
  classifiers: ClassifierEntry[];
  active?: string;
  /** A model is loaded (importing and using need its base). */
  canUse: boolean;
  onUse(id: string | undefined): void;
  onExport(id: string): void;
  onDelete(id: string): void;
  onImport(file: File): void;
}

const pct = (v: number | undefined) => (v === undefined ? 'accuracy unknown' : `${Math.round(v * 100)} % validation`);

export function ClassifierList({ classifiers, active, canUse, ...on }: ClassifierListProps) {
  return (
    <section class="classifier-list" aria-labelledby="classifiers-title" data-testid="classifier-list">
      <h3 id="classifiers-title">My classifiers</h3>
      {classifiers.length === 0 && <p class="hint">None yet: train one, or import a .classifier file.</p>}
      <ul>
        {classifiers.map((c) => (
          <li key={c.id} class={c.id === active ? 'active' : undefined} data-testid="classifier">
            <span class="classifier-name">
              {c.name}
              {c.id === active && <strong> (in use)</strong>}
            </span>
            <span class="classifier-meta">
              {c.classes.length} classes · {c.head === 'gap' ? 'GAP' : 'dense'} head
              {c.fineTuned ? ' · fine-tuned' : ''} · {pct(c.valAcc)} · {new Date(c.created).toLocaleString()}
            </span>
            <span class="classifier-actions">
              <button
                type="button"
                data-testid="classifier-use"
                disabled={!canUse || c.id === active}
                onClick={() => on.onUse(c.id)}
              >
                Use
              </button>
              <button type="button" data-testid="classifier-export" onClick={() => on.onExport(c.id)}>
                Export
              </button>
              <button
                type="button"
                data-testid="classifier-delete"
                aria-label={`Delete classifier ${c.name}`}
                onClick={() => on.onDelete(c.id)}
              >
                Delete
              </button>
            </span>
          </li>
        ))}
      </ul>
      <div class="classifier-bottom">
        <button
          type="button"
          data-testid="use-imagenet"
          disabled={!canUse || !active}
          onClick={() => on.onUse(undefined)}
        >
          Back to ImageNet
        </button>
        <label class="file-pick">
          Import a classifier
          <input
            type="file"
            accept=".classifier,application/octet-stream"
            data-testid="classifier-import"
            disabled={!canUse}
            onChange={(e) => {
              const input = e.target as HTMLInputElement;
              const file = input.files?.[0];
              if (file) on.onImport(file);
              input.value = '';
            }}
          />
        </label>
      </div>
    </section>
  );
}
