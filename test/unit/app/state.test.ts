import { describe, expect, it } from 'vitest';
import { modelInfo } from '../../helpers/app';
import type { AnalyzeResult, StoredModel } from '../../../workers/engine/protocol';
import { cameraErrorState } from '../../../src/app/camera/errors';
import {
  pickStartupModel,
  selectBusy,
  selectDemoStorage,
  selectTransferRate,
  selectDemoWeights,
  selectFps,
  selectReadyModels,
  selectShowUpdate,
} from '../../../src/app/selectors';
import { DEFAULT_WEIGHTS_URL, DEMO_MODEL_ID, type LibraryAction } from '../../../src/app/library/state';
import { FPS_WINDOW, initialState, reducer, type Action, type CoreAction, type AppState } from '../../../src/app/state';

const info = (id: string, pretrained = false) =>
  modelInfo(id, { pretrained, parts: [{ name: 'base', bytes: 100, loaded: true }] });

const stored = (id: string, over: Partial<StoredModel> = {}): StoredModel => ({
  id,
  source: 'demo',
  pretrained: false,
  quantization: 'int8',
  parts: [
    { name: 'base', bytes: 1000, stored: 1000, complete: true },
    { name: 'imagenet-head', bytes: 3000, stored: 3000, complete: true },
  ],
  ready: true,
  ...over,
});

const result = (label: string, index = 3): AnalyzeResult => ({
  top5: [{ index, label, prob: 0.9 }],
  target: { index, label },
  heatmap: { dims: [14, 14], data: new Float32Array(196) },
  ms: { preprocess: 1, run: 2, total: 3 },
});

const err = (name: string, message = 'x') => ({ name, message });
const progress = (done: number, total = 100) => ({ phase: 'download', done, total });

function run(actions: Action[], from: AppState = initialState()): AppState {
  return actions.reduce(reducer, from);
}

/** Already showing a ready model in the live view. */
function live(): AppState {
  return run([
    { type: 'model/loading', id: 'm' },
    { type: 'model/ready', info: info('m') },
  ]);
}

/**
 * One example of every action. The mapped type makes this fail to compile when an action is added to
 * the union without being listed here, so "every action is tested" stays true.
 */
type AppAction = CoreAction | LibraryAction;
const EXAMPLES: { [K in AppAction['type']]: Extract<AppAction, { type: K }> } = {
  online: { type: 'online', online: false },
  'engine/ready': { type: 'engine/ready', backend: { device: 'wasm', threads: 1 } },
  'engine/restarting': { type: 'engine/restarting', reason: 'worker error' },
  'engine/failed': { type: 'engine/failed', error: err('WorkerCrashError') },
  'library/listed': { type: 'library/listed', models: [stored('a')] },
  'library/storage': { type: 'library/storage', estimate: { usage: 1, quota: 2, persisted: false } },
  'library/demo-size': { type: 'library/demo-size', bytes: 123 },
  'library/confirm-delete': { type: 'library/confirm-delete', id: 'a' },
  'library/weights-url': { type: 'library/weights-url', url: 'https://mirror.test/vgg16.safetensors' },
  'library/served': { type: 'library/served', served: [], pending: [] },
  'download/start': { type: 'download/start', id: DEMO_MODEL_ID },
  'download/progress': { type: 'download/progress', progress: progress(5) },
  'download/cancel': { type: 'download/cancel' },
  'download/done': { type: 'download/done', model: stored(DEMO_MODEL_ID) },
  'download/failed': { type: 'download/failed', error: err('ShardHashError') },
  'job/start': { type: 'job/start', kind: 'verify', target: 'a' },
  'job/progress': { type: 'job/progress', progress: progress(1, 3) },
  'job/done': { type: 'job/done', model: stored('a') },
  'job/failed': { type: 'job/failed', error: err('ShardHashError') },
  'model/loading': { type: 'model/loading', id: 'm' },
  'model/progress': { type: 'model/progress', progress: progress(1, 2) },
  'model/ready': { type: 'model/ready', info: info('m') },
  'model/failed': { type: 'model/failed', error: err('ModelNotFoundError') },
  view: { type: 'view', view: 'live' },
  'camera/starting': { type: 'camera/starting', facing: 'user' },
  'camera/live': { type: 'camera/live', canSwitch: true },
  'camera/size': { type: 'camera/size', width: 640, height: 480 },
  'camera/failed': { type: 'camera/failed', problem: cameraErrorState({ name: 'NotAllowedError' }) },
  'camera/stopped': { type: 'camera/stopped' },
  'frame/result': { type: 'frame/result', result: result('cat'), at: 1000 },
  'frame/failed': { type: 'frame/failed', error: err('EngineStateError') },
  'live/choose': { type: 'live/choose', choice: 7 },
  'live/opacity': { type: 'live/opacity', opacity: 0.25 },
  'live/paused': { type: 'live/paused', paused: true },
  'live/snapshot': { type: 'live/snapshot', url: 'blob:x', name: 'a.png' },
  'update/available': { type: 'update/available' },
  'update/accept': { type: 'update/accept' },
  'update/dismiss': { type: 'update/dismiss' },
  'error/raise': { type: 'error/raise', error: err('QuotaExceededError') },
  'error/dismiss': { type: 'error/dismiss' },
};

