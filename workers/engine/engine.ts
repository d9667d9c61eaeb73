/**
 * The engine: a plain object implementing EngineApi. Node (tests, CLI) calls it directly; the
 * PWA's worker wraps it with Comlink's expose(). It owns the onnxruntime-web sessions.
 */
import type { BundleManifest, BundleStore } from '../../src/core/bundle/manifest';
import { buildLiveGraphs } from '../../src/core/graphs/analyze';
import { insightLayers, type Insight } from '../../src/core/insight';
import { IMAGENET_LABELS } from '../../src/core/vgg16/imagenet-labels';
import type { FeatureCache } from '../../src/core/train/features';
import type { ClassifierInfo } from '../../src/core/train/service';
import { TrainingService } from '../../src/core/train/service';
import { TrainingBusyError } from '../../src/core/train/errors';
import type { TrainRequest, TrainResult, TrainState } from '../../src/core/train/request';
import type { TrainCheckpointFn, TrainingRequest, TrainProgressFn } from './protocol';
import type {
  ActivationMaps,
  DeletionRequest,
  DeletionResult,
  Explanation,
  ExplainOptions,
  FilterRequest,
  FilterResult,
  InsightLayer,
  AnalyzeOptions,
  AnalyzeResult,
  BackendInfo,
  DownloadRequest,
  EngineApi,
  FrameInput,
  InitOptions,
  LibraryApi,
  ModelInfo,
  PartName,
  ProgressFn,
  RgbaFrame,
  StorageEstimate,
  PendingImport,
  ServedModel,
  StoredModel,
  UrlImportRequest,
} from './protocol';
import { analyzeFrame } from './analyze';
import { startBackend, type BackendHost } from './backend';
import { CHECKPOINT_EVERY_MS, paced } from './checkpoints';
import { afterTraining, collectShardGarbage } from './collect';
import { EngineStateError, TrainingRunningError, UnsupportedFrameError } from './errors';
import type { LiveSessions } from './live';
import { openModel, releaseModel, type Custom, type Loaded, type ModelSessions, type Runner } from './model';
import { EXECUTION_PROVIDERS, externalData, liveSessions, ortRuntime, sessionOpener } from './sessions';

export interface EngineHost extends BackendHost {
  store: BundleStore;
  /** The model-library half of the API, from hosts that keep bundles (the PWA's IndexedDB). */
  library?: LibraryApi;
  /** Turns a host frame (e.g. an ImageBitmap in a worker) into RGBA pixels; without it, frames must be RGBA pixels. */
  toRgba?: (frame: FrameInput) => RgbaFrame;
  /** Where training features are cached (the PWA: IndexedDB); default: in memory. */
  featureCache?: FeatureCache;
  /** Called after a training epoch with the resumable state (the PWA: keep it in IndexedDB); see checkpointEveryMs. */
  onTrainCheckpoint?: (state: TrainState) => Promise<void>;
  /**
   * Training time between two checkpoints, at least (default CHECKPOINT_EVERY_MS, and CHECKPOINT_COST_FACTOR
   * times the last one's own time; 0: after every epoch).
   */
  checkpointEveryMs?: number;
  /** Removes the cached features of these photos from `featureCache`; resolves with the count removed. */
  forgetFeatures?: (photoIds: string[]) => Promise<number>;
}

export class Engine implements EngineApi {
  private backend: BackendInfo | undefined;
  private model: Loaded | undefined;
  private trainingService: TrainingService | undefined;
  private custom: Custom | undefined;
  /** Set while extractFeatures or train runs: the live and insight sessions are released meanwhile. */
  private trainingRun = false;
  /** The model's sessions being opened again after a training. */
  private reopening: Promise<ModelSessions> | undefined;

  constructor(private readonly host: EngineHost) {}

  async init(options: InitOptions = {}): Promise<BackendInfo> {
    this.backend = await startBackend(this.host, options);
    return this.backend;
  }

  /** Whether convolutions run as Winograd: on WASM (WebGPU's conv shaders gain nothing from it), unless saving memory. */
  private winograd(): boolean {
    return (this.backend?.device ?? 'wasm') === 'wasm' && !this.backend?.lowMemory;
  }

  async loadModel(id: string, onProgress?: ProgressFn): Promise<ModelInfo> {
    this.notTraining('load a model');
    if (!this.backend) await this.init();
    const manifest = await this.host.store.manifest(id);
    const parts = manifest.parts.map((p) => p.name);
    const labels = manifest.labels === 'imagenet' ? IMAGENET_LABELS : manifest.labels;
    onProgress?.({ phase: 'verify', done: 0, total: parts.length });
    const sessions = await openModel(this.toOpen(manifest, parts, labels), () =>
      onProgress?.({ phase: 'build', done: parts.length, total: parts.length }),
    );
    await releaseModel(this.model?.sessions);
    this.model = { manifest, labels, sessions, parts };
    onProgress?.({ phase: 'ready', done: parts.length, total: parts.length });
    return this.info();
  }

