/** The classes of the training set: pick one to photograph, add one (name and colour), remove one. */
import { useState } from 'preact/hooks';
import type { TrainClass } from '../../train/state';

export interface ClassListProps {
  classes: TrainClass[];
  counts: Record<string, number>;
  selected?: string;
  /** The class whose Delete waits for confirmation. */
  confirmRemove?: string;
  disabled: boolean;
  onSelect(id: string): void;
  onAdd(name: string, colour: string): void;
  onRemove(id: string): void;
  onCancelRemove(): void;
}

const NEXT_COLOURS = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

export function ClassList(props: ClassListProps) {
  const { classes, counts, selected, confirmRemove, disabled, onSelect, onAdd, onRemove } = props;
  const [name, setName] = useState('');
  const [colour, setColour] = useState<string | undefined>(undefined);
  const nextColour = colour ?? NEXT_COLOURS[classes.length % NEXT_COLOURS.length]!;
  const submit = (e: Event) => {
    e.preventDefault();
    if (!name.trim()) return;
    onAdd(name, nextColour);
    setName('');
    setColour(undefined);
  };
  return (
    <section class="class-list" aria-labelledby="classes-title" data-testid="class-list">
      <h3 id="classes-title">Classes</h3>
      <ul>
        {classes.map((c) => (
          <li key={c.id} class={c.id === selected ? 'selected' : undefined}>
            <button
              type="button"
              class="class-pick"
              data-testid={`class-${c.name}`}
              aria-pressed={c.id === selected}
              onClick={() => onSelect(c.id)}
            >
              <span class="swatch" style={{ background: c.colour }} aria-hidden="true" />
              {c.name} <span class="count">({counts[c.id] ?? 0} photos)</span>
            </button>
            <button
              type="button"
              class={confirmRemove === c.id ? 'danger' : 'ghost'}
              data-testid={`class-remove-${c.name}`}
              aria-label={
                confirmRemove === c.id
                  ? `Really delete ${c.name} and its ${counts[c.id] ?? 0} photos`
                  : `Delete class ${c.name} and its photos`
              }
              disabled={disabled}
              onClick={() => onRemove(c.id)}
            >
              {confirmRemove === c.id ? `Delete ${counts[c.id] ?? 0} photos too` : '×'}
            </button>
            {confirmRemove === c.id && (
              <button type="button" class="ghost" onClick={props.onCancelRemove}>
                Keep
              </button>
            )}
          </li>
        ))}
      </ul>
      <form class="class-add" onSubmit={submit}>
        <label>
          New class
          <input
            type="text"
            data-testid="class-name"
            maxLength={100}
            value={name}
            placeholder="e.g. mug"
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        <label>
          Colour
          <input
            type="color"
            data-testid="class-colour"
            value={nextColour}
            onInput={(e) => setColour((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit" data-testid="class-add" disabled={disabled || !name.trim()}>
          Add class
        </button>
      </form>
    </section>
  );
}
