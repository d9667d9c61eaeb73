import { describe, expect, it } from 'vitest';
import { modelInfo } from '../../helpers/app';
import { WorkerCrashError } from '../../../src/app/bridge/lifecycle';
import type { GrabberOptions } from '../../../src/app/camera/grabber';
import type { Facing } from '../../../src/app/camera/session';
import {
  Controller,
  MEMORY_SAVER_KEY,
  type BridgeCallbacks,
  type ControllerDeps,
  type EngineLike,
  type VideoLike,
} from '../../../src/app/controller';
import { selectShowUpdate, selectTransferRate } from '../../../src/app/selectors';
import { WEIGHTS_SHA256_KEY, WEIGHTS_URL_KEY } from '../../../src/app/library/controller';
import { DEFAULT_WEIGHTS_URL, DEMO_MODEL_ID } from '../../../src/app/library/state';
import { initialState } from '../../../src/app/state';
import { Store } from '../../../src/app/store';
import type { ContainerLike, RegistrationLike } from '../../../src/app/sw-update';
import type {
  AnalyzeOptions,
  DownloadRequest,
  PendingImport,
  ProgressFn,
  ServedModel,
  UrlImportRequest,
  StoredModel,
} from '../../../workers/engine/protocol';
import { deferred, FakeBitmap, settle, type Deferred } from './fake-worker';

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

const stored = (id: string, over: Partial<StoredModel> = {}): StoredModel => ({
  id,
  source: 'demo',
  pretrained: false,
  quantization: 'int8',
  parts: [{ name: 'base', bytes: 10, stored: 10, complete: true }],
  ready: true,
  ...over,
});

const info = (id: string) => modelInfo(id);

/** The engine as the controller sees it, scripted per test. */
class FakeEngine implements EngineLike {
  callbacks!: BridgeCallbacks;
  idle = true;
  models: StoredModel[] = [];
  submitted: { frame: unknown; options: AnalyzeOptions | undefined }[] = [];
  loads: string[] = [];
  loadError: Error | undefined;
  download: Deferred<StoredModel> | undefined;
  downloadRequests: DownloadRequest[] = [];
  downloadProgress: ProgressFn | undefined;
  cancels = 0;
  deleted: string[] = [];
  imported: { name: string; bytes: Uint8Array }[] = [];
  restarts = 0;
  disposed = false;

  async start() {}
  submit(frame: unknown, options?: AnalyzeOptions) {
    this.submitted.push({ frame, options });
  }
  async loadModel(id: string, onProgress?: ProgressFn) {
    this.loads.push(id);
    onProgress?.({ phase: 'build', done: 1, total: 2 });
    if (this.loadError) throw this.loadError;
    return info(id);
  }
  async listModels() {
    return this.models;
  }
  async storageEstimate() {
    return { usage: 100, quota: 1_000_000, persisted: false };
  }
  downloadModel(request: DownloadRequest, onProgress?: ProgressFn) {
    this.downloadRequests.push(request);
    this.downloadProgress = onProgress;
    this.download = deferred<StoredModel>();
    return this.download.promise;
  }
  async cancelDownload() {
    this.cancels++;
    this.download?.reject(named('AbortError', 'download cancelled'));
  }
  async deleteModel(id: string) {
    this.deleted.push(id);
    this.models = this.models.filter((m) => m.id !== id);
  }
  async verifyModel(id: string, onProgress?: ProgressFn) {
    onProgress?.({ phase: 'verify', done: 1, total: 1 });
    return stored(id);
  }
  async importWeights(file: { name: string; bytes: Uint8Array }, onProgress?: ProgressFn) {
    this.imported.push(file);
    onProgress?.({ phase: 'convert', done: 1, total: 2 });
    return stored('vgg16-keras', { source: 'keras-h5', pretrained: true });
  }
  urlImports: UrlImportRequest[] = [];
  served: ServedModel[] = [];
  pending: PendingImport[] = [];
  importFromUrl(request: UrlImportRequest, onProgress?: ProgressFn) {
    this.urlImports.push(request);
    this.downloadProgress = onProgress;
    this.download = deferred<StoredModel>();
    return this.download.promise;
  }
  async pendingImports() {
    return this.pending;
  }
  async listServedModels() {
    return this.served;
  }
  restartNow() {
    this.restarts++;
  }
  readonly reconfigured: { lowMemory?: boolean }[] = [];
  reconfigure(init: { lowMemory?: boolean }) {
    this.reconfigured.push(init);
  }
  /** Feature calls (training, insight) are scripted by their own tests. */
  request<T>(): Promise<T> {
    return Promise.reject(new Error('no engine call scripted'));
  }
  dispose() {
    this.disposed = true;
  }
}

