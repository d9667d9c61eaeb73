import { afterEach, describe, expect, it, vi } from 'vitest';
import { modelInfo } from '../../helpers/app';
import { EngineBridge, type BridgeOptions } from '../../../src/app/bridge/bridge';
import { isCrash, WorkerCrashError } from '../../../src/app/bridge/lifecycle';
import type {
  AnalyzeOptions,
  AnalyzeResult,
  BackendInfo,
  ModelInfo,
  Progress,
  ProgressFn,
  StoredModel,
} from '../../../workers/engine/protocol';
import { deferred, FakeBitmap, FakeWorker, settle, type Deferred } from './fake-worker';

function result(tag: string): AnalyzeResult {
  return {
    top5: [{ index: 1, label: tag, prob: 0.5 }],
    target: { index: 1, label: tag },
    heatmap: { dims: [14, 14], data: new Float32Array(196).fill(0.5) },
    ms: { preprocess: 1, run: 2, total: 3 },
  };
}

const stored: StoredModel = {
  id: 'm',
  source: 'demo',
  pretrained: false,
  quantization: 'int8',
  parts: [],
  ready: true,
};

/** The engine on the far side of one fake worker; analyze answers only when the test says so. */
class FakeEngine {
  readonly initOptions: unknown[] = [];
  readonly loads: string[] = [];
  readonly frames: { frame: unknown; options: AnalyzeOptions | undefined }[] = [];
  readonly answers: Deferred<AnalyzeResult>[] = [];
  readonly imports: { name: string; bytes: Uint8Array }[] = [];
  loadError: Error | undefined;
  threads = 2;

  async init(options?: { threads?: number }): Promise<BackendInfo> {
    this.initOptions.push(options);
    return { device: 'wasm', threads: options?.threads ?? this.threads };
  }
  async loadModel(id: string, onProgress?: ProgressFn): Promise<ModelInfo> {
    this.loads.push(id);
    if (this.loadError) throw this.loadError;
    await onProgress?.({ phase: 'build', done: 1, total: 1 });
    return modelInfo(id);
  }
  analyze(frame: unknown, options?: AnalyzeOptions): Promise<AnalyzeResult> {
    this.frames.push({ frame, options });
    const d = deferred<AnalyzeResult>();
    this.answers.push(d);
    return d.promise;
  }
  async downloadModel(_request: unknown, onProgress?: ProgressFn): Promise<StoredModel> {
    for (let done = 0; done <= 4; done += 2) await onProgress?.({ phase: 'download', done, total: 4 });
    return stored;
  }
  async importWeights(file: { name: string; bytes: Uint8Array }): Promise<StoredModel> {
    this.imports.push(file);
    return stored;
  }
  async listModels(): Promise<StoredModel[]> {
    return new Promise(() => {}); // never answers: used to see pending calls fail on dispose/crash
  }
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}

interface Harness {
  bridge: EngineBridge;
  workers: FakeWorker[];
  engines: FakeEngine[];
  results: AnalyzeResult[];
  frameErrors: unknown[];
  restarts: string[];
  ready: { backend: BackendInfo; model: ModelInfo | undefined; modelError: unknown }[];
  failures: unknown[];
}

const bridges: EngineBridge[] = [];
afterEach(() => {
  for (const b of bridges.splice(0)) b.dispose();
  vi.useRealTimers();
});

function harness(options: Partial<BridgeOptions> = {}, setup: (e: FakeEngine, i: number) => void = () => {}): Harness {
  const h: Harness = {
    workers: [],
    engines: [],
    results: [],
    frameErrors: [],
    restarts: [],
    ready: [],
    failures: [],
    bridge: undefined as unknown as EngineBridge,
  };
  h.bridge = new EngineBridge({
    createWorker: () => {
      const engine = new FakeEngine();
      setup(engine, h.engines.length);
      const worker = new FakeWorker(engine);
      h.engines.push(engine);
      h.workers.push(worker);
      return worker;
    },
    onResult: (r) => h.results.push(r),
    onFrameError: (e) => h.frameErrors.push(e),
    onRestart: (reason) => h.restarts.push(reason),
    onReady: (backend, model, modelError) => h.ready.push({ backend, model, modelError }),
    onFailed: (e) => h.failures.push(e),
    ...options,
  });
  bridges.push(h.bridge);
  return h;
}

