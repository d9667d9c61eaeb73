/** Heatmap opacity, freeze frame, front/back camera and saving the overlay as a PNG. */
export interface LiveControlsProps {
  opacity: number;
  paused: boolean;
  canSwitch: boolean;
  facing: 'environment' | 'user';
  canSave: boolean;
  snapshot?: { url: string; name: string };
  onOpacity(opacity: number): void;
  onTogglePause(): void;
  onSwitch(): void;
  onSave(): void;
}

export function LiveControls(props: LiveControlsProps) {
  const pct = Math.round(props.opacity * 100);
  return (
    <section class="controls" aria-label="Live controls">
      <label class="slider">
        <span>Heatmap opacity</span>
        <input
          type="range"
          min={0}
          max={100}
          step={5}
          value={pct}
          aria-valuetext={`${pct} %`}
          data-testid="opacity"
          onInput={(ev) => props.onOpacity(Number((ev.currentTarget as HTMLInputElement).value) / 100)}
        />
        <output>{pct} %</output>
      </label>
      <div class="actions">
        <button type="button" aria-pressed={props.paused} onClick={props.onTogglePause} data-testid="pause">
          {props.paused ? 'Resume' : 'Pause'}
        </button>
        {props.canSwitch && (
          <button type="button" onClick={props.onSwitch} data-testid="switch-camera">
            {props.facing === 'environment' ? 'Use front camera' : 'Use back camera'}
          </button>
        )}
        <button type="button" onClick={props.onSave} disabled={!props.canSave} data-testid="save-png">
          Save overlay as PNG
        </button>
        {props.snapshot && (
          <a href={props.snapshot.url} download={props.snapshot.name} data-testid="save-link">
            Download {props.snapshot.name}
          </a>
        )}
      </div>
    </section>
  );
}
