/**
 * The engine bridge decides the worker's life (lifecycle.ts creates and kills one): ONE frame in flight
 * and the newest frame wins (the network is slower than the camera, so frames must not queue), frames and
 * imported weights transferred rather than copied, a restart after a crash or hang (new worker, init,
 * reload the model), and a clean dispose.
 * Components never touch the Worker; they call this and get callbacks.
 */
import * as Comlink from 'comlink';
import {
  isCrash,
  spawnGeneration,
  WorkerCrashError,
  type DbEvent,
  type Generation,
  type WorkerLike,
} from './lifecycle';
import type {
  InitOptions,
  AnalyzeOptions,
  AnalyzeResult,
  BackendInfo,
  DownloadRequest,
  EngineApi,
  FrameInput,
  ModelInfo,
  ProgressFn,
  StorageEstimate,
  PendingImport,
  ServedModel,
  StoredModel,
  UrlImportRequest,
} from '../../../workers/engine/protocol';

export type { InitOptions };

export interface BridgeOptions {
  createWorker: () => WorkerLike;
  init?: InitOptions;
  /** A result for the frame in flight. */
  onResult?(result: AnalyzeResult): void;
  /** A frame failed without killing the engine (e.g. no model loaded). */
  onFrameError?(err: unknown): void;
  /** The worker died or hung; a new one is starting. */
  onRestart?(reason: string): void;
  /**
   * A worker (first or restarted) is initialised, with the model reloaded if one was loaded; `modelError`
   * when that reload failed (the engine itself works).
   */
  onReady?(backend: BackendInfo, model: ModelInfo | undefined, modelError?: unknown): void;
  /** Gave up: too many restarts, or a new worker failed to start. */
  onFailed?(err: unknown): void;
  /** The worker's storage connection changed (another tab upgraded or holds the database). */
  onDbEvent?(event: DbEvent): void;
  /** At most this many restarts within `restartWindowMs` (default 3 in 60 s). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** A frame taking longer than this is a hang (default 60 s). */
  frameTimeoutMs?: number;
  /** Model load / init longer than this is a hang; the next worker gets one thread (default 180 s). */
  loadTimeoutMs?: number;
  now?: () => number;
}

/** What must be transferred to move a frame: the bitmap itself, or the pixel buffer. */
export function frameTransferables(frame: FrameInput): Transferable[] {
  return 'data' in frame ? [frame.data.buffer as ArrayBuffer] : [frame];
}

function closeFrame(frame: FrameInput): void {
  if ('close' in frame && typeof frame.close === 'function') frame.close();
}

interface Pending {
  frame: FrameInput;
  options: AnalyzeOptions;
}

export class EngineBridge {
  private gen: Generation | undefined;
  private pending: Pending | undefined;
  private inFlight = false;
  private modelId: string | undefined;
  private modelReady = false;
  private backend: BackendInfo | undefined;
  private initOptions: InitOptions;
  private restarts: number[] = [];
  private disposed = false;
  private readonly now: () => number;

