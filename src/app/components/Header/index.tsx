/** Title, the views, the backend line and the demo-weights badge. */
import type { BackendInfo } from '../../../../workers/engine/protocol';
import { describeBackend } from '../../format';
import type { View } from '../../state';

const VIEWS: { view: View; label: string; needsModel: boolean }[] = [
  { view: 'live', label: 'Live', needsModel: true },
  { view: 'train', label: 'Train', needsModel: true },
  { view: 'inside', label: 'Inside', needsModel: true },
  { view: 'models', label: 'Models', needsModel: false },
];

export interface HeaderProps {
  view: View;
  canGoLive: boolean;
  backend?: BackendInfo;
  isolated: boolean;
  demoWeights: boolean;
  onView(view: View): void;
  /** Turn the memory saver (BackendInfo.lowMemory) on or off; the toggle shows on WASM only. */
  onMemorySaver(on: boolean): void;
}

export function Header({ view, canGoLive, backend, isolated, demoWeights, onView, onMemorySaver }: HeaderProps) {
  return (
    <header class="header">
      <h1 class="title">convlens</h1>
      <nav class="views" aria-label="Views">
        {VIEWS.map(({ view: v, label, needsModel }) => (
          <button
            key={v}
            type="button"
            data-testid={`view-${v}`}
            aria-current={view === v ? 'page' : undefined}
            disabled={needsModel && !canGoLive}
            onClick={() => onView(v)}
          >
            {label}
          </button>
        ))}
      </nav>
      <p class="backend" data-testid="backend" title={backend?.fallbackReason}>
        {backend ? describeBackend(backend, isolated).join(' · ') : 'engine starting…'}
      </p>
      {backend?.device === 'wasm' && (
        <button
          type="button"
          class="memory-saver"
          data-testid="memory-saver"
          aria-pressed={!!backend.lowMemory}
          title="Plain convolutions: about half the frame rate, about 270 MB less memory. The engine restarts."
          onClick={() => onMemorySaver(!backend.lowMemory)}
        >
          Memory saver
        </button>
      )}
      {demoWeights && (
        <p
          class="badge badge-demo"
          data-testid="demo-badge"
          title="Seeded demo weights: the predictions are meaningless, every computation is real."
        >
          demo weights
        </p>
      )}
    </header>
  );
}
