/**
 * The engine's API: the one file a UI developer reads to know what the engine can do.
 * The same object runs in the PWA's worker (through Comlink), in vitest and in the CLI.
 * Only CPU data crosses this boundary: sessions, GPU tensors and DB handles stay inside.
 */

/** Execution device; detection order is WebGPU, then WASM-SIMD. */
export type Device = 'webgpu' | 'wasm';

/** RGBA pixels, row-major (ImageData's layout). */
export interface RgbaFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray | Uint8Array;
}

/** An ImageBitmap, described structurally so this file compiles without DOM/worker libs. */
export interface BitmapLike {
  readonly width: number;
  readonly height: number;
  close(): void;
}

/** What `analyze` accepts: raw pixels, or (in the browser) a transferred ImageBitmap it closes. */
export type FrameInput = RgbaFrame | BitmapLike;

/** Typed progress for long work (download, import, training). */
export interface Progress {
  phase: string;
  done: number;
  /** 0 while unknown. */
  total: number;
  /** 'bytes' when done/total count bytes (downloads: the UI shows rate and time left); else items. */
  unit?: 'bytes';
}
export type ProgressFn = (p: Progress) => void;

export interface BackendInfo {
  device: Device;
  threads: number;
  /** Why the preferred device was not used, if it was not. */
  fallbackReason?: string;
  /** Why WASM runs on one thread, when the host says (no cross-origin isolation, no shared memory). */
  threadsReason?: string;
  /**
   * Memory saver (WASM): plain convolutions, never the Winograd base, whose kernels and their build
   * cost more memory; frames take about twice as long. On when asked for, or by default when
   * the device reports at most LOW_MEMORY_GB of memory (`navigator.deviceMemory`) or the browser
   * reports none.
   */
  lowMemory?: boolean;
}

/** `init`'s options: the device (auto: WebGPU if an adapter exists), threads, and the memory saver (BackendInfo.lowMemory). */
export interface InitOptions {
  device?: Device | 'auto';
  threads?: number;
  lowMemory?: boolean;
}

export type { PartName, Quantization, WeightSource } from '../../src/core/bundle/manifest';
import type { PartName, Quantization, WeightSource } from '../../src/core/bundle/manifest';

export interface ModelInfo {
  id: string;
  architecture: string;
  source: WeightSource;
  /** False for the seeded demo weights: predictions are meaningless, the maths is real. */
  pretrained: boolean;
  preprocessing: 'caffe' | 'torch';
  quantization: Quantization;
  inputSize: number;
  parts: { name: PartName; bytes: number; loaded: boolean }[];
}

export interface Prediction {
  index: number;
  label: string;
  prob: number;
}

export interface AnalyzeOptions {
  /** Class whose heatmap to compute; default: the top-1 class. */
  classIndex?: number;
}

/** A dense tensor on the CPU (Float32Array buffers are transferred, not copied). */
export interface Grid {
  dims: number[];
  data: Float32Array;
}

export interface AnalyzeResult {
  top5: Prediction[];
  target: { index: number; label: string };
  /** Grad-CAM over block5_conv3, 14×14, normalised to 0..1. */
  heatmap: Grid;
  ms: { preprocess: number; run: number; total: number };
  /**
   * Set while the live view runs its plain conv base because the faster Winograd base could not be
   * built (the build's error message): the same results, about twice the time per frame.
   */
  slowBase?: string;
}

// ---- insight (src/core/insight): activations, filter pictures, CAM variants, faithfulness ----
export type {
  ActivationMaps,
  CamMethod,
  DeletionCurve,
  DeletionRequest,
  DeletionResult,
  Explanation,
  ExplainOptions,
  FilterPicture,
  FilterRequest,
  FilterResult,
  FilterSettings,
  InsightLayer,
} from '../../src/core/insight';
import type {
  ActivationMaps,
  DeletionRequest,
  DeletionResult,
  Explanation,
  ExplainOptions,
  FilterRequest,
  FilterResult,
  InsightLayer,
} from '../../src/core/insight';