describe('reducer: purity', () => {
  it.each(Object.values(EXAMPLES))('$type never mutates the state it is given', (action) => {
    for (const start of [initialState(), live()]) {
      const frozen = structuredClone(start);
      reducer(start, action);
      expect(start).toEqual(frozen);
    }
  });
});

describe('reducer: engine', () => {
  it('starts, becomes ready, restarts (model shown loading again) and fails', () => {
    let s = initialState({ isolated: true });
    expect(s.engine).toMatchObject({ status: 'starting', isolated: true, restarts: 0 });
    s = reducer(s, EXAMPLES['engine/ready']);
    expect(s.engine.status).toBe('ready');
    expect(s.engine.backend).toEqual({ device: 'wasm', threads: 1 });
    s = run(
      [{ type: 'model/loading', id: 'm' }, { type: 'model/ready', info: info('m') }, EXAMPLES['engine/restarting']],
      s,
    );
    expect(s.engine).toMatchObject({ status: 'restarting', restarts: 1, reason: 'worker error' });
    expect(s.model).toEqual({ status: 'loading', id: 'm' });
    s = reducer(s, EXAMPLES['engine/failed']);
    expect(s.engine.status).toBe('failed');
    expect(s.error?.name).toBe('WorkerCrashError');
    expect(s.model.status).toBe('none');
    expect(s.view).toBe('models');
  });

  it('tracks connectivity', () => {
    expect(reducer(initialState(), EXAMPLES.online).online).toBe(false);
    expect(initialState({ online: false }).online).toBe(false);
  });
});

describe('reducer: download rate', () => {
  const bytes = (done: number) => ({ phase: 'download', done, total: 1000, unit: 'bytes' as const });
  it('anchors the rate at the first byte report of each run, so a resumed run does not count kept bytes', () => {
    let s = run([
      { type: 'download/start', id: 'u', source: 'url' },
      { type: 'download/progress', progress: bytes(0), at: 0 },
      { type: 'download/progress', progress: bytes(200), at: 2000 },
    ]);
    expect(selectTransferRate(s)).toEqual({ rate: 100, eta: 8 });
    s = run(
      [
        { type: 'download/failed', error: err('AbortError') },
        { type: 'download/start', id: 'u', source: 'url' },
        { type: 'download/progress', progress: bytes(200), at: 60_000 },
        { type: 'download/progress', progress: bytes(250), at: 60_500 },
      ],
      s,
    );
    // Under a second since the resume: no rate yet, rather than one diluted by the pause.
    expect(selectTransferRate(s)).toEqual({});
    s = reducer(s, { type: 'download/progress', progress: bytes(600), at: 62_000 });
    expect(selectTransferRate(s)).toEqual({ rate: 200, eta: 2 });
  });
});

