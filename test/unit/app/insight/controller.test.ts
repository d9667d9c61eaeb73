/**
 * The insight controller against a scripted engine (the EngineApi calls it makes through the feature
 * context), a Map as the filter cache, fake camera stills and a manual timer queue.
 */
import { describe, expect, it } from 'vitest';
import { modelInfo } from '../../../helpers/app';
import { featureEngine } from '../../../../src/app/bridge/features';
import { FILTER_BATCH, DELETION, InsightController, type InsightDeps } from '../../../../src/app/insight/controller';
import type { FilterCache, FilterImage } from '../../../../src/app/insight/store';
import type { FeatureContext } from '../../../../src/app/feature';
import { initialState, type AppState } from '../../../../src/app/state';
import { Store } from '../../../../src/app/store';
import { filterCacheKey, type FilterSettings } from '../../../../src/core/insight/filters';
import { insightLayers } from '../../../../src/core/insight/layers';
import { TINY_VGG } from '../../../../src/core/vgg16/spec';
import type {
  ActivationMaps,
  DeletionRequest,
  ExplainOptions,
  Explanation,
  FilterRequest,
  ProgressFn,
  RgbaFrame,
} from '../../../../workers/engine/protocol';
import { deferred, FakeBitmap, settle, type Deferred } from '../fake-worker';

const LAYERS = insightLayers(TINY_VGG);

class FakeRemote {
  layerCalls = 0;
  activationCalls: { frame: RgbaFrame; layer: string }[] = [];
  activationReplies: Deferred<ActivationMaps>[] = [];
  holdActivations = false;
  filterCalls: FilterRequest[] = [];
  filterError: Error | undefined;
  explainCalls: { frame: RgbaFrame; options: ExplainOptions | undefined }[] = [];
  deletionCalls: { frame: RgbaFrame; request: DeletionRequest | undefined }[] = [];

  async insightLayers() {
    this.layerCalls++;
    return LAYERS;
  }
  activations(frame: RgbaFrame, layer: string): Promise<ActivationMaps> {
    this.activationCalls.push({ frame, layer });
    const c = LAYERS.find((l) => l.name === layer)!.dims[0];
    const maps = { layer, dims: [c, 2, 2], data: new Float32Array(c * 4).fill(this.activationCalls.length) };
    if (!this.holdActivations) return Promise.resolve(maps);
    const d = deferred<ActivationMaps>();
    this.activationReplies.push(d);
    return d.promise;
  }
  async filters(request: FilterRequest, onProgress?: ProgressFn) {
    this.filterCalls.push(request);
    if (this.filterError) throw this.filterError;
    const steps = request.settings!.steps!;
    for (let i = 1; i <= steps; i++) onProgress?.({ phase: 'filters', done: i, total: steps });
    const pictures = request.filters.map((filter) => ({
      filter,
      image: { width: 1, height: 1, data: Uint8ClampedArray.of(filter, 0, 0, 255) },
      scores: [0, 1],
    }));
    return { layer: request.layer, settings: request.settings as FilterSettings, pictures };
  }
  async explain(frame: RgbaFrame, options?: ExplainOptions): Promise<Explanation> {
    this.explainCalls.push({ frame, options });
    return explanation(options);
  }
  async deletion(frame: RgbaFrame, request?: DeletionRequest) {
    this.deletionCalls.push({ frame, request });
    const curve = { fractions: [0, 1], scores: [0.5, 0.1], auc: 0.3 };
    return { explanation: explanation(request), curve, random: [{ ...curve, auc: 0.4 }] };
  }
}

const explanation = (o: ExplainOptions = {}): Explanation => ({
  top5: [{ index: 2, label: 'two', prob: 0.3 }],
  target: { index: 2, label: 'two' },
  cam: o.cam ?? 'gradcam',
  layer: o.layer ?? 'block5_conv3',
  heatmap: { dims: [1, 1], data: Float32Array.of(1) },
  ms: { run: 1, total: 1 },
});

class MapCache implements FilterCache {
  map = new Map<string, FilterImage>();
  async get(model: string, layer: string, filters: readonly number[], s: FilterSettings) {
    return filters.map((f) => this.map.get(filterCacheKey(model, layer, f, s)));
  }
  async put(model: string, layer: string, pictures: { filter: number; image: FilterImage }[], s: FilterSettings) {
    for (const p of pictures) this.map.set(filterCacheKey(model, layer, p.filter, s), p.image);
  }
}