// ---- training (src/core/train): a custom classifier on the conv base ----
export type { ClassifierInfo } from '../../src/core/train/service';
export type { EpochMetrics } from '../../src/core/train/fit';
export type { HeadKind } from '../../src/core/train/heads';
export type { OptimizerKind } from '../../src/core/train/optim';
export type {
  FineTuneOptions,
  TrainPhase,
  TrainProgress,
  TrainResult,
  TrainState,
  ValidationReport,
} from '../../src/core/train/request';
import type { ClassifierInfo } from '../../src/core/train/service';
import type { TrainProgress, TrainRequest, TrainResult, TrainState } from '../../src/core/train/request';

/** A photo of class `label`; `image` may be left out once its features are cached. */
export interface TrainingPhoto {
  id: string;
  label: number;
  image?: FrameInput;
}
/** What to train (src/core/train/trainer.ts TrainRequest documents every setting and default). */
export type TrainingRequest = Omit<TrainRequest, 'photos'> & { photos: TrainingPhoto[] };
/** Progress per step of each phase ('extract' | 'train' | 'finetune'); once per epoch with `metrics`. */
export type TrainProgressFn = (p: TrainProgress) => void;
/**
 * After the first epoch (not for a run that continues from a classifier, TrainRequest.from: its first
 * after 10 s), then at most every 10 s of training (checkpoints.ts CHECKPOINT_EVERY_MS) and 20 × the last
 * checkpoint's own time: the state to keep for resuming (awaited before training goes on).
 */
export type TrainCheckpointFn = (state: TrainState) => void | Promise<void>;

/** A model bundle held by the host's store (IndexedDB in the PWA, a folder in Node). */
export interface StoredModel {
  id: string;
  source: WeightSource;
  pretrained: boolean;
  quantization: Quantization;
  /** Per part: bytes in the manifest, bytes verified and stored so far, complete = every shard verified. */
  parts: { name: PartName; bytes: number; stored: number; complete: boolean }[];
  /** Written only after every shard of the base verified (two-phase commit). */
  ready: boolean;
}

export interface StorageEstimate {
  usage: number;
  quota: number;
  persisted: boolean;
}

export interface DownloadRequest {
  id: string;
  /** URL of the folder holding manifest.json and the shards. */
  baseUrl: string;
  /** Default: every part. */
  parts?: PartName[];
}

/** A weights file (safetensors, Keras .h5, ONNX) or a convlens bundle folder (ends in '/' or manifest.json) by URL. */
export interface UrlImportRequest {
  url: string;
  /** The file's published sha256 (hex), checked over the whole file when given. */
  sha256?: string;
  /** The stored model's id; default: from the URL (the Hugging Face repository, or the file's name). */
  id?: string;
}

/** An import from a URL that stopped before the end (paused, or the page closed): Resume continues it. */
export interface PendingImport {
  id: string;
  url: string;
  /** Source bytes kept so far, and the file's length when the server said. */
  done: number;
  total: number;
}

/** A bundle the app's server publishes in `models/index.json`. */
export interface ServedModel {
  id: string;
  /** Absolute URL of the bundle folder (for downloadModel's baseUrl). */
  url: string;
  source: string;
  pretrained: boolean;
  quantization: Quantization;
  parts: { name: PartName; bytes: number }[];
}

/** Everything the engine can do, one interface per feature; every host implements all of it. */
export interface EngineApi extends LiveApi, InsightApi, TrainApi, LibraryApi {}

/** The live view: the device, the loaded model and one run per frame. */
export interface LiveApi {
  /** Pick the device (auto: WebGPU if an adapter exists, else WASM), thread count and memory saver. */
  init(options?: InitOptions): Promise<BackendInfo>;
  /** Load (and verify) a model bundle from the host's store; builds the live graph once. */
  loadModel(id: string, onProgress?: ProgressFn): Promise<ModelInfo>;
  /** ONE session run: top-5, target class, Grad-CAM heatmap and timings for a frame. */
  analyze(frame: FrameInput, options?: AnalyzeOptions): Promise<AnalyzeResult>;
  /** Release sessions and memory. */
  dispose(): Promise<void>;
}

