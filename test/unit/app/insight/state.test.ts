import { describe, expect, it } from 'vitest';
import {
  channelCount,
  DEFAULT_GALLERY,
  galleryKey,
  initialInsightState,
  insightReducer,
  MAX_FILTERS,
  pageCount,
  PAGE_SIZE,
  type FilterTile,
  type InsightAction,
  type InsightUiState,
} from '../../../../src/app/insight/state';
import { insightLayers } from '../../../../src/core/insight/layers';
import { DEFAULT_FILTER_SETTINGS } from '../../../../src/core/insight/filters';
import { TINY_VGG, VGG16 } from '../../../../src/core/vgg16/spec';
import type { ActivationMaps, DeletionResult, Explanation } from '../../../../workers/engine/protocol';

const err = (name: string) => ({ name, message: `${name} happened` });
const LAYERS = insightLayers(VGG16);
const maps = (layer: string, channels: number, side = 2): ActivationMaps => ({
  layer,
  dims: [channels, side, side],
  data: new Float32Array(channels * side * side).map((_, i) => i % 7),
});
const tile = (filter: number, cached = false): FilterTile => ({
  filter,
  image: { width: 1, height: 1, data: new Uint8ClampedArray(4) },
  cached,
});
const explanation = (cam: Explanation['cam'] = 'gradcam', layer = 'block5_conv3'): Explanation => ({
  top5: [{ index: 3, label: 'cat', prob: 0.4 }],
  target: { index: 3, label: 'cat' },
  cam,
  layer,
  heatmap: { dims: [2, 2], data: Float32Array.of(0, 0.5, 1, 0.25) },
  ms: { run: 1, total: 2 },
});
const curve = (auc: number) => ({ fractions: [0, 1], scores: [0.4, 0.1], auc });
const deletion: DeletionResult = { explanation: explanation(), curve: curve(0.2), random: [curve(0.3)] };
const frame = { width: 1, height: 1, data: new Uint8ClampedArray(4) };

/** One example of every action (the type checker keeps this exhaustive). */
const EXAMPLES: { [K in InsightAction['type']]: Extract<InsightAction, { type: K }> } = {
  'insight/layers': { type: 'insight/layers', modelId: 'm', layers: LAYERS },
  'insight/tab': { type: 'insight/tab', tab: 'filters' },
  'insight/explorer-layer': { type: 'insight/explorer-layer', layer: 'block3_pool' },
  'insight/norm': { type: 'insight/norm', norm: 'layer' },
  'insight/page': { type: 'insight/page', page: 1 },
  'insight/enlarge': { type: 'insight/enlarge', channel: 2 },
  'insight/follow': { type: 'insight/follow', follow: true },
  'insight/activations-start': { type: 'insight/activations-start' },
  'insight/activations': { type: 'insight/activations', maps: maps('block1_conv1', 64), ms: 12 },
  'insight/activations-failed': { type: 'insight/activations-failed', error: err('EngineStateError') },
  'insight/gallery-layer': { type: 'insight/gallery-layer', layer: 'block5_conv3' },
  'insight/gallery-count': { type: 'insight/gallery-count', count: 8 },
  'insight/gallery-settings': { type: 'insight/gallery-settings', settings: { steps: 10 } },
  'insight/gallery-start': { type: 'insight/gallery-start', key: 'k', cached: [tile(0, true)], total: 40 },
  'insight/gallery-progress': { type: 'insight/gallery-progress', done: 5 },
  'insight/gallery-tiles': { type: 'insight/gallery-tiles', tiles: [tile(1)] },
  'insight/gallery-cancel': { type: 'insight/gallery-cancel' },
  'insight/gallery-end': { type: 'insight/gallery-end' },
  'insight/cam-method': { type: 'insight/cam-method', method: 'layercam' },
  'insight/cam-layer': { type: 'insight/cam-layer', layer: 'block4_conv3' },
  'insight/explain-start': { type: 'insight/explain-start' },
  'insight/explained': { type: 'insight/explained', frame, explanation: explanation() },
  'insight/explain-failed': { type: 'insight/explain-failed', error: err('UnknownLayerError') },
  'insight/deletion-start': { type: 'insight/deletion-start' },
  'insight/deletion': { type: 'insight/deletion', result: deletion },
  'insight/deletion-failed': { type: 'insight/deletion-failed', error: err('WorkerCrashError') },
};

