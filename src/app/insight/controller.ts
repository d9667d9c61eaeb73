/**
 * The Inside screen is this `insight` feature; these are its effects: activation explorer (one engine
 * call per frame, one in flight, "follow the frame" re-runs as fast as the device answers), filter
 * gallery (cached pictures first, the rest computed a small batch per engine call so progress and
 * cancel are prompt), CAM variants and the deletion curve. Results come back from the worker transferred; the reducer keeps them as they are.
 */
import { DEFAULT_FILTER_SETTINGS, type FilterSettings } from '../../core/insight/filters';
import type { CamMethod, RgbaFrame } from '../../../workers/engine/protocol';
import { toAppError } from '../errors';
import type { FeatureContext } from '../feature';
import { browserInsightDeps } from './browser';
import {
  galleryKey,
  type FilterTile,
  type GallerySettings,
  type GalleryState,
  type InsightTab,
  type MapNormalisation,
} from './state';
import type { FilterCache } from './store';

export interface InsightDeps {
  cache: FilterCache;
  /** The still's centre square as side × side RGBA pixels; closes the still. */
  pixels(still: ImageBitmap, side: number): RgbaFrame;
  /** Run fn after ms milliseconds. */
  schedule(fn: () => void, ms: number): void;
}

/** Filters per engine call: progress and cancel every few seconds even on deep layers. */
export const FILTER_BATCH = 4;
/** The deletion curve's steps and random baselines (each baseline costs steps + 1 forward runs). */
export const DELETION = { steps: 16, randomBaselines: 3 };
/** How long to wait for the camera's first frame. */
const CAMERA_WAIT_MS = 15_000;
const CAMERA_POLL_MS = 250;
const GALLERY_KEY = 'convlens:insight-gallery';

export class NoCameraError extends Error {
  override name = 'NoCameraError';
}

export class InsightController {
  private deps: InsightDeps | undefined;
  private activationsBusy = false;
  private layersFor: string | undefined;
  private camSeq = 0;
  private disposed = false;

  constructor(
    private readonly ctx: FeatureContext,
    deps?: InsightDeps,
  ) {
    this.deps = deps;
  }

  private get d(): InsightDeps {
    return (this.deps ??= browserInsightDeps());
  }
  private get state() {
    return this.ctx.store.state;
  }
  private get ui() {
    return this.state.insight;
  }
  private get model() {
    const m = this.state.model;
    return m.status === 'ready' ? m : undefined;
  }
  private visible(tab: InsightTab): boolean {
    return !this.disposed && this.state.view === 'inside' && this.ui.tab === tab;
  }

  /** The view was shown: the model's layers, then the current tab's result for the current frame. */
  open(): void {
    void this.openAsync();
  }

  private async openAsync(): Promise<void> {
    if (!(await this.ensureLayers())) return;
    this.refreshTab();
  }

  private async ensureLayers(): Promise<boolean> {
    const model = this.model;
    if (!model) return false;
    if (this.ui.modelId === model.id && this.ui.layers.length) return true;
    if (this.layersFor === model.id) return false; // asked already
    this.layersFor = model.id;
    try {
      const layers = await this.ctx.engine.insightLayers();
      this.ctx.dispatch({ type: 'insight/layers', modelId: model.id, layers });
      this.restoreGallery();
      return true;
    } catch (err) {
      this.ctx.dispatch({ type: 'insight/activations-failed', error: toAppError(err) });
      return false;
    } finally {
      this.layersFor = undefined;
    }
  }

  private refreshTab(): void {
    const ui = this.ui;
    if (ui.tab === 'explorer' && (!ui.explorer.maps || ui.explorer.follow)) void this.activations();
    if (ui.tab === 'filters' && ui.gallery.status === 'idle') void this.showFilters({ onlyIfCached: true });
    if (ui.tab === 'cam' && !ui.cam.explanation && !ui.cam.busy) void this.explain(true);
  }

  setTab(tab: InsightTab): void {
    this.ctx.dispatch({ type: 'insight/tab', tab });
    this.refreshTab();
  }

  // ---- activation explorer ----

  setExplorerLayer(layer: string): void {
    this.ctx.dispatch({ type: 'insight/explorer-layer', layer });
    void this.activations();
  }
  setNorm(norm: MapNormalisation): void {
    this.ctx.dispatch({ type: 'insight/norm', norm });
  }
  setPage(page: number): void {
    this.ctx.dispatch({ type: 'insight/page', page });
  }
  enlarge(channel: number | undefined): void {
    this.ctx.dispatch({ type: 'insight/enlarge', channel });
  }
  setFollow(follow: boolean): void {
    this.ctx.dispatch({ type: 'insight/follow', follow });
    if (follow) void this.activations();
  }