/** The Inside screen (the insight feature): each graph built once per key on first use; results hold transferable buffers. */
export interface InsightApi {
  /** Conv and pool layers in forward order with their output shapes [C, H, W]. */
  insightLayers(): InsightLayer[];
  /** ONE run of the base up to `layer`: its channel maps (C, H, W) for a frame. */
  activations(frame: FrameInput, layer: string): Promise<ActivationMaps>;
  /** Gradient-ascent pictures of a layer's filters, a batch per run; progress once per step. */
  filters(request: FilterRequest, onProgress?: ProgressFn): Promise<FilterResult>;
  /** ONE run: top-5 and the chosen CAM (gradcam | gradcam++ | layercam) of any conv layer. */
  explain(frame: FrameInput, options?: ExplainOptions): Promise<Explanation>;
  /** The deletion curve (and AUC) of a CAM, optionally beside random-map baselines. */
  deletion(frame: FrameInput, request?: DeletionRequest): Promise<DeletionResult>;
}

/** Training classifiers: needs a loaded model; features are cached in the host's FeatureCache. */
export interface TrainApi {
  /** Augment and run the base on photos ahead of training (cached); resolves with the feature count. */
  extractFeatures(request: TrainingRequest, onProgress?: TrainProgressFn): Promise<number>;
  /**
   * Extract, train the head (and fine-tune block5 if asked): the classifier file, report, resumable state.
   * `onCheckpoint` gets the resumable state when TrainCheckpointFn says, and is awaited (the PWA page
   * stores it, so a reload can pass it back as `resume`); a cancelled run's result carries its last state.
   */
  train(request: TrainingRequest, onProgress?: TrainProgressFn, onCheckpoint?: TrainCheckpointFn): Promise<TrainResult>;
  /** Stop after the current step; train() then resolves with status 'cancelled' and a state to resume. */
  cancelTraining(): Promise<void>;
  /** Check a classifier file against the loaded base and make analyze use it (null: back to ImageNet). */
  useClassifier(bytes: Uint8Array | null): Promise<ClassifierInfo | null>;
  /** The classifier file in use, or else the last one trained. */
  exportClassifier(): Promise<Uint8Array>;
  /** Drop the cached features of photos the user deleted; resolves with how many arrays went. */
  forgetFeatures(photoIds: string[]): Promise<number>;
}

/** The model library: the PWA's IndexedDB (optional in other hosts). */
export interface LibraryApi {
  /** Bundles in the store and how complete each is. */
  listModels(): Promise<StoredModel[]>;
  /** Storage used and available, and whether persistence was granted. */
  storageEstimate(): Promise<StorageEstimate>;
  /** Download a bundle, verifying each shard; resumes from shards already verified. */
  downloadModel(request: DownloadRequest, onProgress?: ProgressFn): Promise<StoredModel>;
  /** Abort a download in progress (verified shards are kept for resuming). */
  cancelDownload(): Promise<void>;
  deleteModel(id: string): Promise<void>;
  /** Re-check every stored shard's length and sha256. */
  verifyModel(id: string, onProgress?: ProgressFn): Promise<StoredModel>;
  /** Convert user-supplied weights (Keras .h5 or ONNX-zoo .onnx) into a verified bundle in the store. */
  importWeights(file: { name: string; bytes: Uint8Array }, onProgress?: ProgressFn): Promise<StoredModel>;
  /** Fetch weights by URL and convert them while they stream into a verified bundle; resumes with Range (cancelDownload pauses). */
  importFromUrl(request: UrlImportRequest, onProgress?: ProgressFn): Promise<StoredModel>;
  /** Imports from a URL that can be resumed. */
  pendingImports(): Promise<PendingImport[]>;
  /** The bundles in the server's `models/index.json` (none when it has no index). */
  listServedModels(): Promise<ServedModel[]>;
}