const run = (s: InsightUiState, ...actions: InsightAction[]) => actions.reduce(insightReducer, s);
const ready = () => run(initialInsightState(), EXAMPLES['insight/layers']);
const running = () => run(ready(), EXAMPLES['insight/gallery-start']);

describe('insight reducer: purity', () => {
  const starts = () => [
    initialInsightState(),
    ready(),
    running(),
    run(ready(), EXAMPLES['insight/activations'], EXAMPLES['insight/explained'], EXAMPLES['insight/deletion-start']),
  ];
  it.each(Object.values(EXAMPLES))('$type never mutates the state it is given', (action) => {
    for (const start of starts()) {
      const frozen = structuredClone(start);
      insightReducer(start, action);
      expect(start).toEqual(frozen);
    }
  });
});

describe('insight reducer: layers and tabs', () => {
  it('takes the model layers with defaults: first conv for explorer and gallery, last conv for CAM', () => {
    const s = ready();
    expect(s.modelId).toBe('m');
    expect(s.layers.map((l) => l.name)).toEqual(LAYERS.map((l) => l.name));
    expect(s.explorer.layer).toBe('block1_conv1');
    expect(s.gallery.layer).toBe('block1_conv1');
    expect(s.cam.layer).toBe('block5_conv3');
    expect(insightReducer(s, EXAMPLES['insight/layers'])).toBe(s); // same model: unchanged
  });

  it('a different model drops results from the old weights but keeps the user choices', () => {
    let s = run(ready(), EXAMPLES['insight/norm'], EXAMPLES['insight/activations'], EXAMPLES['insight/cam-method']);
    s = run(s, EXAMPLES['insight/gallery-count'], EXAMPLES['insight/tab']);
    s = insightReducer(s, { type: 'insight/layers', modelId: 'tiny', layers: insightLayers(TINY_VGG) });
    expect(s.explorer.maps).toBeUndefined();
    expect([s.explorer.norm, s.cam.method, s.gallery.count, s.tab]).toEqual(['layer', 'layercam', 8, 'filters']);
    expect(s.layers[0]!.dims).toEqual([4, 32, 32]);
  });

  it('switches tabs; the same tab is a no-op', () => {
    const s = ready();
    expect(insightReducer(s, { type: 'insight/tab', tab: 'explorer' })).toBe(s);
    expect(insightReducer(s, { type: 'insight/tab', tab: 'cam' }).tab).toBe('cam');
  });
});