  private toOpen(manifest: BundleManifest, parts: readonly PartName[], labels: readonly string[]) {
    const device = this.backend?.device ?? 'wasm';
    return { store: this.host.store, manifest, parts, labels, device, winograd: this.winograd() };
  }

  info(): ModelInfo {
    const m = this.loaded().manifest;
    return {
      id: m.id,
      architecture: m.architecture.name,
      source: m.source,
      pretrained: m.pretrained,
      preprocessing: m.preprocessing,
      quantization: m.quantization,
      inputSize: m.architecture.inputSize,
      parts: m.parts.map((p) => ({ name: p.name, bytes: p.bytes, loaded: this.loaded().parts.includes(p.name) })),
    };
  }

  async analyze(frame: FrameInput, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    return analyzeFrame(await this.live(), () => this.rgba(frame), options);
  }

  insightLayers(): InsightLayer[] {
    return insightLayers(this.loaded().manifest.architecture);
  }
  async activations(frame: FrameInput, layer: string): Promise<ActivationMaps> {
    return (await this.insight()).activations(this.rgba(frame), layer);
  }
  async filters(request: FilterRequest, onProgress?: ProgressFn): Promise<FilterResult> {
    return (await this.insight()).filters(request, onProgress);
  }
  async explain(frame: FrameInput, options?: ExplainOptions): Promise<Explanation> {
    return (await this.insight()).explain(this.rgba(frame), options);
  }
  async deletion(frame: FrameInput, request?: DeletionRequest): Promise<DeletionResult> {
    return (await this.insight()).deletion(this.rgba(frame), request);
  }

  async dispose(): Promise<void> {
    this.trainingService?.cancelTraining();
    await this.reopening?.catch(() => undefined);
    await this.custom?.session?.release();
    this.custom = undefined;
    await this.trainingService?.dispose();
    this.trainingService = undefined;
    await releaseModel(this.model?.sessions);
    this.model = undefined;
  }

  async listModels(): Promise<StoredModel[]> {
    return this.library().listModels();
  }
  async storageEstimate(): Promise<StorageEstimate> {
    return this.library().storageEstimate();
  }
  async downloadModel(request: DownloadRequest, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.library().downloadModel(request, onProgress);
  }
  async cancelDownload(): Promise<void> {
    return this.library().cancelDownload();
  }
  async deleteModel(id: string): Promise<void> {
    if (this.model?.manifest.id === id) await this.dispose();
    return this.library().deleteModel(id);
  }
  async verifyModel(id: string, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.library().verifyModel(id, onProgress);
  }
  async importWeights(file: { name: string; bytes: Uint8Array }, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.library().importWeights(file, onProgress);
  }

  async importFromUrl(request: UrlImportRequest, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.library().importFromUrl(request, onProgress);
  }
  async pendingImports(): Promise<PendingImport[]> {
    return this.library().pendingImports();
  }
  async listServedModels(): Promise<ServedModel[]> {
    return this.library().listServedModels();
  }

  private library(): LibraryApi {
    if (!this.host.library)
      throw new EngineStateError("this host keeps no model library (use the CLI's `model build` instead)");
    return this.host.library;
  }

  private async insight(): Promise<Insight> {
    return (await this.modelSessions('the Inside screen')).insight;
  }

  private rgba(frame: FrameInput): RgbaFrame {
    if ('data' in frame) return frame;
    if (!this.host.toRgba)
      throw new UnsupportedFrameError('this engine takes frames as RGBA pixels ({ width, height, data }), not images');
    return this.host.toRgba(frame);
  }

  // ---- training: logic in src/core/train (TrainingService); the live session is built here ----
  async extractFeatures(request: TrainingRequest, onProgress?: TrainProgressFn): Promise<number> {
    const { manifest } = this.loaded();
    const req = this.trainRequest(request);
    return this.whileTraining(() => this.training().extract(this.host.store, manifest, req, onProgress));
  }
  async train(
    request: TrainingRequest,
    onProgress?: TrainProgressFn,
    onCheckpoint?: TrainCheckpointFn,
  ): Promise<TrainResult> {
    const { manifest } = this.loaded();
    const req = this.trainRequest(request);
    const host = this.host.onTrainCheckpoint;
    const checkpoint =
      host || onCheckpoint
        ? paced(
            this.host.checkpointEveryMs ?? CHECKPOINT_EVERY_MS,
            async (state) => {
              await host?.(state);
              await onCheckpoint?.(state);
            },
            // A run that continues from a classifier takes a few short epochs: a checkpoint after its
            // first epoch would cost more than replaying it.
            !req.from,
          )
        : undefined;
    return this.whileTraining(() => this.training().train(this.host.store, manifest, req, onProgress, checkpoint));
  }
  async cancelTraining(): Promise<void> {
    this.trainingService?.cancelTraining();
  }
  async useClassifier(bytes: Uint8Array | null): Promise<ClassifierInfo | null> {
    if (!bytes) {
      await this.custom?.session?.release();
      this.custom = undefined;
      return null;
    }
    this.notTraining('use a classifier');
    const { manifest } = this.loaded();
    const { session, info } = await this.openClassifier(manifest, bytes);
    await this.custom?.session?.release();
    this.custom = { manifest, labels: info.classes, session, size: info.inputSize, bytes: bytes.slice() };
    return info;
  }

