/**
 * The filter gallery: the first N filters of a layer as gradient-ascent pictures, computed a batch at a
 * time with a progress bar and Cancel; pictures already in the IndexedDB cache show at once.
 */
import { useLayoutEffect, useRef } from 'preact/hooks';
import type { InsightLayer } from '../../../../workers/engine/protocol';
import { describeError } from '../../errors';
import { paintImage } from '../../insight/draw';
import { galleryKey, MAX_FILTERS, type FilterTile, type GallerySettings, type GalleryState } from '../../insight/state';
import { LayerSelect } from '../LayerSelect';
import { ProgressBar } from '../ProgressBar';

export interface GalleryActions {
  onLayer(layer: string): void;
  onCount(count: number): void;
  onSettings(settings: Partial<GallerySettings>): void;
  onShow(): void;
  onCancel(): void;
}

export interface FilterGalleryProps {
  layers: InsightLayer[];
  gallery: GalleryState;
  actions: GalleryActions;
}

function FilterPicture({ tile }: { tile: FilterTile }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => void (ref.current && paintImage(ref.current, tile.image)), [tile.image]);
  return (
    <li class="filter-tile" data-testid="filter-tile" data-cached={String(tile.cached)}>
      <canvas ref={ref} class="tile-canvas" role="img" aria-label={`filter ${tile.filter}`} />
      <span class="tile-index">{tile.filter}</span>
    </li>
  );
}

const num = (id: string, label: string, value: number, step: number, on: (v: number) => void, disabled: boolean) => (
  <label class="field">
    <span>{label}</span>
    <input
      data-testid={`gallery-${id}`}
      type="number"
      value={value}
      step={step}
      min={0}
      disabled={disabled}
      onChange={(e) => on(Number(e.currentTarget.value))}
    />
  </label>
);

export function FilterGallery({ layers, gallery: g, actions: a }: FilterGalleryProps) {
  const busy = g.status === 'running' || g.status === 'cancelling';
  const fromCache = g.tiles.filter((t) => t.cached).length;
  const stale = g.shown !== undefined && g.shown !== galleryKey(g);
  return (
    <section class="insight-panel" aria-labelledby="gallery-title" data-testid="gallery">
      <h3 id="gallery-title">Filters</h3>
      <div class="insight-controls">
        <LayerSelect
          label="Layer"
          layers={layers}
          kinds={['conv']}
          value={g.layer}
          disabled={busy}
          testId="gallery-layer"
          onChange={a.onLayer}
        />
        {num('count', 'First filters', g.count, 1, a.onCount, busy)}
        {num('steps', 'Steps', g.settings.steps, 1, (steps) => a.onSettings({ steps }), busy)}
        {num('jitter', 'Jitter (px)', g.settings.jitter, 1, (jitter) => a.onSettings({ jitter }), busy)}
        {num('tv', 'Total variation', g.settings.tv, 0.1, (tv) => a.onSettings({ tv }), busy)}
        {busy ? (
          <button type="button" onClick={a.onCancel} disabled={g.status === 'cancelling'} data-testid="gallery-cancel">
            {g.status === 'cancelling' ? 'Stopping…' : 'Cancel'}
          </button>
        ) : (
          <button type="button" onClick={a.onShow} data-testid="gallery-show">
            Show filters
          </button>
        )}
      </div>
      <p class="hint">
        Gradient ascent from gray noise (up to {MAX_FILTERS} filters); jitter and total variation make clearer patterns
        on deep layers (0 and 0 is the book's recipe).
      </p>
      {busy && (
        <ProgressBar
          label="Computing filter pictures"
          progress={{ phase: '', done: g.done, total: g.total }}
          testId="gallery-progress"
        />
      )}
      <p class="insight-status" role="status" aria-live="polite" data-testid="gallery-status">
        {g.status === 'failed' && g.error
          ? describeError(g.error).message
          : g.status === 'done'
            ? `${g.tiles.length} filters · ${fromCache} from the cache` +
              (stale ? ' · settings changed: show again' : '')
            : g.status === 'cancelled'
              ? `Cancelled: ${g.tiles.length} filters shown.`
              : ''}
      </p>
      <ul class="filter-grid" data-testid="filter-grid" aria-label="Filter pictures">
        {g.tiles.map((t) => (
          <FilterPicture key={t.filter} tile={t} />
        ))}
      </ul>
    </section>
  );
}