  /** One run for the current frame; in follow mode the next starts as soon as this one is back. */
  async activations(): Promise<void> {
    if (this.activationsBusy) return; // one request in flight; follow mode picks up the newest frame next
    const layer = this.ui.explorer.layer;
    if (!layer || !this.model) return;
    this.activationsBusy = true;
    let ok = false;
    try {
      const t0 = this.ctx.now();
      this.ctx.dispatch({ type: 'insight/activations-start' });
      const frame = await this.grab('explorer');
      if (!frame) return;
      const maps = await this.ctx.engine.activations(frame, layer);
      this.ctx.dispatch({ type: 'insight/activations', maps, ms: this.ctx.now() - t0 });
      ok = true;
    } catch (err) {
      this.ctx.dispatch({ type: 'insight/activations-failed', error: toAppError(err) });
    } finally {
      this.activationsBusy = false;
    }
    // The layer changed while this ran, or follow mode: go again (the worker is free now).
    const e = this.ui.explorer;
    if (ok && this.visible('explorer') && (e.follow || e.maps?.layer !== e.layer))
      this.d.schedule(() => void this.activations(), 0);
  }

  /** A still of the camera as centre-square pixels, waiting for the camera to start if it is starting. */
  private async grab(tab: InsightTab): Promise<RgbaFrame | undefined> {
    const side = Math.max(224, this.model?.info.inputSize ?? 224);
    const t0 = this.ctx.now();
    for (;;) {
      if (!this.visible(tab)) return undefined;
      const still = await this.ctx.grabStill(side);
      if (still) return this.d.pixels(still, side);
      const cam = this.state.camera.status;
      if (cam === 'error' || this.ctx.now() - t0 > CAMERA_WAIT_MS)
        throw new NoCameraError('No camera picture: allow the camera (or retry it) to look inside the network.');
      await new Promise<void>((resolve) => this.d.schedule(resolve, CAMERA_POLL_MS));
    }
  }

  // ---- filter gallery ----

  setGalleryLayer(layer: string): void {
    this.ctx.dispatch({ type: 'insight/gallery-layer', layer });
    this.saveGallery();
  }
  setGalleryCount(count: number): void {
    this.ctx.dispatch({ type: 'insight/gallery-count', count });
    this.saveGallery();
  }
  setGallerySettings(settings: Partial<GallerySettings>): void {
    this.ctx.dispatch({ type: 'insight/gallery-settings', settings });
    this.saveGallery();
  }

  /** The gallery's choices survive reloads, so a revisit finds its pictures in the cache. */
  private saveGallery(): void {
    const { layer, count, settings } = this.ui.gallery;
    this.ctx.settings.set(GALLERY_KEY, JSON.stringify({ layer, count, settings }));
  }

  private restoreGallery(): void {
    let saved: { layer?: unknown; count?: unknown; settings?: unknown } | undefined;
    try {
      saved = JSON.parse(this.ctx.settings.get(GALLERY_KEY) ?? 'null') as typeof saved;
    } catch {
      return; // unreadable: keep the defaults
    }
    if (!saved || typeof saved !== 'object') return;
    // The reducer validates each (an unknown layer, a bad number: ignored).
    if (typeof saved.layer === 'string') this.ctx.dispatch({ type: 'insight/gallery-layer', layer: saved.layer });
    if (typeof saved.count === 'number') this.ctx.dispatch({ type: 'insight/gallery-count', count: saved.count });
    const s = saved.settings as Partial<Record<keyof GallerySettings, unknown>> | undefined;
    if (s && typeof s === 'object') {
      const settings: Partial<GallerySettings> = {};
      for (const k of ['steps', 'jitter', 'tv'] as const) if (typeof s[k] === 'number') settings[k] = s[k];
      this.ctx.dispatch({ type: 'insight/gallery-settings', settings });
    }
  }