function setup(over: { camera?: AppState['camera']['status']; saved?: Map<string, string> } = {}) {
  const saved = over.saved ?? new Map<string, string>();
  const base = initialState();
  const store = new Store({
    ...base,
    view: 'inside',
    model: {
      status: 'ready',
      id: 'tiny',
      info: { ...modelInfo('tiny'), inputSize: 32 },
    },
    camera: { ...base.camera, status: over.camera ?? 'live' },
  });
  const remote = new FakeRemote();
  const stills: FakeBitmap[] = [];
  let clock = 0;
  let cameraReady = true;
  const timers: { fn: () => void; ms: number }[] = [];
  const pixelSides: number[] = [];
  const ctx: FeatureContext = {
    store,
    dispatch: (a) => store.dispatch(a),
    engine: featureEngine((fn) => fn(remote as never)),
    grabStill: async (size) => {
      if (!cameraReady) return undefined;
      const b = new FakeBitmap(size * 2, size, `still-${stills.length}`);
      stills.push(b);
      return b as unknown as ImageBitmap;
    },
    now: () => clock,
    settings: { get: (k) => saved.get(k), set: (k, v) => void saved.set(k, v) },
  };
  const cache = new MapCache();
  const deps: InsightDeps = {
    cache,
    pixels: (still, side) => {
      pixelSides.push(side);
      const tag = (still as unknown as FakeBitmap).tag;
      still.close();
      return { width: side, height: side, data: new Uint8ClampedArray(side * side * 4).fill(tag.length) };
    },
    schedule: (fn, ms) => void timers.push({ fn, ms }),
  };
  const controller = new InsightController(ctx, deps);
  const runTimers = async () => {
    while (timers.length) {
      const t = timers.shift()!;
      clock += t.ms;
      t.fn();
      await settle();
    }
  };
  return {
    saved,
    store,
    remote,
    stills,
    cache,
    controller,
    timers,
    pixelSides,
    runTimers,
    setCamera: (ready: boolean) => (cameraReady = ready),
    tick: (ms: number) => (clock += ms),
    get ui() {
      return store.state.insight;
    },
  };
}

describe('insight controller: opening and the explorer', () => {
  it('asks the layers once, then shows the first conv layer for a camera still (closed after reading)', async () => {
    const t = setup();
    t.controller.open();
    await settle();
    expect(t.remote.layerCalls).toBe(1);
    expect(t.ui.layers).toEqual(LAYERS);
    expect(t.remote.activationCalls.map((c) => c.layer)).toEqual(['block1_conv1']);
    expect(t.pixelSides).toEqual([224]); // at least 224 px, whatever the model's input
    expect(t.stills[0]!.closed).toBe(true);
    expect(t.ui.explorer.maps?.dims).toEqual([4, 2, 2]);
    expect(t.ui.explorer.busy).toBe(false);
    t.controller.open();
    await settle();
    expect(t.remote.layerCalls).toBe(1);
    expect(t.remote.activationCalls).toHaveLength(1); // maps there, not following: nothing new
  });

  it('a layer change runs that layer; a change during a run re-runs once the run is back', async () => {
    const t = setup();
    t.controller.open();
    await settle();
    t.remote.holdActivations = true;
    t.controller.setExplorerLayer('block2_conv1');
    await settle();
    t.controller.setExplorerLayer('block3_pool');
    await settle();
    expect(t.remote.activationCalls.map((c) => c.layer)).toEqual(['block1_conv1', 'block2_conv1']); // one in flight
    t.remote.activationReplies[0]!.resolve(
      await new FakeRemote().activations(t.remote.activationCalls[1]!.frame, 'block2_conv1'),
    );
    t.remote.holdActivations = false;
    await settle();
    await t.runTimers();
    expect(t.remote.activationCalls.map((c) => c.layer).at(-1)).toBe('block3_pool');
    expect(t.ui.explorer.maps?.layer).toBe('block3_pool');
  });

  it('follow mode: one request in flight, the next right after each answer, until turned off', async () => {
    const t = setup();
    t.controller.open();
    await settle();
    t.remote.holdActivations = true;
    t.controller.setFollow(true);
    void t.controller.activations();
    await settle();
    expect(t.remote.activationCalls).toHaveLength(2);
    const maps = (n: number) => ({ layer: 'block1_conv1', dims: [4, 2, 2], data: new Float32Array(16).fill(n) });
    t.remote.activationReplies[0]!.resolve(maps(7));
    await settle();
    expect(t.ui.explorer.maps?.data[0]).toBe(7);
    expect(t.timers).toHaveLength(1);
    await t.runTimers();
    expect(t.remote.activationCalls).toHaveLength(3);
    t.controller.setFollow(false);
    t.remote.activationReplies[1]!.resolve(maps(8));
    await settle();
    expect(t.timers).toHaveLength(0);
    expect(t.ui.explorer.maps?.data[0]).toBe(8);
  });

  it('waits for the camera to start, and says so when it cannot', async () => {
    const t = setup({ camera: 'starting' });
    t.setCamera(false);
    t.controller.open();
    await settle();
    expect(t.remote.activationCalls).toHaveLength(0);
    expect(t.ui.explorer.busy).toBe(true);
    t.setCamera(true);
    await t.runTimers();
    expect(t.remote.activationCalls).toHaveLength(1);

    const u = setup({ camera: 'error' });
    u.setCamera(false);
    u.controller.open();
    await settle();
    expect(u.ui.explorer.error?.name).toBe('NoCameraError');
    expect(u.ui.explorer.busy).toBe(false);
  });

  it('does nothing on other views; the engine failing shows the error', async () => {
    const t = setup();
    t.store.dispatch({ type: 'view', view: 'live' });
    t.controller.open();
    await settle();
    expect(t.remote.activationCalls).toHaveLength(0);
    const u = setup();
    u.remote.activations = () => Promise.reject(Object.assign(new Error('boom'), { name: 'WorkerCrashError' }));
    u.controller.open();
    await settle();
    expect(u.ui.explorer.error).toEqual({ name: 'WorkerCrashError', message: 'boom' });
  });
});