class FakeVideo implements VideoLike {
  srcObject: MediaProvider | null = null;
  videoWidth = 640;
  videoHeight = 480;
  readyState = 4;
  paused = false;
  async play() {
    this.paused = false;
  }
  pause() {
    this.paused = true;
  }
}

function setup(opts: { online?: boolean; lastModel?: string; cameraError?: Error; saver?: string } = {}) {
  const engine = new FakeEngine();
  const store = new Store(initialState({ online: opts.online ?? true }));
  const opened: { facing: Facing; relaxed: boolean }[] = [];
  const log: string[] = [];
  let stream: MediaStream | undefined;
  let grabber: GrabberOptions | undefined;
  const persisted: number[] = [];
  const settings = new Map<string, string>(opts.lastModel ? [['convlens:last-model', opts.lastModel]] : []);
  if (opts.saver) settings.set(MEMORY_SAVER_KEY, opts.saver);
  const deps: ControllerDeps = {
    store,
    createBridge: (callbacks) => {
      engine.callbacks = callbacks;
      return engine;
    },
    camera: {
      open: async (facing: Facing, relaxed = false) => {
        opened.push({ facing, relaxed });
        if (opts.cameraError) throw opts.cameraError;
        stream = { id: `stream-${facing}` } as unknown as MediaStream;
        return stream;
      },
      stop: () => {
        log.push('camera stop');
        stream = undefined;
      },
      get stream() {
        return stream;
      },
      hasSeveralCameras: async () => true,
    },
    baseUri: 'https://h.example/app/',
    settings: { get: (k) => settings.get(k), set: (k, v) => void settings.set(k, v) },
    persistStorage: async () => {
      persisted.push(1);
      return true;
    },
    fetchBundleBytes: async () => 5000,
    now: () => 1234,
    startGrabber: (options) => {
      grabber = options;
      return () => log.push('grabber stop');
    },
    grabStill: async () => new FakeBitmap(224, 224, 'still') as unknown as ImageBitmap,
    saveSnapshot: async (_video, heat, opacity, label) => ({
      url: `blob:${label}-${opacity}-${heat ? 'heat' : 'none'}`,
      name: 'x.png',
    }),
    revokeUrl: (url) => log.push(`revoke ${url}`),
    reload: () => log.push('reload'),
  };
  const controller = new Controller(deps);
  return { controller, engine, store, opened, log, persisted, settings, deps, grabber: () => grabber! };
}

/** Start and report the engine ready (as the bridge would). */
async function ready(t: ReturnType<typeof setup>) {
  t.controller.start();
  t.engine.callbacks.onReady!({ device: 'wasm', threads: 2 }, undefined);
  await settle();
}

describe('Controller: the memory saver', () => {
  it('leaves the choice to the engine until the user makes one, then remembers it and restarts the engine with it', async () => {
    const t = setup();
    await ready(t);
    expect(t.engine.reconfigured).toEqual([]);
    t.controller.setMemorySaver(true);
    expect(t.engine.reconfigured).toEqual([{ lowMemory: true }]);
    expect(t.settings.get(MEMORY_SAVER_KEY)).toBe('on');
    t.controller.setMemorySaver(false);
    expect(t.engine.reconfigured).toEqual([{ lowMemory: true }, { lowMemory: false }]);
    expect(t.settings.get(MEMORY_SAVER_KEY)).toBe('off');
  });

  it('starts the engine with the remembered choice', () => {
    expect(setup({ saver: 'on' }).engine.reconfigured).toEqual([{ lowMemory: true }]);
    expect(setup({ saver: 'off' }).engine.reconfigured).toEqual([{ lowMemory: false }]);
  });
});

