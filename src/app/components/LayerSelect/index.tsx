/** A labelled <select> of the model's conv and pool layers, each with its output shape. */
import type { InsightLayer } from '../../../../workers/engine/protocol';

export interface LayerSelectProps {
  label: string;
  layers: InsightLayer[];
  value?: string;
  /** Only these kinds (default: conv and pool). */
  kinds?: InsightLayer['kind'][];
  disabled?: boolean;
  testId?: string;
  onChange(layer: string): void;
}

export function LayerSelect({ label, layers, value, kinds, disabled, testId, onChange }: LayerSelectProps) {
  const shown = kinds ? layers.filter((l) => kinds.includes(l.kind)) : layers;
  return (
    <label class="field">
      <span>{label}</span>
      <select
        value={value ?? ''}
        disabled={disabled || !shown.length}
        data-testid={testId}
        onChange={(e) => onChange(e.currentTarget.value)}
      >
        {shown.map((l) => (
          <option key={l.name} value={l.name}>
            {l.name} · {l.dims.join('×')}
          </option>
        ))}
      </select>
    </label>
  );
}