describe('reducer: library', () => {
  it('stores the list, the estimate, the demo size and the pending delete', () => {
    const s = run([
      EXAMPLES['library/listed'],
      EXAMPLES['library/storage'],
      EXAMPLES['library/demo-size'],
      EXAMPLES['library/confirm-delete'],
    ]);
    expect(s.library).toEqual({
      models: [stored('a')],
      listed: true,
      storage: { usage: 1, quota: 2, persisted: false },
      demoBytes: 123,
      confirmDelete: 'a',
      weightsUrl: DEFAULT_WEIGHTS_URL,
      weightsSha256: '',
      served: [],
      pending: [],
    });
    expect(reducer(s, { type: 'library/confirm-delete' }).library.confirmDelete).toBeUndefined();
  });

  it("keeps the weights source's published SHA-256 (trimmed, lower-case) with its URL; empty resets both", () => {
    const sha = 'AB'.repeat(32);
    let s = run([{ type: 'library/weights-url', url: ' https://mirror.test/w.safetensors ', sha256: ` ${sha}\n` }]);
    expect(s.library).toMatchObject({
      weightsUrl: 'https://mirror.test/w.safetensors',
      weightsSha256: 'ab'.repeat(32),
    });
    s = reducer(s, { type: 'library/weights-url', url: '', sha256: '' });
    expect(s.library).toMatchObject({ weightsUrl: DEFAULT_WEIGHTS_URL, weightsSha256: '' });
  });
});

describe('reducer: download', () => {
  it('runs with progress, then adds the model and announces it', () => {
    let s = run([EXAMPLES['download/start'], EXAMPLES['download/progress']]);
    expect(s.download).toEqual({ status: 'running', id: DEMO_MODEL_ID, progress: progress(5) });
    expect(selectBusy(s)).toBe(true);
    s = reducer(s, EXAMPLES['download/done']);
    expect(s.download).toEqual({ status: 'idle' });
    expect(s.library.models.map((m) => m.id)).toEqual([DEMO_MODEL_ID]);
    expect(s.notice).toMatch(/downloaded and verified/);
  });

  it('replaces the stored entry of the same id instead of duplicating it', () => {
    const partial = stored(DEMO_MODEL_ID, { ready: false });
    const s = run([
      { type: 'library/listed', models: [partial] },
      EXAMPLES['download/start'],
      EXAMPLES['download/done'],
    ]);
    expect(s.library.models).toEqual([stored(DEMO_MODEL_ID)]);
  });

  it('cancel: running → cancelling → stopped, progress kept, no error', () => {
    let s = run([EXAMPLES['download/start'], EXAMPLES['download/progress'], EXAMPLES['download/cancel']]);
    expect(s.download.status).toBe('cancelling');
    s = reducer(s, { type: 'download/progress', progress: progress(6) });
    s = reducer(s, { type: 'download/failed', error: err('AbortError') });
    expect(s.download).toEqual({ status: 'stopped', id: DEMO_MODEL_ID, progress: progress(6) });
    expect(s.error).toBeUndefined();
    expect(s.notice).toMatch(/paused/);
  });

  it('a failure while cancelling counts as the cancel, whatever its name', () => {
    const s = run([EXAMPLES['download/start'], EXAMPLES['download/cancel'], EXAMPLES['download/failed']]);
    expect(s.download.status).toBe('stopped');
    expect(s.error).toBeUndefined();
  });

  it('a real failure stops the download and shows the error by name (quota, hash)', () => {
    for (const name of ['QuotaExceededError', 'ShardHashError']) {
      const s = run([
        EXAMPLES['download/start'],
        EXAMPLES['download/progress'],
        { type: 'download/failed', error: err(name, 'm') },
      ]);
      expect(s.download.status).toBe('stopped');
      expect(s.error).toEqual(err(name, 'm'));
    }
  });

  it('resume keeps the last progress; a second start while running is ignored', () => {
    let s = run([EXAMPLES['download/start'], EXAMPLES['download/progress'], EXAMPLES['download/failed']]);
    s = reducer(s, EXAMPLES['download/start']);
    expect(s.download).toEqual({ status: 'running', id: DEMO_MODEL_ID, progress: progress(5) });
    expect(s.error).toBeUndefined();
    expect(reducer(s, EXAMPLES['download/start'])).toBe(s);
  });

  it('ignores progress, cancel and failure when nothing runs', () => {
    const s = initialState();
    expect(reducer(s, EXAMPLES['download/progress'])).toBe(s);
    expect(reducer(s, EXAMPLES['download/cancel'])).toBe(s);
    expect(reducer(s, EXAMPLES['download/failed'])).toBe(s);
  });
});