describe('insight controller: filter gallery', () => {
  async function gallery(count: number) {
    const t = setup();
    t.controller.open();
    await settle();
    t.controller.setTab('filters');
    t.controller.setGalleryLayer('block2_conv1'); // 8 filters
    t.controller.setGalleryCount(count);
    t.controller.setGallerySettings({ steps: 3 });
    return t;
  }

  it('computes the missing filters a batch per call with progress, caches them, and reuses the cache', async () => {
    const t = await gallery(6);
    const progress: number[] = [];
    t.store.subscribe((s) => progress.push(s.insight.gallery.done));
    await t.controller.showFilters();
    expect(t.remote.filterCalls.map((r) => r.filters)).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
    expect(FILTER_BATCH).toBe(4);
    expect(t.remote.filterCalls[0]!.settings).toMatchObject({ steps: 3, jitter: 4, tv: 0.6, size: 128, seed: 1 });
    expect(t.ui.gallery).toMatchObject({ status: 'done', done: 18, total: 18 });
    expect(progress).toContain(3 * 4 + 2); // second batch, step 2: counted after the first batch's 12 steps
    expect(t.ui.gallery.tiles.map((x) => [x.filter, x.cached])).toEqual([0, 1, 2, 3, 4, 5].map((f) => [f, false]));
    expect(t.cache.map.size).toBe(6);

    await t.controller.showFilters();
    expect(t.remote.filterCalls).toHaveLength(2); // nothing recomputed
    expect(t.ui.gallery.tiles.every((x) => x.cached)).toBe(true);
    expect(t.ui.gallery.tiles[5]!.image.data[0]).toBe(5);

    t.controller.setGalleryCount(7); // one more filter: only it is computed
    await t.controller.showFilters();
    expect(t.remote.filterCalls.at(-1)!.filters).toEqual([6]);
    t.controller.setGallerySettings({ tv: 0 }); // other settings: other pictures
    await t.controller.showFilters();
    expect(t.remote.filterCalls.at(-1)!.filters).toEqual([4, 5, 6]);
  });

  it('never asks for more filters than the layer has', async () => {
    const t = await gallery(50);
    t.controller.setGalleryLayer('block1_conv1');
    await t.controller.showFilters();
    expect(t.remote.filterCalls.flatMap((r) => r.filters)).toEqual([0, 1, 2, 3]); // block1_conv1 has 4
  });

  it('cancel stops after the batch in the engine; what was computed stays', async () => {
    const t = await gallery(12);
    const original = t.remote.filters.bind(t.remote);
    t.remote.filters = async (r, p) => {
      const out = await original(r, p);
      if (t.remote.filterCalls.length === 1) t.controller.cancelFilters();
      return out;
    };
    await t.controller.showFilters();
    expect(t.remote.filterCalls).toHaveLength(1);
    expect(t.ui.gallery.status).toBe('cancelled');
    expect(t.ui.gallery.tiles).toHaveLength(4);
  });

  it('a failing engine call ends the run with the error', async () => {
    const t = await gallery(4);
    t.remote.filterError = Object.assign(new Error('no'), { name: 'UnknownLayerError' });
    await t.controller.showFilters();
    expect(t.ui.gallery).toMatchObject({ status: 'failed', error: { name: 'UnknownLayerError', message: 'no' } });
  });
});

