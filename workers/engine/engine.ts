/**
 * The engine: a plain object implementing EngineApi. Node (tests, CLI) calls it directly; the
 * PWA's worker wraps it with Comlink's expose(). It owns the onnxruntime-web sessions.
 */
import * as ort from 'onnxruntime-web';
import type { BundleManifest, BundleStore } from '../../src/core/bundle/manifest';
import type { Graph } from '../../src/core/onnx/ir';
import { buildLiveGraphs, IO } from '../../src/core/graphs/analyze';
import { camKey, Insight } from '../../src/core/insight';
import { resizeCenterCrop } from '../../src/core/vision/resize';
import { toNchw } from '../../src/core/vision/preprocess';
import { IMAGENET_LABELS } from '../../src/core/vgg16/imagenet-labels';
import type { FeatureCache } from '../../src/core/train/features';
import { ortRuntime } from '../../src/core/train/ort-runtime';
import type { ClassifierInfo } from '../../src/core/train/service';
import { TrainingService } from '../../src/core/train/service';
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
import { startBackend, type BackendHost } from './backend';
import { CHECKPOINT_EVERY_MS, paced } from './checkpoints';
import { EngineStateError } from './errors';
import { LiveSessions, type LiveRunner } from './live';
import { collectShardGarbage } from './collect';
import {
  bundleWeights,
  EXECUTION_PROVIDERS,
  externalData,
  graphSession,
  liveSessions,
  openLive,
  sessionOpener,
} from './sessions';

/** The model-library half of the API, provided by hosts that keep bundles (the PWA's IndexedDB). */
export type ModelLibrary = Pick<
  EngineApi,
  | 'listModels'
  | 'storageEstimate'
  | 'downloadModel'
  | 'cancelDownload'
  | 'deleteModel'
  | 'verifyModel'
  | 'importWeights'
  | 'importFromUrl'
  | 'pendingImports'
  | 'listServedModels'
>;