async function started(options: Partial<BridgeOptions> = {}, setup?: (e: FakeEngine, i: number) => void) {
  const h = harness(options, setup);
  await h.bridge.start();
  await h.bridge.loadModel('m');
  return h;
}

describe('EngineBridge: transfer', () => {
  it('transfers an ImageBitmap: the sender’s bitmap is detached and the engine gets the pixels', async () => {
    const h = await started();
    const bitmap = new FakeBitmap(224, 224, 'a');
    h.bridge.submit(bitmap as unknown as ImageBitmap, { classIndex: 7 });
    await settle();
    expect(bitmap.detached).toBe(true);
    expect(bitmap.width).toBe(0);
    const received = h.engines[0]!.frames[0]!;
    expect(received.frame).toBeInstanceOf(FakeBitmap);
    expect((received.frame as FakeBitmap).tag).toBe('a');
    expect((received.frame as FakeBitmap).width).toBe(224);
    expect(received.options).toEqual({ classIndex: 7 });
    const post = h.workers[0]!.sent.find((s) => s.transfer.length > 0)!;
    expect(post.transfer).toEqual([bitmap]);
  });

  it('transfers raw RGBA frames by their buffer (byteLength 0 afterwards)', async () => {
    const h = await started();
    const data = new Uint8ClampedArray(4 * 4 * 4).fill(9);
    h.bridge.submit({ width: 4, height: 4, data });
    await settle();
    expect(data.byteLength).toBe(0);
    const got = h.engines[0]!.frames[0]!.frame as { data: Uint8ClampedArray };
    expect(got.data.length).toBe(64);
    expect(got.data[5]).toBe(9);
  });

  it('transfers imported weights instead of copying hundreds of MB', async () => {
    const h = await started();
    const bytes = new Uint8Array([1, 2, 3, 4]);
    await h.bridge.importWeights({ name: 'vgg16-12.onnx', bytes });
    expect(bytes.byteLength).toBe(0);
    expect(Array.from(h.engines[0]!.imports[0]!.bytes)).toEqual([1, 2, 3, 4]);
  });

  it('forwards typed progress through a proxied callback', async () => {
    const h = await started();
    const seen: Progress[] = [];
    await h.bridge.downloadModel({ id: 'm', baseUrl: 'http://x/models/m/' }, (p) => seen.push(p));
    expect(seen.map((p) => p.done)).toEqual([0, 2, 4]);
    expect(seen[0]).toEqual({ phase: 'download', done: 0, total: 4 });
  });
});

describe('EngineBridge: one frame in flight, newest wins', () => {
  it('sends one frame, keeps only the newest waiting one and closes the dropped ones', async () => {
    const h = await started();
    const [a, b, c] = ['a', 'b', 'c'].map((t) => new FakeBitmap(8, 8, t));
    h.bridge.submit(a as unknown as ImageBitmap);
    await settle();
    expect(h.bridge.idle).toBe(false);
    h.bridge.submit(b as unknown as ImageBitmap);
    h.bridge.submit(c as unknown as ImageBitmap);
    await settle();
    const engine = h.engines[0]!;
    expect(engine.frames.map((f) => (f.frame as FakeBitmap).tag)).toEqual(['a']);
    expect(b!.closed).toBe(true);
    expect(c!.closed).toBe(false);
    expect(c!.detached).toBe(false);

    engine.answers[0]!.resolve(result('a'));
    await settle();
    expect(h.results.map((r) => r.target.label)).toEqual(['a']);
    expect(engine.frames.map((f) => (f.frame as FakeBitmap).tag)).toEqual(['a', 'c']);
    expect(c!.detached).toBe(true);
    expect(h.bridge.idle).toBe(false);

    engine.answers[1]!.resolve(result('c'));
    await settle();
    expect(h.results.map((r) => r.target.label)).toEqual(['a', 'c']);
    expect(h.bridge.idle).toBe(true);
  });

  it('holds frames until a model is loaded', async () => {
    const h = harness();
    await h.bridge.start();
    expect(h.bridge.idle).toBe(false);
    const a = new FakeBitmap(8, 8, 'a');
    h.bridge.submit(a as unknown as ImageBitmap);
    await settle();
    expect(h.engines[0]!.frames).toHaveLength(0);
    await h.bridge.loadModel('m');
    await settle();
    expect(h.engines[0]!.frames).toHaveLength(1);
    expect(a.detached).toBe(true);
  });

  it('reports a frame’s ordinary error and carries on with the next frame', async () => {
    const h = await started();
    h.bridge.submit(new FakeBitmap(8, 8, 'a') as unknown as ImageBitmap);
    await settle();
    h.bridge.submit(new FakeBitmap(8, 8, 'b') as unknown as ImageBitmap);
    h.engines[0]!.answers[0]!.reject(named('EngineStateError', 'no model is loaded'));
    await settle();
    expect(h.frameErrors).toHaveLength(1);
    expect((h.frameErrors[0] as Error).name).toBe('EngineStateError');
    expect(h.restarts).toEqual([]);
    expect(h.engines[0]!.frames).toHaveLength(2);
  });
});