  /** A classifier's live sessions, once training's sessions are released (the two never share the heap). */
  private async openClassifier(
    manifest: BundleManifest,
    bytes: Uint8Array,
  ): Promise<{ session: LiveSessions; info: ClassifierInfo }> {
    const p = await this.training().prepare(this.host.store, manifest, bytes);
    await this.training().releaseSessions();
    await afterTraining();
    const store = this.host.store;
    const session = await liveSessions(
      buildLiveGraphs(p.graph),
      sessionOpener(this.backend?.device ?? 'wasm', manifest),
      p.files,
      this.winograd() ? (g) => externalData(store, manifest.id, manifest, g) : undefined,
    );
    return { session, info: p.info };
  }
  async exportClassifier(): Promise<Uint8Array> {
    const bytes = this.custom?.bytes ?? this.trainingService?.lastClassifier();
    if (!bytes) throw new EngineStateError('no classifier to export: train one, or load one with useClassifier');
    return bytes.slice();
  }

  async forgetFeatures(photoIds: string[]): Promise<number> {
    return (await this.host.forgetFeatures?.(photoIds)) ?? 0;
  }

  private training(): TrainingService {
    this.trainingService ??= new TrainingService(
      ortRuntime(EXECUTION_PROVIDERS[this.backend?.device ?? 'wasm']),
      this.host.featureCache,
      () => this.winograd(),
      collectShardGarbage,
    );
    return this.trainingService;
  }

  private trainRequest(r: TrainingRequest): TrainRequest {
    return { ...r, photos: r.photos.map((p) => ({ ...p, image: p.image && this.rgba(p.image) })) };
  }

  /**
   * Runs a training step (extractFeatures, train) with the live and insight sessions released, so that
   * training's sessions reuse their memory; they are opened again when next needed (live, insight), and
   * training's sessions are released then, so the two never add up.
   */
  private async whileTraining<T>(run: () => Promise<T>): Promise<T> {
    if (this.trainingRun)
      throw new TrainingBusyError('training is already running: cancel it or wait for it to finish');
    this.trainingRun = true;
    try {
      await this.reopening?.catch(() => undefined);
      await this.releaseLive();
      return await run();
    } finally {
      this.trainingRun = false;
    }
  }

  private async releaseLive(): Promise<void> {
    const model = this.model;
    const sessions = model?.sessions;
    if (model) model.sessions = undefined;
    await releaseModel(sessions);
    const custom = this.custom?.session;
    if (this.custom) this.custom.session = undefined;
    await custom?.release();
  }

  private notTraining(what: string): void {
    if (this.trainingRun)
      throw new TrainingRunningError(
        `cannot ${what} while a training runs: it resumes when the training finishes or is cancelled`,
      );
  }

  /** The model's sessions, opened again if a training released them (after training's own sessions go). */
  private async modelSessions(what: string): Promise<ModelSessions> {
    this.notTraining(what);
    const model = this.loaded();
    if (model.sessions) return model.sessions;
    this.reopening ??= (async () => {
      try {
        await this.trainingService?.releaseSessions();
        await afterTraining();
        const sessions = await openModel(this.toOpen(model.manifest, model.parts, model.labels));
        if (this.model === model && !this.trainingRun) return (model.sessions = sessions);
        await releaseModel(sessions);
        throw new EngineStateError('the model changed while its sessions were opened again: try again');
      } finally {
        this.reopening = undefined;
      }
    })();
    return this.reopening;
  }

  /** The session analyze runs: the custom classifier's when one is in use for this model. */
  private async live(): Promise<Runner> {
    this.notTraining('run the live view');
    const model = this.loaded();
    const c = this.custom;
    if (c && c.manifest === model.manifest) {
      if (!c.session)
        c.opening ??= this.openClassifier(c.manifest, c.bytes)
          .then(({ session }) => (c.session = session))
          .finally(() => (c.opening = undefined));
      return { ...c, session: c.session ?? (await c.opening!) };
    }
    const { live } = await this.modelSessions('run the live view');
    if (!live) {
      throw new EngineStateError(
        `model '${model.manifest.id}' holds only the conv base (no ImageNet head): download the ImageNet head, or train or load a classifier`,
      );
    }
    return { ...model, session: live, size: model.manifest.architecture.inputSize };
  }

  private loaded(): Loaded {
    if (!this.model) throw new EngineStateError('no model is loaded: call loadModel(id) first');
    return this.model;
  }
}
