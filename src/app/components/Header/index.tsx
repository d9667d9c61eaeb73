/** Title, the two views, the backend line and the demo-weights badge. */
import type { BackendInfo } from '../../../../workers/engine/protocol';
import { describeBackend } from '../../format';
import type { View } from '../../state';

export interface HeaderProps {
  view: View;
  canGoLive: boolean;
  backend?: BackendInfo;
  isolated: boolean;
  demoWeights: boolean;
  onView(view: View): void;
}

export function Header({ view, canGoLive, backend, isolated, demoWeights, onView }: HeaderProps) {
  return (
    <header class="header">
      <h1 class="title">convlens</h1>
      <nav class="views" aria-label="Views">
        <button
          type="button"
          aria-current={view === 'live' ? 'page' : undefined}
          disabled={!canGoLive}
          onClick={() => onView('live')}
        >
          Live
        </button>
        <button type="button" aria-current={view === 'models' ? 'page' : undefined} onClick={() => onView('models')}>
          Models
        </button>
      </nav>
      <p class="backend" data-testid="backend" title={backend?.fallbackReason}>
        {backend ? describeBackend(backend, isolated).join(' · ') : 'engine starting…'}
      </p>
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