describe('EngineBridge: restart after a crash', () => {
  it('restarts on a worker error event: new worker, init, model reloaded, waiting frame sent', async () => {
    const h = await started();
    h.bridge.submit(new FakeBitmap(8, 8, 'lost') as unknown as ImageBitmap);
    await settle();
    const waiting = new FakeBitmap(8, 8, 'next');
    h.bridge.submit(waiting as unknown as ImageBitmap);
    h.workers[0]!.crash('out of memory');
    await settle();
    expect(h.workers[0]!.terminated).toBe(true);
    expect(h.workers).toHaveLength(2);
    expect(h.restarts).toEqual(['worker error: out of memory']);
    const fresh = h.engines[1]!;
    expect(fresh.initOptions).toHaveLength(1);
    expect(fresh.loads).toEqual(['m']);
    expect(h.ready.at(-1)!.model?.id).toBe('m');
    expect(fresh.frames.map((f) => (f.frame as FakeBitmap).tag)).toEqual(['next']);
    // The lost frame's answer, had it come, must not surface.
    h.engines[0]!.answers[0]!.resolve(result('lost'));
    fresh.answers[0]!.resolve(result('next'));
    await settle();
    expect(h.results.map((r) => r.target.label)).toEqual(['next']);
  });

  it('restarts when a call rejects with a WebAssembly crash, not with an ordinary error', async () => {
    const h = await started();
    h.bridge.submit(new FakeBitmap(8, 8) as unknown as ImageBitmap);
    await settle();
    h.engines[0]!.answers[0]!.reject(named('RuntimeError', 'memory access out of bounds'));
    await settle();
    expect(h.restarts).toHaveLength(1);
    expect(h.workers).toHaveLength(2);
    expect(h.engines[1]!.loads).toEqual(['m']);
    expect(h.frameErrors).toEqual([]);
    expect(h.bridge.idle).toBe(true);
  });

  it('rejects calls pending on a crashed worker with WorkerCrashError', async () => {
    const h = await started();
    const pending = h.bridge.listModels();
    await settle();
    h.workers[0]!.crash();
    await expect(pending).rejects.toMatchObject({ name: 'WorkerCrashError' });
  });

  it('treats a frame with no answer as a hang and retries on one thread', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const h = await started({ frameTimeoutMs: 5_000 });
    expect(h.ready[0]!.backend.threads).toBe(2);
    h.bridge.submit(new FakeBitmap(8, 8) as unknown as ImageBitmap);
    await settle();
    vi.advanceTimersByTime(4_999);
    expect(h.workers).toHaveLength(1);
    vi.advanceTimersByTime(1);
    await settle();
    expect(h.restarts).toEqual(['no answer in 5 s']);
    expect(h.engines[1]!.initOptions).toEqual([{ threads: 1 }]);
  });

  it('gives up after too many restarts, and restartNow starts afresh', async () => {
    let t = 0;
    const h = await started({ maxRestarts: 2, now: () => t });
    for (let i = 0; i < 3; i++) {
      t += 1_000;
      h.workers.at(-1)!.crash(`crash ${i}`);
      await settle();
    }
    expect(h.restarts).toHaveLength(2);
    expect(h.failures).toHaveLength(1);
    expect(h.failures[0]).toBeInstanceOf(WorkerCrashError);
    expect(h.workers).toHaveLength(3);
    await expect(h.bridge.listModels()).rejects.toMatchObject({ name: 'WorkerCrashError' });

    h.bridge.restartNow();
    await settle();
    expect(h.workers).toHaveLength(4);
    expect(h.engines[3]!.loads).toEqual(['m']);
    expect(h.ready.at(-1)!.model?.id).toBe('m');
  });

  it('reconfigure: before start the first worker gets the options; after, a new worker gets them and reloads the model', async () => {
    const h = harness({ init: { threads: 2 } });
    h.bridge.reconfigure({ lowMemory: true });
    await h.bridge.start();
    await h.bridge.loadModel('m');
    expect(h.workers).toHaveLength(1);
    expect(h.engines[0]!.initOptions).toEqual([{ threads: 2, lowMemory: true }]);

    h.bridge.reconfigure({ lowMemory: false });
    await settle();
    expect(h.workers).toHaveLength(2);
    expect(h.restarts).toEqual(['settings changed']);
    expect(h.engines[1]!.initOptions).toEqual([{ threads: 2, lowMemory: false }]);
    expect(h.engines[1]!.loads).toEqual(['m']);
    expect(h.ready.at(-1)!.model?.id).toBe('m');
  });

  it('keeps the engine when only the model fails to reload after a restart', async () => {
    const h = await started({}, (engine, i) => {
      if (i === 1) engine.loadError = named('ModelNotFoundError', 'vgg16-demo is not stored');
    });
    h.workers[0]!.crash();
    await settle();
    const last = h.ready.at(-1)!;
    expect(last.model).toBeUndefined();
    expect((last.modelError as Error).name).toBe('ModelNotFoundError');
    expect(h.failures).toEqual([]);
    h.bridge.submit(new FakeBitmap(8, 8) as unknown as ImageBitmap);
    await settle();
    expect(h.engines[1]!.frames).toHaveLength(0);
  });

  it('fails when a fresh worker cannot even initialise', async () => {
    const h = harness({}, (engine) => {
      engine.init = async () => {
        throw named('EngineStateError', 'no WebAssembly');
      };
    });
    await h.bridge.start();
    expect(h.failures).toHaveLength(1);
    expect((h.failures[0] as Error).name).toBe('EngineStateError');
    expect(h.workers[0]!.terminated).toBe(true);
  });
});