describe('insight reducer: explorer', () => {
  it('changing layer clears the maps, page and enlarged tile; unknown layers are ignored', () => {
    let s = run(ready(), { ...EXAMPLES['insight/activations'], maps: maps('block1_conv1', 200) });
    s = run(s, { type: 'insight/page', page: 2 }, { type: 'insight/enlarge', channel: 150 });
    expect([s.explorer.page, s.explorer.enlarged]).toEqual([2, 150]);
    expect(insightReducer(s, { type: 'insight/explorer-layer', layer: 'dense_1' })).toBe(s);
    const t = insightReducer(s, EXAMPLES['insight/explorer-layer']);
    expect(t.explorer).toMatchObject({ layer: 'block3_pool', page: 0 });
    expect([t.explorer.maps, t.explorer.enlarged]).toEqual([undefined, undefined]);
  });

  it('pages are clamped to the channel count (64 per page, 512 channels = 8 pages)', () => {
    let s = run(ready(), { ...EXAMPLES['insight/activations'], maps: maps('block1_conv1', 512) });
    expect(channelCount(s.explorer)).toBe(512);
    expect(pageCount(s.explorer)).toBe(512 / PAGE_SIZE);
    s = insightReducer(s, { type: 'insight/page', page: 99 });
    expect(s.explorer.page).toBe(7);
    s = insightReducer(s, { type: 'insight/page', page: -3 });
    expect(s.explorer.page).toBe(0);
    expect(insightReducer(s, { type: 'insight/page', page: 0 })).toBe(s);
  });

  it('enlarges only existing channels and closes with undefined', () => {
    const s = run(ready(), EXAMPLES['insight/activations']);
    expect(insightReducer(s, { type: 'insight/enlarge', channel: 64 })).toBe(s);
    const big = insightReducer(s, { type: 'insight/enlarge', channel: 63 });
    expect(big.explorer.enlarged).toBe(63);
    expect(insightReducer(big, { type: 'insight/enlarge' }).explorer.enlarged).toBeUndefined();
  });

  it('a result for a layer no longer chosen only ends the busy state', () => {
    const s = run(ready(), EXAMPLES['insight/activations-start']);
    expect(s.explorer.busy).toBe(true);
    const stale = insightReducer(s, { ...EXAMPLES['insight/activations'], maps: maps('block2_conv1', 128) });
    expect(stale.explorer.busy).toBe(false);
    expect(stale.explorer.maps).toBeUndefined();
    expect(stale.explorer.runs).toBe(0);
    const fresh = insightReducer(s, EXAMPLES['insight/activations']);
    expect(fresh.explorer).toMatchObject({ busy: false, ms: 12, runs: 1 });
    expect(insightReducer(fresh, EXAMPLES['insight/activations']).explorer.runs).toBe(2);
    expect(fresh.explorer.maps).toBe(EXAMPLES['insight/activations'].maps); // kept, not copied
  });

  it('a failure stops follow mode and shows the error; norm and follow toggle', () => {
    let s = run(ready(), EXAMPLES['insight/follow'], EXAMPLES['insight/norm']);
    expect([s.explorer.follow, s.explorer.norm]).toEqual([true, 'layer']);
    expect(insightReducer(s, EXAMPLES['insight/follow'])).toBe(s);
    expect(insightReducer(s, EXAMPLES['insight/norm'])).toBe(s);
    s = insightReducer(s, EXAMPLES['insight/activations-failed']);
    expect(s.explorer).toMatchObject({ follow: false, busy: false, error: err('EngineStateError') });
  });
});

describe('insight reducer: filter gallery', () => {
  it('starts from the engine defaults', () => {
    const { steps, jitter, tv } = DEFAULT_FILTER_SETTINGS;
    expect(DEFAULT_GALLERY).toEqual({ steps, jitter, tv });
    expect(initialInsightState().gallery.settings).toEqual(DEFAULT_GALLERY);
  });

  it('clamps count and settings, ignores non-numbers, and changes nothing while running', () => {
    let s = ready();
    expect(insightReducer(s, { type: 'insight/gallery-count', count: 1000 }).gallery.count).toBe(MAX_FILTERS);
    expect(insightReducer(s, { type: 'insight/gallery-count', count: 0 }).gallery.count).toBe(1);
    expect(insightReducer(s, { type: 'insight/gallery-count', count: NaN })).toBe(s);
    s = insightReducer(s, { type: 'insight/gallery-settings', settings: { steps: 3.6, jitter: -1, tv: 9 } });
    expect(s.gallery.settings).toEqual({ steps: 4, jitter: 0, tv: 4 });
    expect(insightReducer(s, { type: 'insight/gallery-settings', settings: { tv: NaN } })).toBe(s);
    expect(insightReducer(s, { type: 'insight/gallery-layer', layer: 'nope' })).toBe(s);
    const r = running();
    for (const a of [
      'insight/gallery-count',
      'insight/gallery-settings',
      'insight/gallery-layer',
      'insight/gallery-start',
    ] as const)
      expect(insightReducer(r, EXAMPLES[a])).toBe(r);
  });

  it('runs: cached tiles first, computed ones merged in filter order, progress clamped, done fills the bar', () => {
    let s = run(running(), { type: 'insight/gallery-progress', done: 99 });
    expect(s.gallery).toMatchObject({ status: 'running', shown: 'k', done: 40, total: 40 });
    s = run(s, { type: 'insight/gallery-tiles', tiles: [tile(3), tile(2)] }, EXAMPLES['insight/gallery-tiles']);
    expect(s.gallery.tiles.map((t) => [t.filter, t.cached])).toEqual([
      [0, true],
      [1, false],
      [2, false],
      [3, false],
    ]);
    s = run(s, { type: 'insight/gallery-progress', done: 10 }, EXAMPLES['insight/gallery-end']);
    expect(s.gallery).toMatchObject({ status: 'done', done: 40 });
    // Nothing runs now: progress, tiles, cancel and end are ignored.
    for (const a of [
      'insight/gallery-progress',
      'insight/gallery-tiles',
      'insight/gallery-cancel',
      'insight/gallery-end',
    ] as const)
      expect(insightReducer(s, EXAMPLES[a])).toBe(s);
  });

  it('cancel: running → cancelling → cancelled with the progress reached; failures keep the error', () => {
    let s = run(running(), EXAMPLES['insight/gallery-progress'], EXAMPLES['insight/gallery-cancel']);
    expect(s.gallery.status).toBe('cancelling');
    expect(insightReducer(s, EXAMPLES['insight/gallery-cancel'])).toBe(s);
    s = insightReducer(s, EXAMPLES['insight/gallery-end']);
    expect(s.gallery).toMatchObject({ status: 'cancelled', done: 5 });
    const f = run(running(), { type: 'insight/gallery-end', error: err('WorkerCrashError') });
    expect(f.gallery).toMatchObject({ status: 'failed', error: err('WorkerCrashError') });
  });

  it('the gallery key changes with every choice that changes the pictures', () => {
    const g = ready().gallery;
    const keys = new Set([
      galleryKey(g),
      galleryKey({ ...g, layer: 'block2_conv1' }),
      galleryKey({ ...g, count: 4 }),
      galleryKey({ ...g, settings: { ...g.settings, steps: 10 } }),
      galleryKey({ ...g, settings: { ...g.settings, jitter: 0 } }),
      galleryKey({ ...g, settings: { ...g.settings, tv: 0 } }),
    ]);
    expect(keys.size).toBe(6);
  });
});