  /**
   * The first N filters of the layer: cached pictures at once, the rest computed FILTER_BATCH per call.
   * `onlyIfCached`: show them only when all are cached (opening the tab never starts a long computation).
   */
  async showFilters({ onlyIfCached = false } = {}): Promise<void> {
    const g = this.ui.gallery;
    const model = this.model;
    const layer = this.ui.layers.find((l) => l.name === g.layer);
    if (!model || !layer || g.status === 'running' || g.status === 'cancelling') return;
    const settings: FilterSettings = { ...DEFAULT_FILTER_SETTINGS, ...g.settings };
    const filters = Array.from({ length: Math.min(g.count, layer.dims[0]) }, (_, i) => i);
    const stored = await this.d.cache.get(model.id, layer.name, filters, settings).catch((err: unknown) => {
      console.warn('filter cache unreadable', err);
      return filters.map(() => undefined);
    });
    const cached: FilterTile[] = [];
    const missing: number[] = [];
    filters.forEach((filter, i) => {
      const image = stored[i];
      if (image) cached.push({ filter, image, cached: true });
      else missing.push(filter);
    });
    if (onlyIfCached && missing.length) return;
    if (this.galleryBusy()) return; // another run started while the cache was read
    const key = galleryKey(g);
    this.ctx.dispatch({ type: 'insight/gallery-start', key, cached, total: missing.length * settings.steps });
    try {
      let base = 0;
      for (let i = 0; i < missing.length; i += FILTER_BATCH) {
        if (this.galleryStatus() !== 'running' || this.disposed) break; // cancelled
        const chunk = missing.slice(i, i + FILTER_BATCH);
        const onProgress = (p: { done: number }) =>
          this.ctx.dispatch({ type: 'insight/gallery-progress', done: base + p.done });
        const result = await this.ctx.engine.filters(
          { layer: layer.name, filters: chunk, settings, batch: chunk.length },
          onProgress,
        );
        base += chunk.length * settings.steps;
        const tiles = result.pictures.map((p) => ({ filter: p.filter, image: p.image, cached: false }));
        this.ctx.dispatch({ type: 'insight/gallery-tiles', tiles });
        await this.d.cache
          .put(model.id, layer.name, tiles, settings)
          .catch((err: unknown) => console.warn('filter cache not written', err));
      }
      this.ctx.dispatch({ type: 'insight/gallery-end' });
    } catch (err) {
      this.ctx.dispatch({ type: 'insight/gallery-end', error: toAppError(err) });
    }
  }

  /** Read fresh on every call (the store changes across awaits). */
  private galleryStatus(): GalleryState['status'] {
    return this.ui.gallery.status;
  }
  private galleryBusy(): boolean {
    const s = this.galleryStatus();
    return s === 'running' || s === 'cancelling';
  }

  /** Stop after the batch in the engine now (a few seconds at most). */
  cancelFilters(): void {
    this.ctx.dispatch({ type: 'insight/gallery-cancel' });
  }

  // ---- CAM variants and the deletion curve ----

  setCamMethod(method: CamMethod): void {
    this.ctx.dispatch({ type: 'insight/cam-method', method });
    void this.explain(false);
  }
  setCamLayer(layer: string): void {
    this.ctx.dispatch({ type: 'insight/cam-layer', layer });
    void this.explain(false);
  }

  /** Explain a new still (fresh) or the one shown (a method or layer switch compares on the same picture). */
  async explain(fresh: boolean): Promise<void> {
    if (!this.model) return;
    const seq = ++this.camSeq;
    try {
      this.ctx.dispatch({ type: 'insight/explain-start' });
      const frame = !fresh && this.ui.cam.frame ? this.ui.cam.frame : await this.grab('cam');
      if (!frame) return;
      const { method, layer } = this.ui.cam;
      const options = { cam: method, layer };
      const explanation = await this.ctx.engine.explain(frame, options);
      if (seq === this.camSeq) this.ctx.dispatch({ type: 'insight/explained', frame, explanation });
    } catch (err) {
      if (seq === this.camSeq) this.ctx.dispatch({ type: 'insight/explain-failed', error: toAppError(err) });
    }
  }

  /** The deletion curve of the shown heatmap beside random-map baselines, on the same still and class. */
  async faithfulness(): Promise<void> {
    const { frame, explanation } = this.ui.cam;
    if (!frame || !explanation || this.ui.cam.deletion.status === 'running') return;
    this.ctx.dispatch({ type: 'insight/deletion-start' });
    try {
      const request = {
        cam: explanation.cam,
        layer: explanation.layer,
        classIndex: explanation.target.index,
        ...DELETION,
      };
      const result = await this.ctx.engine.deletion(frame, request);
      this.ctx.dispatch({ type: 'insight/deletion', result });
    } catch (err) {
      this.ctx.dispatch({ type: 'insight/deletion-failed', error: toAppError(err) });
    }
  }

  dispose(): void {
    this.disposed = true;
  }
}