describe('EngineBridge: dispose', () => {
  it('terminates the worker, closes the waiting frame and rejects pending calls', async () => {
    const h = await started();
    h.bridge.submit(new FakeBitmap(8, 8) as unknown as ImageBitmap);
    await settle();
    const waiting = new FakeBitmap(8, 8);
    h.bridge.submit(waiting as unknown as ImageBitmap);
    const pending = h.bridge.listModels();
    h.bridge.dispose();
    expect(h.workers[0]!.terminated).toBe(true);
    expect(waiting.closed).toBe(true);
    await expect(pending).rejects.toMatchObject({ name: 'WorkerCrashError' });
    const late = new FakeBitmap(8, 8);
    h.bridge.submit(late as unknown as ImageBitmap);
    expect(late.closed).toBe(true);
    expect(h.workers).toHaveLength(1);
    expect(h.restarts).toEqual([]);
  });
});

describe('EngineBridge: storage events from the worker', () => {
  it('passes the library’s convlens:db messages on, and nothing else', async () => {
    const events: unknown[] = [];
    const h = await started({ onDbEvent: (e) => events.push(e) });
    const blocking = { type: 'convlens:db', event: 'blocking', message: 'reload this page' };
    h.workers[0]!.notify(blocking);
    h.workers[0]!.notify({ type: 'convlens:db', event: 'exploded', message: 'x' });
    h.workers[0]!.notify('hello');
    await settle();
    expect(events).toEqual([blocking]);
    // Comlink calls still work alongside.
    await h.bridge.loadModel('n');
    expect(h.engines[0]!.loads).toEqual(['m', 'n']);
  });
});

describe('isCrash', () => {
  it('knows WASM traps and aborts from ordinary engine errors', () => {
    expect(isCrash(named('RuntimeError', 'unreachable'))).toBe(true);
    expect(isCrash(new Error('Aborted(). Build with -sASSERTIONS for more info.'))).toBe(true);
    expect(isCrash(new WorkerCrashError('x'))).toBe(true);
    expect(isCrash(named('ShardHashError', 'bad shard'))).toBe(false);
    expect(isCrash(named('QuotaExceededError', 'full'))).toBe(false);
    expect(isCrash('string')).toBe(false);
    expect(isCrash(undefined)).toBe(false);
  });
});