describe('insight reducer: CAM and deletion', () => {
  it('method and layer choices; unknown layers ignored', () => {
    const s = ready();
    expect(insightReducer(s, { type: 'insight/cam-method', method: 'gradcam' })).toBe(s);
    expect(insightReducer(s, EXAMPLES['insight/cam-method']).cam.method).toBe('layercam');
    expect(insightReducer(s, { type: 'insight/cam-layer', layer: 'predictions' })).toBe(s);
    expect(insightReducer(s, EXAMPLES['insight/cam-layer']).cam.layer).toBe('block4_conv3');
  });

  it('explains: busy, then the still and its heatmap; a new heatmap clears the old curve', () => {
    let s = run(ready(), EXAMPLES['insight/explain-start']);
    expect(s.cam.busy).toBe(true);
    s = run(s, EXAMPLES['insight/explained'], EXAMPLES['insight/deletion-start'], EXAMPLES['insight/deletion']);
    expect(s.cam.deletion).toEqual({ status: 'done', result: deletion });
    expect(s.cam.frame).toBe(frame);
    s = run(s, { type: 'insight/explained', frame, explanation: explanation('gradcam++') });
    expect(s.cam).toMatchObject({ busy: false, deletion: { status: 'idle' } });
    expect(s.cam.explanation!.cam).toBe('gradcam++');
    s = run(s, EXAMPLES['insight/explain-start'], EXAMPLES['insight/explain-failed']);
    expect(s.cam).toMatchObject({ busy: false, error: err('UnknownLayerError') });
  });

  it('one deletion at a time; results and failures only while one runs', () => {
    const s = run(ready(), EXAMPLES['insight/explained']);
    expect(insightReducer(s, EXAMPLES['insight/deletion'])).toBe(s);
    expect(insightReducer(s, EXAMPLES['insight/deletion-failed'])).toBe(s);
    const r = insightReducer(s, EXAMPLES['insight/deletion-start']);
    expect(insightReducer(r, EXAMPLES['insight/deletion-start'])).toBe(r);
    expect(insightReducer(r, EXAMPLES['insight/deletion-failed']).cam.deletion).toEqual({
      status: 'failed',
      error: err('WorkerCrashError'),
    });
  });
});