describe('Controller: start-up', () => {
  it('reads the library and the demo size, and shows the model screen when nothing is stored', async () => {
    const t = setup();
    await ready(t);
    const s = t.store.state;
    expect(s.engine.status).toBe('ready');
    expect(s.library.listed).toBe(true);
    expect(s.library.demoBytes).toBe(5000);
    expect(s.library.storage?.quota).toBe(1_000_000);
    expect(s.view).toBe('models');
    expect(t.engine.loads).toEqual([]);
  });

  it('loads the last used ready model and goes live with the camera (environment first)', async () => {
    const t = setup({ lastModel: 'b' });
    t.engine.models = [stored('a'), stored('b')];
    await ready(t);
    expect(t.engine.loads).toEqual(['b']);
    expect(t.store.state.model.status).toBe('ready');
    expect(t.store.state.view).toBe('live');
    expect(t.opened).toEqual([{ facing: 'environment', relaxed: false }]);
    expect(t.store.state.camera.status).toBe('live');
  });

  it('shows a model that no longer loads after an engine restart as a named error', async () => {
    const t = setup();
    await ready(t);
    t.engine.callbacks.onReady!({ device: 'wasm', threads: 1 }, undefined, named('ModelNotFoundError', 'gone'));
    expect(t.store.state.error).toEqual({ name: 'ModelNotFoundError', message: 'gone' });
  });
});

describe('Controller: demo download', () => {
  it('asks for persistent storage, shows byte progress, then uses the verified model', async () => {
    const t = setup();
    await ready(t);
    const done = t.controller.library.downloadDemo();
    expect(t.persisted).toHaveLength(1);
    expect(t.engine.downloadRequests).toEqual([
      { id: DEMO_MODEL_ID, baseUrl: 'https://h.example/app/models/vgg16-demo/' },
    ]);
    t.engine.downloadProgress!({ phase: 'download', done: 2500, total: 5000 });
    expect(t.store.state.download).toMatchObject({ status: 'running', progress: { done: 2500, total: 5000 } });
    t.engine.download!.resolve(stored(DEMO_MODEL_ID));
    await done;
    await settle();
    expect(t.engine.loads).toEqual([DEMO_MODEL_ID]);
    expect(t.store.state.view).toBe('live');
  });

  it('cancel keeps the download resumable and shows no error', async () => {
    const t = setup();
    await ready(t);
    const done = t.controller.library.downloadDemo();
    t.controller.library.cancelDownload();
    await done;
    expect(t.engine.cancels).toBe(1);
    expect(t.store.state.download.status).toBe('stopped');
    expect(t.store.state.error).toBeUndefined();
  });

  it('a QuotaExceededError is shown by name with its message', async () => {
    const t = setup();
    await ready(t);
    const done = t.controller.library.downloadDemo();
    t.engine.download!.reject(named('QuotaExceededError', 'needs 140 MB, 20 MB free'));
    await done;
    expect(t.store.state.error).toEqual({ name: 'QuotaExceededError', message: 'needs 140 MB, 20 MB free' });
  });

  it('does not start offline or twice', async () => {
    const offline = setup({ online: false });
    await ready(offline);
    await offline.controller.library.downloadDemo();
    expect(offline.engine.downloadRequests).toEqual([]);

    const t = setup();
    await ready(t);
    void t.controller.library.downloadDemo();
    void t.controller.library.downloadDemo();
    expect(t.engine.downloadRequests).toHaveLength(1);
  });
});