describe('reducer: jobs (verify, import, delete)', () => {
  it('verify: progress, then the re-checked model replaces the old entry', () => {
    const bad = stored('a', { ready: false });
    let s = run([{ type: 'library/listed', models: [stored('a')] }, EXAMPLES['job/start'], EXAMPLES['job/progress']]);
    expect(s.job).toEqual({ kind: 'verify', target: 'a', progress: progress(1, 3) });
    expect(selectBusy(s)).toBe(true);
    s = reducer(s, { type: 'job/done', model: bad });
    expect(s.job).toBeUndefined();
    expect(s.library.models).toEqual([bad]);
    expect(s.notice).toMatch(/need downloading again/);
    s = run([EXAMPLES['job/start'], EXAMPLES['job/done']], s);
    expect(s.notice).toMatch(/verified/);
  });

  it('import: the new model is added under its own id', () => {
    const s = run([
      { type: 'job/start', kind: 'import', target: 'vgg16-12.onnx' },
      { type: 'job/done', model: stored('vgg16-onnx', { pretrained: true }) },
    ]);
    expect(s.library.models.map((m) => m.id)).toEqual(['vgg16-onnx']);
    expect(s.notice).toBe('vgg16-onnx imported');
  });

  it('delete: removes the model; deleting the active one leaves the live view', () => {
    let s = run(
      [{ type: 'library/listed', models: [stored('m'), stored('n')] }, EXAMPLES['library/confirm-delete']],
      live(),
    );
    s = run([{ type: 'job/start', kind: 'delete', target: 'm' }], s);
    expect(s.library.confirmDelete).toBeUndefined();
    s = reducer(s, { type: 'job/done', removed: 'm' });
    expect(s.library.models.map((m) => m.id)).toEqual(['n']);
    expect(s.model.status).toBe('none');
    expect(s.view).toBe('models');
    expect(s.notice).toBe('m deleted');
  });

  it('one job at a time; failures show, cancellations do not', () => {
    const s = reducer(initialState(), EXAMPLES['job/start']);
    expect(reducer(s, { type: 'job/start', kind: 'import', target: 'f' })).toBe(s);
    expect(reducer(s, EXAMPLES['job/failed'])).toMatchObject({ job: undefined, error: err('ShardHashError') });
    expect(reducer(s, { type: 'job/failed', error: err('AbortError') }).error).toBeUndefined();
    const idle = initialState();
    expect(reducer(idle, EXAMPLES['job/progress'])).toBe(idle);
    expect(reducer(idle, EXAMPLES['job/done'])).toBe(idle);
    expect(reducer(idle, EXAMPLES['job/failed'])).toBe(idle);
  });
});

describe('reducer: model', () => {
  it('loading with progress, then ready switches to the live view', () => {
    let s = run([EXAMPLES['model/loading'], EXAMPLES['model/progress']]);
    expect(s.model).toEqual({ status: 'loading', id: 'm', progress: progress(1, 2) });
    s = reducer(s, EXAMPLES['model/ready']);
    expect(s.model).toEqual({ status: 'ready', id: 'm', info: info('m') });
    expect(s.view).toBe('live');
  });

  it('a new load clears the previous result and class choice', () => {
    let s = run([EXAMPLES['frame/result'], EXAMPLES['live/choose']], live());
    s = reducer(s, { type: 'model/loading', id: 'other' });
    expect(s.live.result).toBeUndefined();
    expect(s.live.choice).toBe('auto');
    expect(s.live.times).toEqual([]);
  });

  it('failure shows the named error and returns to the model screen', () => {
    const s = reducer(live(), EXAMPLES['model/failed']);
    expect(s.model.status).toBe('none');
    expect(s.view).toBe('models');
    expect(s.error?.name).toBe('ModelNotFoundError');
  });

  it('progress is ignored unless loading', () => {
    const s = live();
    expect(reducer(s, EXAMPLES['model/progress'])).toBe(s);
  });
});