describe('insight controller: gallery revisits', () => {
  it('remembers layer, count and settings; a later session shows the cached pictures when the tab opens', async () => {
    const t = setup();
    t.controller.open();
    await settle();
    t.controller.setTab('filters');
    await settle();
    expect(t.remote.filterCalls).toHaveLength(0); // opening the tab computes nothing
    expect(t.ui.gallery.status).toBe('idle');
    t.controller.setGalleryLayer('block2_conv2');
    t.controller.setGalleryCount(3);
    t.controller.setGallerySettings({ steps: 2, tv: 0 });
    await t.controller.showFilters();
    expect(t.remote.filterCalls).toHaveLength(1);

    // A reload: a new controller and store, the same settings storage and cache.
    const u = setup({ saved: t.saved });
    u.cache.map = t.cache.map;
    u.store.dispatch({ type: 'insight/tab', tab: 'filters' });
    u.controller.open();
    await settle();
    expect(u.ui.gallery).toMatchObject({ layer: 'block2_conv2', count: 3, settings: { steps: 2, jitter: 4, tv: 0 } });
    expect(u.ui.gallery.status).toBe('done');
    expect(u.ui.gallery.tiles.map((x) => [x.filter, x.cached])).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ]);
    expect(u.remote.filterCalls).toHaveLength(0);
  });

  it('ignores unreadable or invalid saved choices', async () => {
    for (const text of ['{not json', JSON.stringify({ layer: 'nope', count: 'x', settings: { steps: 'y', tv: -5 } })]) {
      const t = setup({ saved: new Map([['convlens:insight-gallery', text]]) });
      t.controller.open();
      await settle();
      expect(t.ui.gallery).toMatchObject({ layer: 'block1_conv1', count: 16, settings: { steps: 40, jitter: 4 } });
      expect(t.ui.gallery.settings.tv).toBe(text.startsWith('{not') ? 0.6 : 0); // −5 is clamped to 0
    }
  });

  it('two quick Show presses compute once', async () => {
    const t = setup();
    t.controller.open();
    await settle();
    await Promise.all([t.controller.showFilters(), t.controller.showFilters()]);
    expect(t.remote.filterCalls.flatMap((r) => r.filters)).toEqual([0, 1, 2, 3]);
  });
});

describe('insight controller: CAM and faithfulness', () => {
  it('explains a still with the last conv layer, then re-explains the same still on a method switch', async () => {
    const t = setup();
    t.controller.open();
    await settle();
    t.controller.setTab('cam');
    await settle();
    expect(t.remote.explainCalls).toHaveLength(1);
    expect(t.remote.explainCalls[0]!.options).toEqual({ cam: 'gradcam', layer: 'block5_conv3' });
    const frame = t.ui.cam.frame!;
    expect(frame.width).toBe(224);
    t.controller.setCamMethod('gradcam++');
    await settle();
    t.controller.setCamLayer('block4_conv1');
    await settle();
    expect(t.remote.explainCalls.map((c) => c.options)).toEqual([
      { cam: 'gradcam', layer: 'block5_conv3' },
      { cam: 'gradcam++', layer: 'block5_conv3' },
      { cam: 'gradcam++', layer: 'block4_conv1' },
    ]);
    expect(t.remote.explainCalls.every((c) => c.frame === frame)).toBe(true);
    expect(t.ui.cam.explanation).toMatchObject({ cam: 'gradcam++', layer: 'block4_conv1' });
    const grabbed = t.stills.length;
    await t.controller.explain(true);
    expect(t.stills.length).toBe(grabbed + 1);
  });

  it('scores the shown heatmap on its own still and class, with random baselines', async () => {
    const t = setup();
    t.controller.setTab('cam');
    t.controller.open();
    await settle();
    await t.controller.faithfulness();
    expect(t.remote.deletionCalls).toHaveLength(1);
    const call = t.remote.deletionCalls[0]!;
    expect(call.frame).toBe(t.ui.cam.frame);
    expect(call.request).toEqual({ cam: 'gradcam', layer: 'block5_conv3', classIndex: 2, ...DELETION });
    expect(t.ui.cam.deletion.status).toBe('done');
    expect(t.ui.cam.deletion.result?.random[0]!.auc).toBe(0.4);
  });

  it('a late answer of an older explain request does not overwrite the newer one', async () => {
    const t = setup();
    t.controller.open();
    await settle();
    const replies: Deferred<Explanation>[] = [];
    t.remote.explain = (frame, options) => {
      t.remote.explainCalls.push({ frame, options });
      const d = deferred<Explanation>();
      replies.push(d);
      return d.promise;
    };
    t.store.dispatch({ type: 'insight/tab', tab: 'cam' });
    void t.controller.explain(true);
    await settle();
    t.controller.setCamMethod('layercam');
    await settle();
    replies[1]!.resolve(explanation({ cam: 'layercam' }));
    await settle();
    replies[0]!.resolve(explanation({ cam: 'gradcam' }));
    await settle();
    expect(t.ui.cam.explanation?.cam).toBe('layercam');
  });
});