export interface EngineHost extends BackendHost {
  store: BundleStore;
  library?: ModelLibrary;
  /** Turns a host frame (e.g. an ImageBitmap in a worker) into RGBA pixels. */
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

/** A custom classifier's live session, valid for the manifest it was built on. */
interface Custom {
  manifest: BundleManifest;
  labels: readonly string[];
  session: LiveSessions;
  size: number;
  bytes: Uint8Array;
}

interface Loaded {
  manifest: BundleManifest;
  labels: readonly string[];
  /** The ImageNet live sessions; absent for a base-only bundle (a custom classifier provides one). */
  session: LiveSessions | undefined;
  parts: PartName[];
}

const now = () => performance.now();

export class Engine implements EngineApi {
  private backend: BackendInfo | undefined;
  private model: Loaded | undefined;
  private insightModel: Insight | undefined;
  private trainingService: TrainingService | undefined;
  private custom: Custom | undefined;

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
    const backend = this.backend ?? (await this.init());
    const store = this.host.store;
    const manifest = await store.manifest(id);
    const parts = manifest.parts.map((p) => p.name);
    onProgress?.({ phase: 'verify', done: 0, total: parts.length });
    const open = sessionOpener(backend.device, manifest);
    const session = await openLive(
      store,
      manifest,
      parts,
      backend.device,
      open,
      this.winograd() ? (g) => externalData(store, id, manifest, g) : undefined,
      () => onProgress?.({ phase: 'build', done: parts.length, total: parts.length }),
    );
    collectShardGarbage();
    await this.model?.session?.release();
    const labels = manifest.labels === 'imagenet' ? IMAGENET_LABELS : manifest.labels;
    this.model = { manifest, labels, session, parts };
    await this.insightModel?.dispose();
    // onnxruntime copies external data into its own memory at session creation, so the shard bytes
    // are not kept here (138 MB int8, 553 MB fp32): an insight graph, built on first use, re-reads
    // (and re-verifies) just the shards it names.
    const openOnShards = async (g: Graph) => graphSession(await open(g, await externalData(store, id, manifest, g)));
    this.insightModel = new Insight({
      cfg: manifest.architecture,
      preprocessing: manifest.preprocessing,
      labels,
      weights: bundleWeights(manifest, parts),
      open: async (g) => {
        const opened = await openOnShards(g);
        collectShardGarbage();
        return opened;
      },
      winograd: this.winograd(),
      // The live graph is explain's default graph: shared, not built twice.
      preset: session ? { [camKey('gradcam', 'block5_conv3')]: graphSession(session, false) } : {},
    });
    onProgress?.({ phase: 'ready', done: parts.length, total: parts.length });
    return this.info();
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
      parts: m.parts.map((p) => ({ name: p.name, bytes: p.bytes, loaded: this.model!.parts.includes(p.name) })),
    };
  }

  async analyze(frame: FrameInput, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
    const { manifest, labels, session, size } = this.live();
    const t0 = now();
    const rgba = 'data' in frame ? frame : this.host.toRgba!(frame);
    const input = toNchw(resizeCenterCrop(rgba, size), manifest.preprocessing);
    const t1 = now();
    const out = await session.run({
      [IO.image]: new ort.Tensor('float32', input, [1, 3, size, size]),
      [IO.target]: new ort.Tensor('int64', BigInt64Array.of(BigInt(options.classIndex ?? -1)), [1]),
    });
    const t2 = now();
    const values = out[IO.topValues]!.data as Float32Array;
    const indices = out[IO.topIndices]!.data as BigInt64Array;
    const top5 = Array.from(indices, (i, k) => ({
      index: Number(i),
      label: labels[Number(i)] ?? `class ${i}`,
      prob: values[k]!,
    }));
    const target = Number((out[IO.targetIndex]!.data as BigInt64Array)[0]);
    const slow = session instanceof LiveSessions ? session.upgradeError : undefined;
    const heat = out[IO.heatmap]!;
    for (const t of Object.values(out)) if (t !== heat) t.dispose();
    return {
      top5,
      target: { index: target, label: labels[target] ?? `class ${target}` },
      heatmap: { dims: [...heat.dims], data: heat.data as Float32Array },
      ms: { preprocess: t1 - t0, run: t2 - t1, total: now() - t0 },
      ...(slow && { slowBase: slow.message }),
    };
  }

  insightLayers(): InsightLayer[] {
    return this.insight().layers();
  }
  async activations(frame: FrameInput, layer: string): Promise<ActivationMaps> {
    return this.insight().activations(this.rgba(frame), layer);
  }
  async filters(request: FilterRequest, onProgress?: ProgressFn): Promise<FilterResult> {
    return this.insight().filters(request, onProgress);
  }
  async explain(frame: FrameInput, options?: ExplainOptions): Promise<Explanation> {
    return this.insight().explain(this.rgba(frame), options);
  }
  async deletion(frame: FrameInput, request?: DeletionRequest): Promise<DeletionResult> {
    return this.insight().deletion(this.rgba(frame), request);
  }

  async dispose(): Promise<void> {
    await this.useClassifier(null).catch(() => undefined);
    await this.trainingService?.dispose();
    this.trainingService = undefined;
    await this.insightModel?.dispose();
    this.insightModel = undefined;
    await this.model?.session?.release();
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

  private library(): ModelLibrary {
    if (!this.host.library)
      throw new EngineStateError("this host keeps no model library (use the CLI's `model build` instead)");
    return this.host.library;
  }

  private insight(): Insight {
    this.loaded();
    return this.insightModel!;
  }

  private rgba(frame: FrameInput): RgbaFrame {
    return 'data' in frame ? frame : this.host.toRgba!(frame);
  }

  // ---- training: logic in src/core/train (TrainingService); the live session is built here ----
  async extractFeatures(request: TrainingRequest, onProgress?: TrainProgressFn): Promise<number> {
    return this.training().extract(this.host.store, this.loaded().manifest, this.trainRequest(request), onProgress);
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
            // A run that continues from a classifier takes a few epochs, seconds in all: a checkpoint
            // after its first epoch (0.2–0.5 s for the dense head) would cost more than replaying it.
            !req.from,
          )
        : undefined;
    return this.training().train(this.host.store, manifest, req, onProgress, checkpoint);
  }
  async cancelTraining(): Promise<void> {
    this.trainingService?.cancelTraining();
  }
  async useClassifier(bytes: Uint8Array | null): Promise<ClassifierInfo | null> {
    if (!bytes) {
      await this.custom?.session.release();
      this.custom = undefined;
      return null;
    }
    const { manifest } = this.loaded();
    const device = this.backend?.device ?? 'wasm';
    const p = await this.training().prepare(this.host.store, manifest, bytes);
    const store = this.host.store;
    const session = await liveSessions(
      buildLiveGraphs(p.graph),
      sessionOpener(device, manifest),
      p.files,
      this.winograd() ? (g) => externalData(store, manifest.id, manifest, g) : undefined,
    );
    await this.custom?.session.release();
    this.custom = { manifest, labels: p.info.classes, session, size: p.info.inputSize, bytes: bytes.slice() };
    return p.info;
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
    );
    return this.trainingService;
  }

  private trainRequest(r: TrainingRequest): TrainRequest {
    const rgba = (f: FrameInput) => ('data' in f ? f : this.host.toRgba!(f));
    return { ...r, photos: r.photos.map((p) => ({ ...p, image: p.image && rgba(p.image) })) };
  }

  /** The session analyze runs: the custom classifier's when one is in use for this model. */
  private live(): Omit<Loaded, 'session'> & { session: LiveRunner; size: number } {
    const model = this.loaded();
    const c = this.custom;
    if (c && c.manifest === model.manifest) return { ...model, labels: c.labels, session: c.session, size: c.size };
    if (!model.session) {
      throw new EngineStateError(
        `model '${model.manifest.id}' holds only the conv base (no ImageNet head): download the ImageNet head, or train or load a classifier`,
      );
    }
    return { ...model, session: model.session, size: model.manifest.architecture.inputSize };
  }

  private loaded(): Loaded {
    if (!this.model) throw new EngineStateError('no model is loaded: call loadModel(id) first');
    return this.model;
  }
}