describe('reducer: view and camera', () => {
  it('switches views; views that need a model are refused without one', () => {
    expect(reducer(initialState(), EXAMPLES.view).view).toBe('models');
    const s = live();
    for (const view of ['train', 'inside', 'models', 'live'] as const)
      expect(reducer(s, { type: 'view', view }).view).toBe(view);
  });

  it('starting → live → sized → stopped', () => {
    let s = reducer(initialState(), EXAMPLES['camera/starting']);
    expect(s.camera).toMatchObject({ status: 'starting', facing: 'user' });
    s = run([EXAMPLES['camera/live'], EXAMPLES['camera/size']], s);
    expect(s.camera).toMatchObject({ status: 'live', canSwitch: true, width: 640, height: 480 });
    s = reducer(s, EXAMPLES['camera/stopped']);
    expect(s.camera).toMatchObject({ status: 'off', width: 0, height: 0, facing: 'user' });
  });

  it('a failure keeps its problem until the next start', () => {
    let s = reducer(initialState(), EXAMPLES['camera/failed']);
    expect(s.camera.status).toBe('error');
    expect(s.camera.problem?.kind).toBe('denied');
    s = reducer(s, { type: 'camera/starting', facing: 'environment' });
    expect(s.camera.problem).toBeUndefined();
  });
});

describe('reducer: live frames', () => {
  it('keeps the newest result and the last FPS_WINDOW arrival times', () => {
    let s = live();
    for (let i = 0; i < FPS_WINDOW + 3; i++)
      s = reducer(s, { type: 'frame/result', result: result(`r${i}`), at: i * 500 });
    expect(s.live.result?.target.label).toBe(`r${FPS_WINDOW + 2}`);
    expect(s.live.times).toHaveLength(FPS_WINDOW);
    expect(selectFps(s)).toBeCloseTo(2, 6);
  });

  it('drops a late result once the model is gone', () => {
    const s = initialState();
    expect(reducer(s, EXAMPLES['frame/result'])).toBe(s);
  });

  it('shows a frame error', () => {
    expect(reducer(live(), EXAMPLES['frame/failed']).error?.name).toBe('EngineStateError');
  });

  it('class choice, opacity (clamped), pause (resets the rate) and snapshot', () => {
    let s = run([EXAMPLES['frame/result'], { ...EXAMPLES['frame/result'], at: 2000 }], live());
    s = reducer(s, EXAMPLES['live/choose']);
    expect(s.live.choice).toBe(7);
    expect(reducer(s, { type: 'live/choose', choice: 'auto' }).live.choice).toBe('auto');
    expect(reducer(s, EXAMPLES['live/opacity']).live.opacity).toBe(0.25);
    expect(reducer(s, { type: 'live/opacity', opacity: 3 }).live.opacity).toBe(1);
    expect(reducer(s, { type: 'live/opacity', opacity: -1 }).live.opacity).toBe(0);
    expect(reducer(s, { type: 'live/opacity', opacity: Number.NaN }).live.opacity).toBe(0);
    s = reducer(s, EXAMPLES['live/paused']);
    expect(s.live.paused).toBe(true);
    expect(s.live.times).toEqual([]);
    expect(s.live.result).toBeDefined();
    expect(reducer(s, EXAMPLES['live/snapshot']).live.snapshot).toEqual({ url: 'blob:x', name: 'a.png' });
  });
});

