/** The live view's choice of head: the ImageNet classes, or one of my classifiers. */
import type { ClassifierEntry } from '../../train/state';

export interface ClassifierSwitchProps {
  classifiers: ClassifierEntry[];
  active?: string;
  onUse(id: string | undefined): void;
}

export function ClassifierSwitch({ classifiers, active, onUse }: ClassifierSwitchProps) {
  if (!classifiers.length) return null;
  return (
    <label class="classifier-switch">
      Classes
      <select
        data-testid="classifier-switch"
        value={active ?? ''}
        onChange={(e) => {
          const v = (e.target as HTMLSelectElement).value;
          onUse(v || undefined);
        }}
      >
        <option value="">ImageNet</option>
        {classifiers.map((c) => (
          <option key={c.id} value={c.id}>
            My classifier: {c.name}
          </option>
        ))}
      </select>
    </label>
  );
}