describe('Controller: weights from a URL', () => {
  it('"Get ImageNet weights" imports the published URL, with byte progress, rate and time left, then uses the model', async () => {
    const t = setup();
    await ready(t);
    const done = t.controller.library.getImageNetWeights();
    expect(t.engine.urlImports).toEqual([{ url: DEFAULT_WEIGHTS_URL }]);
    expect(t.persisted).toHaveLength(1);
    t.deps.now = () => 10_000;
    t.engine.downloadProgress!({ phase: 'download', done: 100e6, total: 550e6, unit: 'bytes' });
    t.deps.now = () => 20_000;
    t.engine.downloadProgress!({ phase: 'download', done: 150e6, total: 550e6, unit: 'bytes' });
    expect(t.store.state.download).toMatchObject({ status: 'running', source: 'imagenet' });
    // 50 MB in 10 s since this run's first report: 5 MB/s, 400 MB left.
    expect(selectTransferRate(t.store.state)).toEqual({ rate: 5e6, eta: 80 });
    t.engine.download!.resolve(stored('vgg16.tv_in1k', { source: 'keras-h5', pretrained: true }));
    await done;
    await settle();
    expect(t.engine.loads).toEqual(['vgg16.tv_in1k']);
  });

  it('the source is a setting: remembered, used by the next start, and reset by an empty value', async () => {
    const t = setup();
    await ready(t);
    t.controller.library.setWeightsUrl(' https://mirror.example.org/vgg16.safetensors ');
    expect(t.settings.get(WEIGHTS_URL_KEY)).toBe('https://mirror.example.org/vgg16.safetensors');
    // A later start (same settings) reads it back.
    const again = new Controller({ ...t.deps, store: new Store(initialState()) });
    expect(again.store.state.library.weightsUrl).toBe('https://mirror.example.org/vgg16.safetensors');
    void t.controller.library.getImageNetWeights();
    expect(t.engine.urlImports).toEqual([{ url: 'https://mirror.example.org/vgg16.safetensors' }]);
    t.controller.library.cancelDownload();
    await settle();
    t.controller.library.setWeightsUrl('');
    expect(t.store.state.library.weightsUrl).toBe(DEFAULT_WEIGHTS_URL);
  });

  it("the source's published SHA-256 is a setting too, and reaches the import request", async () => {
    const sha = 'Ab'.repeat(32);
    const t = setup();
    await ready(t);
    t.controller.library.setWeightsUrl('https://mirror.example.org/vgg16.safetensors', ` ${sha} `);
    expect(t.settings.get(WEIGHTS_SHA256_KEY)).toBe('ab'.repeat(32));
    const again = new Controller({ ...t.deps, store: new Store(initialState()) });
    expect(again.store.state.library.weightsSha256).toBe('ab'.repeat(32));
    void t.controller.library.getImageNetWeights();
    expect(t.engine.urlImports).toEqual([
      { url: 'https://mirror.example.org/vgg16.safetensors', sha256: 'ab'.repeat(32) },
    ]);
    t.controller.library.cancelDownload();
    await settle();
    // The published source again: no SHA-256 is kept for it.
    t.controller.library.setWeightsUrl('', '');
    expect(t.settings.get(WEIGHTS_SHA256_KEY)).toBe('');
    expect(t.store.state.library.weightsSha256).toBe('');
  });

  it("a URL import sends its SHA-256, and a mismatch shows the engine's message", async () => {
    const sha = 'CD'.repeat(32);
    const t = setup();
    await ready(t);
    const done = t.controller.library.importUrl('https://x.test/w.onnx', ` ${sha}`);
    expect(t.engine.urlImports).toEqual([{ url: 'https://x.test/w.onnx', sha256: 'cd'.repeat(32) }]);
    const message = `https://x.test/w.onnx has sha256 ${'0'.repeat(64)}, not the published ${'cd'.repeat(32)}`;
    t.engine.download!.reject(named('WeightsChecksumError', message));
    await done;
    expect(t.store.state.error).toEqual({ name: 'WeightsChecksumError', message });
  });

  it('imports any URL (relative ones against the app) and pauses without an error', async () => {
    const t = setup();
    await ready(t);
    const done = t.controller.library.importUrl('weights/vgg16.h5');
    expect(t.engine.urlImports).toEqual([{ url: 'https://h.example/app/weights/vgg16.h5' }]);
    expect(t.store.state.download).toMatchObject({ status: 'running', source: 'url', id: 'weights/vgg16.h5' });
    t.controller.library.cancelDownload();
    await done;
    expect(t.store.state.download.status).toBe('stopped');
    expect(t.store.state.error).toBeUndefined();
  });

  it('lists the served bundles and paused imports, and downloads a served bundle from its folder', async () => {
    const t = setup();
    t.engine.served = [
      {
        id: 'vgg16-real',
        url: 'https://h.example/app/models/vgg16-real/',
        source: 'safetensors',
        pretrained: true,
        quantization: 'int8',
        parts: [{ name: 'base', bytes: 15e6 }],
      },
    ];
    t.engine.pending = [{ id: 'x', url: 'https://a.test/x.onnx', done: 10, total: 100 }];
    await ready(t);
    await settle();
    expect(t.store.state.library.served.map((m) => m.id)).toEqual(['vgg16-real']);
    expect(t.store.state.library.pending).toEqual(t.engine.pending);
    void t.controller.library.downloadServed(t.engine.served[0]!);
    expect(t.engine.downloadRequests).toEqual([
      { id: 'vgg16-real', baseUrl: 'https://h.example/app/models/vgg16-real/' },
    ]);
    expect(t.store.state.download).toMatchObject({ source: 'served', id: 'vgg16-real' });
  });
});

