/** The activation explorer: layer, normalisation, "follow the frame", and the paged grid of channel maps. */
import type { InsightLayer } from '../../../../workers/engine/protocol';
import { describeError } from '../../errors';
import { pageCount, PAGE_SIZE, type ExplorerState, type MapNormalisation } from '../../insight/state';
import { ExplorerGrid } from '../ExplorerGrid';
import { LayerSelect } from '../LayerSelect';

export interface ExplorerActions {
  onLayer(layer: string): void;
  onNorm(norm: MapNormalisation): void;
  onPage(page: number): void;
  onEnlarge(channel: number | undefined): void;
  onFollow(follow: boolean): void;
  onRefresh(): void;
}

export interface ExplorerPanelProps {
  layers: InsightLayer[];
  explorer: ExplorerState;
  actions: ExplorerActions;
}

export function ExplorerPanel({ layers, explorer: e, actions: a }: ExplorerPanelProps) {
  const pages = pageCount(e);
  const channels = e.maps?.dims[0] ?? 0;
  const first = e.page * PAGE_SIZE;
  return (
    <section class="insight-panel" aria-labelledby="explorer-title" data-testid="explorer">
      <h3 id="explorer-title">Activations</h3>
      <div class="insight-controls">
        <LayerSelect label="Layer" layers={layers} value={e.layer} testId="explorer-layer" onChange={a.onLayer} />
        <fieldset class="field switch">
          <legend>Normalise</legend>
          {(['map', 'layer'] as const).map((n) => (
            <label key={n}>
              <input type="radio" name="norm" checked={e.norm === n} onChange={() => a.onNorm(n)} />
              {n === 'map' ? 'per map' : 'per layer'}
            </label>
          ))}
        </fieldset>
        <label class="field check">
          <input
            type="checkbox"
            checked={e.follow}
            data-testid="explorer-follow"
            onChange={(ev) => a.onFollow(ev.currentTarget.checked)}
          />
          Follow the frame
        </label>
        <button type="button" onClick={a.onRefresh} disabled={e.busy || e.follow} data-testid="explorer-refresh">
          New frame
        </button>
      </div>
      <p
        class="insight-status"
        role="status"
        aria-live={e.follow ? 'off' : 'polite'}
        data-testid="explorer-status"
        data-runs={e.runs}
      >
        {e.error
          ? describeError(e.error).message
          : e.maps
            ? `${e.maps.layer}: ${channels} channels of ${e.maps.dims[1]}×${e.maps.dims[2]}` +
              (e.ms !== undefined ? ` · ${Math.round(e.ms)} ms` : '') +
              (e.busy ? ' · updating…' : '')
            : e.busy
              ? 'Running the network on the current frame…'
              : 'No activations yet.'}
      </p>
      {e.maps && (
        <>
          <ExplorerGrid maps={e.maps} norm={e.norm} page={e.page} enlarged={e.enlarged} onEnlarge={a.onEnlarge} />
          {pages > 1 && (
            <nav class="pager" aria-label="Channel pages">
              <button type="button" disabled={e.page === 0} onClick={() => a.onPage(e.page - 1)}>
                Previous
              </button>
              <span aria-live="polite" data-testid="explorer-page">
                Channels {first}–{Math.min(channels, first + PAGE_SIZE) - 1} of {channels}
              </span>
              <button type="button" disabled={e.page >= pages - 1} onClick={() => a.onPage(e.page + 1)}>
                Next
              </button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}