describe('reducer: service-worker update', () => {
  it('available → accepted; dismissed stays dismissed', () => {
    const s = reducer(initialState(), EXAMPLES['update/available']);
    expect(s.update).toBe('available');
    expect(selectShowUpdate(s)).toBe(true);
    expect(reducer(s, EXAMPLES['update/accept']).update).toBe('applying');
    const dismissed = reducer(s, EXAMPLES['update/dismiss']);
    expect(dismissed.update).toBe('dismissed');
    expect(reducer(dismissed, EXAMPLES['update/available'])).toBe(dismissed);
    expect(reducer(dismissed, EXAMPLES['update/accept'])).toBe(dismissed);
    expect(reducer(initialState(), EXAMPLES['update/accept']).update).toBe('none');
  });

  it('is not offered during a download or a job, and is once they end', () => {
    let s = run([EXAMPLES['update/available'], EXAMPLES['download/start']]);
    expect(selectShowUpdate(s)).toBe(false);
    s = reducer(s, EXAMPLES['download/done']);
    expect(selectShowUpdate(s)).toBe(true);
    s = reducer(s, EXAMPLES['job/start']);
    expect(selectShowUpdate(s)).toBe(false);
  });
});

describe('reducer: errors and notices', () => {
  it('raise and dismiss', () => {
    let s = reducer(initialState(), EXAMPLES['error/raise']);
    expect(s.error?.name).toBe('QuotaExceededError');
    s = reducer({ ...s, notice: 'hello' }, EXAMPLES['error/dismiss']);
    expect(s.error).toBeUndefined();
    expect(s.notice).toBeUndefined();
  });
});

describe('selectors', () => {
  it('fps is 0 before two results, and counts intervals over the window', () => {
    const s = live();
    expect(selectFps(s)).toBe(0);
    expect(selectFps(run([{ type: 'frame/result', result: result('a'), at: 100 }], s))).toBe(0);
    const two = run(
      [
        { type: 'frame/result', result: result('a'), at: 100 },
        { type: 'frame/result', result: result('b'), at: 350 },
      ],
      s,
    );
    expect(selectFps(two)).toBe(4);
  });

  it('ready models and the demo badge', () => {
    const s = run([{ type: 'library/listed', models: [stored('a'), stored('b', { ready: false })] }]);
    expect(selectReadyModels(s).map((m) => m.id)).toEqual(['a']);
    expect(selectDemoWeights(live())).toBe(true);
    expect(selectDemoWeights(run([EXAMPLES['model/loading'], { type: 'model/ready', info: info('m', true) }]))).toBe(
      false,
    );
    expect(selectDemoWeights(initialState())).toBe(false);
  });

  it('storage needed vs available: manifest size minus what is stored, against quota − usage', () => {
    let s = run([
      { type: 'library/demo-size', bytes: 4000 },
      { type: 'library/storage', estimate: { usage: 500, quota: 10_500, persisted: false } },
    ]);
    expect(selectDemoStorage(s)).toEqual({ needed: 4000, available: 10_000, fits: true });
    const partial = stored(DEMO_MODEL_ID, {
      ready: false,
      parts: [
        { name: 'base', bytes: 1000, stored: 1000, complete: true },
        { name: 'imagenet-head', bytes: 3000, stored: 0, complete: false },
      ],
    });
    s = reducer(s, { type: 'library/listed', models: [partial] });
    expect(selectDemoStorage(s).needed).toBe(3000);
    s = reducer(s, { type: 'library/storage', estimate: { usage: 9_000, quota: 10_000, persisted: true } });
    expect(selectDemoStorage(s)).toEqual({ needed: 3000, available: 1000, fits: false });
    // A running download's own total wins over the manifest read earlier.
    s = run([EXAMPLES['download/start'], { type: 'download/progress', progress: progress(0, 5000) }], s);
    expect(selectDemoStorage(s).needed).toBe(4000);
    expect(selectDemoStorage(initialState())).toEqual({ needed: 0, fits: true });
  });

  it('start-up model: last used if ready, else a pretrained one, else any ready one', () => {
    const models = [stored('demo'), stored('real', { pretrained: true }), stored('half', { ready: false })];
    expect(pickStartupModel(models, 'demo')).toBe('demo');
    expect(pickStartupModel(models, 'half')).toBe('real');
    expect(pickStartupModel(models, undefined)).toBe('real');
    expect(pickStartupModel([stored('demo')], 'gone')).toBe('demo');
    expect(pickStartupModel([stored('half', { ready: false })], 'half')).toBeUndefined();
    expect(pickStartupModel([], undefined)).toBeUndefined();
  });
});