describe('Controller: library jobs', () => {
  it('delete asks first, then deletes; deleting the model in use stops the camera', async () => {
    const t = setup({ lastModel: 'a' });
    t.engine.models = [stored('a')];
    await ready(t);
    expect(t.store.state.camera.status).toBe('live');
    await t.controller.library.deleteModel('a');
    expect(t.engine.deleted).toEqual([]);
    expect(t.store.state.library.confirmDelete).toBe('a');
    await t.controller.library.deleteModel('a');
    expect(t.engine.deleted).toEqual(['a']);
    expect(t.log).toContain('camera stop');
    expect(t.store.state.model.status).toBe('none');
    expect(t.store.state.view).toBe('models');
  });

  it('imports a file’s bytes with progress and lists the new model', async () => {
    const t = setup();
    await ready(t);
    const buffer = new Uint8Array([1, 2, 3]).buffer;
    await t.controller.library.importFile({ name: 'vgg16.h5', arrayBuffer: async () => buffer });
    expect(t.engine.imported).toHaveLength(1);
    expect(t.engine.imported[0]!.name).toBe('vgg16.h5');
    expect(Array.from(t.engine.imported[0]!.bytes)).toEqual([1, 2, 3]);
    expect(t.store.state.library.models.map((m) => m.id)).toContain('vgg16-keras');
    expect(t.store.state.job).toBeUndefined();
  });

  it('a load that crashes the worker waits for the restart instead of failing', async () => {
    const t = setup();
    await ready(t);
    t.engine.loadError = new WorkerCrashError('the engine stopped');
    await t.controller.library.useModel('a');
    expect(t.store.state.model).toMatchObject({ status: 'loading', id: 'a' });
    expect(t.store.state.error).toBeUndefined();
    t.engine.loadError = named('ShardHashError', 'base-000.bin does not match');
    await t.controller.library.useModel('a');
    expect(t.store.state.model.status).toBe('none');
    expect(t.store.state.error?.name).toBe('ShardHashError');
  });
});

describe('Controller: camera and frames', () => {
  it('maps a camera failure to its state, and retries relaxed after OverconstrainedError', async () => {
    const t = setup({ lastModel: 'a', cameraError: named('OverconstrainedError') });
    t.engine.models = [stored('a')];
    await ready(t);
    expect(t.store.state.camera.status).toBe('error');
    expect(t.store.state.camera.problem?.kind).toBe('overconstrained');
    t.controller.retryCamera();
    await settle();
    expect(t.opened.at(-1)).toEqual({ facing: 'environment', relaxed: true });
  });

  it('switches to the other camera', async () => {
    const t = setup({ lastModel: 'a' });
    t.engine.models = [stored('a')];
    await ready(t);
    t.controller.switchCamera();
    await settle();
    expect(t.opened.map((o) => o.facing)).toEqual(['environment', 'user']);
    expect(t.store.state.camera.facing).toBe('user');
  });

  it('grabs only when live, idle and not paused; sends the chosen class', async () => {
    const t = setup({ lastModel: 'a' });
    t.engine.models = [stored('a')];
    await ready(t);
    const video = new FakeVideo();
    t.controller.attachVideo(video);
    expect(video.srcObject).toBe(t.deps.camera.stream);
    const g = t.grabber();
    expect(g.wanted()).toBe(true);
    expect(g.inputSize()).toBe(224);
    t.engine.idle = false;
    expect(g.wanted()).toBe(false);
    t.engine.idle = true;
    t.controller.choose(7);
    g.send(new FakeBitmap(224, 224) as unknown as ImageBitmap);
    expect(t.engine.submitted.at(-1)!.options).toEqual({ classIndex: 7 });
    t.controller.choose('auto');
    g.send(new FakeBitmap(224, 224) as unknown as ImageBitmap);
    expect(t.engine.submitted.at(-1)!.options).toEqual({});
  });

  it('pause freezes the video and explains that frame; a class change re-explains it', async () => {
    const t = setup({ lastModel: 'a' });
    t.engine.models = [stored('a')];
    await ready(t);
    const video = new FakeVideo();
    t.controller.attachVideo(video);
    t.controller.togglePause();
    await settle();
    expect(video.paused).toBe(true);
    expect(t.grabber().wanted()).toBe(false);
    expect(t.engine.submitted.map((s) => (s.frame as FakeBitmap).tag)).toEqual(['still']);
    t.controller.choose(3);
    await settle();
    expect(t.engine.submitted.at(-1)!.options).toEqual({ classIndex: 3 });
    t.controller.togglePause();
    expect(video.paused).toBe(false);
    expect(t.grabber().wanted()).toBe(true);
  });

  it('records results with their time, and the snapshot link (revoking the previous one)', async () => {
    const t = setup({ lastModel: 'a' });
    t.engine.models = [stored('a')];
    await ready(t);
    t.controller.attachVideo(new FakeVideo());
    t.engine.callbacks.onResult!({
      top5: [{ index: 1, label: 'cat', prob: 1 }],
      target: { index: 1, label: 'cat' },
      heatmap: { dims: [14, 14], data: new Float32Array(196) },
      ms: { preprocess: 1, run: 2, total: 3 },
    });
    expect(t.store.state.live.times).toEqual([1234]);
    await t.controller.saveOverlay();
    expect(t.store.state.live.snapshot).toEqual({ url: 'blob:cat-0.5-heat', name: 'x.png' });
    t.controller.setOpacity(0.8);
    await t.controller.saveOverlay();
    expect(t.log).toContain('revoke blob:cat-0.5-heat');
  });

  it('leaving the live view stops the camera; coming back opens it again', async () => {
    const t = setup({ lastModel: 'a' });
    t.engine.models = [stored('a')];
    await ready(t);
    t.controller.showView('models');
    expect(t.store.state.camera.status).toBe('off');
    t.controller.showView('live');
    await settle();
    expect(t.opened).toHaveLength(2);
    expect(t.store.state.camera.status).toBe('live');
  });
});