  constructor(private readonly options: BridgeOptions) {
    this.initOptions = { ...options.init };
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * Starts the first worker and initialises the engine. Never rejects: the outcome arrives as onReady, or
   * onRestart then onReady, or onFailed.
   */
  async start(): Promise<void> {
    if (this.disposed || this.gen) return;
    this.gen = this.spawn();
    await this.reboot(this.gen);
  }

  /** True when a frame sent now would start at once: a model is loaded and nothing is in flight or waiting. */
  get idle(): boolean {
    return this.modelReady && !this.inFlight && !this.pending && !!this.gen;
  }

  /**
   * Queue a frame; the bridge owns it from here. While one is in flight only the newest waits: an older
   * waiting frame is closed. The frame is transferred, so the caller's bitmap is detached once sent.
   */
  submit(frame: FrameInput, options: AnalyzeOptions = {}): void {
    if (this.disposed) {
      closeFrame(frame);
      return;
    }
    if (this.pending) closeFrame(this.pending.frame);
    this.pending = { frame, options };
    this.pump();
  }

  /** Load a model; a worker that crashes meanwhile is restarted and loads it again (onReady reports it). */
  async loadModel(id: string, onProgress?: ProgressFn): Promise<ModelInfo> {
    this.modelReady = false;
    this.modelId = id;
    try {
      const info = await this.call((r) => r.loadModel(id, onProgress && Comlink.proxy(onProgress)), this.loadTimeout());
      if (this.modelId === id) {
        this.modelReady = true;
        this.pump();
      }
      return info;
    } catch (err) {
      if (!isCrash(err) && this.modelId === id) this.modelId = undefined;
      throw err;
    }
  }

  /** Forget the model (e.g. it was deleted): frames wait until another is loaded. */
  unloadModel(): void {
    this.modelId = undefined;
    this.modelReady = false;
  }

  listModels(): Promise<StoredModel[]> {
    return this.call((r) => r.listModels());
  }
  storageEstimate(): Promise<StorageEstimate> {
    return this.call((r) => r.storageEstimate());
  }
  downloadModel(request: DownloadRequest, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.call((r) => r.downloadModel(request, onProgress && Comlink.proxy(onProgress)));
  }
  cancelDownload(): Promise<void> {
    return this.call((r) => r.cancelDownload());
  }
  deleteModel(id: string): Promise<void> {
    if (id === this.modelId) this.unloadModel();
    return this.call((r) => r.deleteModel(id));
  }
  verifyModel(id: string, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.call((r) => r.verifyModel(id, onProgress && Comlink.proxy(onProgress)));
  }
  /** The bytes are transferred (hundreds of MB must not be copied); the caller's buffer is detached. */
  importWeights(file: { name: string; bytes: Uint8Array }, onProgress?: ProgressFn): Promise<StoredModel> {
    const moved = Comlink.transfer(file, [file.bytes.buffer as ArrayBuffer]);
    return this.call((r) => r.importWeights(moved, onProgress && Comlink.proxy(onProgress)), this.loadTimeout());
  }

  /** No timeout: a large file takes as long as the connection needs; progress shows it moving. */
  importFromUrl(request: UrlImportRequest, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.call((r) => r.importFromUrl(request, onProgress && Comlink.proxy(onProgress)));
  }
  pendingImports(): Promise<PendingImport[]> {
    return this.call((r) => r.pendingImports());
  }
  listServedModels(): Promise<ServedModel[]> {
    return this.call((r) => r.listServedModels());
  }

  /**
   * Any other engine call (training, insight), crash-safe like the rest: a dead worker rejects it with
   * WorkerCrashError and restarts. featureEngine (features.ts) builds the features' typed calls on it.
   */
  request<T>(fn: (remote: Comlink.Remote<EngineApi>) => Promise<T>, timeoutMs?: number): Promise<T> {
    return this.call(fn, timeoutMs);
  }

  /**
   * Change the engine's init options (e.g. the memory saver). Before `start`, the first worker starts
   * with them; after, the worker is restarted with them and reloads its model.
   */
  reconfigure(init: InitOptions): void {
    this.initOptions = { ...this.initOptions, ...init };
    if (this.gen) this.restartNow('settings changed');
  }

  /** Start over after onFailed: a fresh worker with a fresh restart budget. */
  restartNow(reason = 'restarted by the user'): void {
    if (this.disposed) return;
    this.restarts = [];
    if (this.gen) {
      this.restart(reason);
      return;
    }
    this.options.onRestart?.(reason);
    this.gen = this.spawn();
    void this.reboot(this.gen);
  }

  /** Stop everything: the worker is terminated, pending calls reject, the waiting frame is closed. */
  dispose(): void {
    this.disposed = true;
    if (this.pending) closeFrame(this.pending.frame);
    this.pending = undefined;
    this.gen?.kill('the engine bridge was disposed');
    this.gen = undefined;
  }

  private loadTimeout(): number {
    return this.options.loadTimeoutMs ?? 180_000;
  }

  private spawn(): Generation {
    return spawnGeneration(this.options.createWorker(), {
      onError: (gen, reason) => {
        if (this.gen === gen) this.restart(reason);
      },
      onDbEvent: (gen, event) => {
        if (this.gen === gen) this.options.onDbEvent?.(event);
      },
    });
  }

  /** Run `fn` on the current worker; a crash rejects it with WorkerCrashError and restarts the worker. */
  private async call<T>(fn: (remote: Comlink.Remote<EngineApi>) => Promise<T>, timeoutMs?: number): Promise<T> {
    const gen = this.gen;
    if (!gen)
      throw new WorkerCrashError(this.disposed ? 'the engine bridge was disposed' : 'the engine is not running');
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            if (this.gen === gen) this.restart(`no answer in ${Math.round(timeoutMs / 1000)} s`, true);
          }, timeoutMs);
    try {
      return await Promise.race([fn(gen.remote), gen.lost]);
    } catch (err) {
      if (isCrash(err) && this.gen === gen) this.restart(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private pump(): void {
    if (this.inFlight || !this.pending || !this.modelReady || !this.gen) return;
    const { frame, options } = this.pending;
    this.pending = undefined;
    this.inFlight = true;
    const gen = this.gen;
    const timeout = this.options.frameTimeoutMs ?? 60_000;
    this.call((r) => r.analyze(Comlink.transfer(frame, frameTransferables(frame)), options), timeout).then(
      (result) => {
        if (this.gen !== gen) return;
        this.inFlight = false;
        this.options.onResult?.(result);
        this.pump();
      },
      (err: unknown) => {
        if (this.gen !== gen) return; // a crash: the restart reset the pipeline
        this.inFlight = false;
        this.options.onFrameError?.(err);
        this.pump();
      },
    );
  }

  /** Give up on the current worker and start a new one, unless the restart budget is spent. */
  private restart(reason: string, hung = false): void {
    const old = this.gen;
    if (!old || this.disposed) return;
    old.kill(reason);
    // A hang while threaded is the iOS/threads failure (onnxruntime #19148): retry on one thread.
    if (hung && (this.backend?.threads ?? 1) > 1) this.initOptions = { ...this.initOptions, threads: 1 };
    this.inFlight = false;
    this.modelReady = false;
    const now = this.now();
    const window = this.options.restartWindowMs ?? 60_000;
    this.restarts = [...this.restarts.filter((t) => now - t < window), now];
    if (this.restarts.length > (this.options.maxRestarts ?? 3)) {
      this.gen = undefined;
      this.options.onFailed?.(new WorkerCrashError(`the engine keeps stopping (${reason}); reload the page`));
      return;
    }
    this.options.onRestart?.(reason);
    this.gen = this.spawn();
    void this.reboot(this.gen);
  }

  /** Init a (re)started worker and reload the model it had; then resume the frame pipeline. */
  private async reboot(gen: Generation): Promise<void> {
    let backend: BackendInfo;
    try {
      backend = await this.boot(gen);
    } catch (err) {
      // A crash already triggered the next restart (or the final onFailed); anything else is final.
      if (this.gen === gen && !isCrash(err)) {
        this.gen = undefined;
        gen.kill('init failed');
        this.options.onFailed?.(err);
      }
      return;
    }
    const id = this.modelId;
    if (id === undefined) {
      this.options.onReady?.(backend, undefined);
      return;
    }
    try {
      const info = await this.call((r) => r.loadModel(id), this.loadTimeout());
      if (this.gen !== gen || this.modelId !== id) return;
      this.modelReady = true;
      this.options.onReady?.(backend, info);
      this.pump();
    } catch (err) {
      if (this.gen !== gen || isCrash(err)) return;
      // The engine runs but the model no longer loads (e.g. evicted): report it, keep the engine.
      this.modelId = undefined;
      this.options.onReady?.(backend, undefined, err);
    }
  }

  private async boot(gen: Generation): Promise<BackendInfo> {
    const backend = await this.call((r) => r.init(this.initOptions), this.loadTimeout());
    if (this.gen === gen) this.backend = backend;
    return backend;
  }
}