describe('Controller: service-worker update', () => {
  function sw() {
    const posted: unknown[] = [];
    const worker = { postMessage: (m: unknown) => posted.push(m) } as unknown as ServiceWorker;
    const registration: RegistrationLike = {
      waiting: worker,
      installing: null,
      addEventListener: () => {},
      removeEventListener: () => {},
    };
    let onChange: (() => void) | undefined;
    const container: ContainerLike = {
      controller: {} as ServiceWorker,
      addEventListener: (_t, l) => {
        onChange = l;
      },
    };
    return { posted, registration, container, change: () => onChange?.() };
  }

  it('offers the waiting version, refuses to swap during a download, then reloads on controllerchange', async () => {
    const t = setup();
    const s = sw();
    t.deps.serviceWorker = s.container;
    const controller = new Controller(t.deps);
    controller.start(Promise.resolve(s.registration));
    t.engine.callbacks.onReady!({ device: 'wasm', threads: 1 }, undefined);
    await settle();
    expect(t.store.state.update).toBe('available');

    const download = controller.library.downloadDemo();
    expect(selectShowUpdate(t.store.state)).toBe(false);
    controller.acceptUpdate();
    expect(s.posted).toEqual([]);
    t.engine.download!.resolve(stored(DEMO_MODEL_ID, { ready: false }));
    await download;

    controller.acceptUpdate();
    expect(s.posted).toEqual([{ type: 'SKIP_WAITING' }]);
    expect(t.store.state.update).toBe('applying');
    s.change();
    expect(t.log).toContain('reload');
  });
});

describe('Controller: storage upgraded in another tab', () => {
  it('asks for a reload on `blocking`, to close the old tab on `blocked`, and ignores `terminated`', async () => {
    const t = setup();
    await ready(t);
    t.engine.callbacks.onDbEvent!({ type: 'convlens:db', event: 'terminated', message: 'reopens' });
    expect(t.store.state.error).toBeUndefined();
    t.engine.callbacks.onDbEvent!({ type: 'convlens:db', event: 'blocked', message: 'close the old tab' });
    expect(t.store.state.error).toEqual({ name: 'StorageUpgradeBlockedError', message: 'close the old tab' });
    t.engine.callbacks.onDbEvent!({ type: 'convlens:db', event: 'blocking', message: 'reload this page' });
    expect(t.store.state.error).toEqual({ name: 'StorageBlockedError', message: 'reload this page' });
  });
});

describe('Controller: dispose', () => {
  it('stops the grabber, the camera and the engine', async () => {
    const t = setup({ lastModel: 'a' });
    t.engine.models = [stored('a')];
    await ready(t);
    t.controller.attachVideo(new FakeVideo());
    t.controller.dispose();
    expect(t.log).toEqual(expect.arrayContaining(['grabber stop', 'camera stop']));
    expect(t.engine.disposed).toBe(true);
  });
});
