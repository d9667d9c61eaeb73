/**
 * What the benchmark page (test/bench/page/main.ts, run in headless Chromium) and its Node driver
 * (test/bench/browser.ts) exchange through puppeteer's page.evaluate: plain JSON-able values only.
 * Timings are measured in the page with performance.now(); Node only collects them.
 */
import type { Quantization } from '../../../src/core/bundle/manifest';
import type { CamMethod } from '../../../src/core/insight';
import type { OrtBuild } from '../../../workers/engine/runtime';

export type Quant = Quantization;
export type Ep = 'wasm' | 'webgpu';

/** One external-data file of a graph: the shard's file name (the graph's `location`) and its URL. */
export interface ShardUrl {
  path: string;
  url: string;
}

export interface PageInfo {
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  userAgent: string;
  /** The WebGPU adapter's description, when navigator.gpu gives one. */
  webgpu?: string;
}

export interface OrtSessionRequest {
  /** The ONNX graph (weights external, so a few hundred kB). */
  graphUrl: string;
  shards: ShardUrl[];
  ep: Ep;
  /** onnxruntime session `extra` options (sessionExtras: int8 bundles fold their dequantization). */
  extra?: Record<string, Record<string, string>>;
}

export interface SessionTiming {
  /** Fetching the graph and shards into memory (not counted in createMs). */
  fetchMs: number;
  createMs: number;
}

export interface RunRequest {
  /** The graph has the `target` input and the `heatmap` output (the live frame). */
  withCam: boolean;
  runs: number;
  warmup: number;
}

/** Sessions (by slot) run in turns: a, b, a, b, … */
export interface TurnsRequest {
  slots: { slot: string; withCam: boolean }[];
  runs: number;
  warmup: number;
}

export interface RunResult {
  /** Milliseconds per timed run. */
  samples: number[];
  top: number[];
  topValues: number[];
  heatmap?: number[];
}

export interface TfInfo {
  backend: string;
  version: string;
  /** The threads TF.js's pool actually has. */
  threads: number;
  simd: boolean;
  multithread: boolean;
}

export interface TfLoadRequest {
  manifestUrl: string;
  /** URL prefix of the shard files (the shard file name is appended). */
  shardBase: string;
}

export interface TfRunRequest {
  /** false: forward + top-5; true: forward + tf.grad Grad-CAM + top-5. */
  gradcam: boolean;
  runs: number;
  warmup: number;
}

export interface StoreRequest {
  id: string;
  manifestUrl: string;
  shardBase: string;
}

export type ColdMode = 'base' | 'full';

/** Bundle already in IndexedDB → first result, measured from the page's first script (index.html). */
export interface ColdResult {
  mode: ColdMode;
  /** From the page's first script to the first result. */
  totalMs: number;
  /** Navigation start → the page's first script. */
  navigationMs: number;
  /** Until the page module (and onnxruntime-web's script) started. */
  scriptsMs: number;
  /** Reading the manifest and shards from IndexedDB and verifying them (the app's loadBundle). */
  readMs: number;
  /** Building and encoding the graph. */
  buildMs: number;
  createMs: number;
  runMs: number;
  bytes: number;
  /** The second frame: the swap to the Winograd base (after the first frame), then the frame. */
  secondMs?: number;
  /** Which base the second frame ran on. */
  secondBase?: string;
  /** The output's shape (block5_pool) or the heatmap's. */
  outputDims: number[];
  heatmap?: number[];
  top?: number[];
  error?: string;
}

/** A photo served as raw RGBA (test/fixtures/photos, decoded by the driver). */
export interface PhotoEntry {
  id: string;
  className: string;
  url: string;
  width: number;
  height: number;
  /** Set on the photos kept back to be added later (0, 1, …): not in the first training set. */
  extra?: number;
}

export interface EngineLoadRequest {
  /** The bundle's id in IndexedDB (stored by `store`). */
  id: string;
  threads: number;
  /** Engine.init's memory saver (plain convolutions). */
  lowMemory?: boolean;
}

export interface EngineLoadResult {
  /** Engine.init + Engine.loadModel. */
  ms: number;
  threads: number;
  /** Milliseconds from the start to each progress phase of loadModel. */
  phases: Record<string, number>;
  /** onnxruntime's WebAssembly memory after loadModel, MB. */
  wasmMb: number;
}

/** The first call (graph and session built on first use) and the timed calls after the warm-up. */
export interface EngineTimed {
  firstMs: number;
  samples: number[];
  dims?: number[];
}

export interface EngineExplainRequest {
  cams: CamMethod[];
  layer?: string;
  runs: number;
  warmup: number;
}

export interface EngineFiltersRequest {
  layer: string;
  filters: number[];
  /** Filters per session run. */
  batch: number;
  steps: number;
}

export interface EngineTrainRequest {
  /** The first N photos of each class (of the photos not marked `extra`). */
  perClass: number;
  /** How many of the `extra` photos to add. */
  extra: number;
  variants: number;
  /** Fine-tune block5 for this many epochs after the head (0: off). */
  fineTuneEpochs: number;
  /** Continue from the classifier of the page's first train() call (TrainRequest.from), as the app does. */
  continueFrom?: boolean;
}

export interface EngineTrainResult {
  /** The whole Engine.train call. */
  ms: number;
  photos: number;
  /** Feature rows (photo × variant) the run used, and how many it had to compute (the rest were cached). */
  features: number;
  extracted: number;
  /** The trainer's own split (TrainResult.ms). */
  phases: { extract: number; head: number; finetune: number };
  epochs: number;
  status: string;
  accuracy?: number;
  /** Checkpoints the call kept in IndexedDB (as the app's page does), and their milliseconds in all. */
  checkpoints: { count: number; ms: number };
  /** onnxruntime's WebAssembly memory after the call, MB. */
  wasmMb: number;
  /** When each phase began (Date.now(), as the progress events told), and when the result came. */
  transitions: { phase: string; at: number }[];
}

/** The trained classifier's live frames (engineAnalyze's result) after Engine.useClassifier. */
export interface ClassifierLiveResult extends RunResult {
  split: { preprocess: number; run: number }[];
  warm: number[];
  /** exportClassifier + useClassifier. */
  useMs: number;
  /** What the classifier is (head, fine-tuned, classes, input size). */
  classifier: string;
  /** onnxruntime's WebAssembly memory after the frames, MB. */
  wasmMb: number;
}

/** The driver on `globalThis.bench`. */
/** An import from a URL: total and download+convert milliseconds, the model and its stored bytes. */
export interface ConvertResult {
  ms: number;
  downloadMs: number;
  id: string;
  ready: boolean;
  storedBytes: number;
}

export interface BenchPage {
  info(): Promise<PageInfo>;
  /**
   * Fixes onnxruntime-web's thread count for this page (its WASM instance is created once) and starts
   * the runtime with a one-node graph, so session times count the model only; returns the milliseconds.
   */
  ortInit(threads: number, build?: OrtBuild): Promise<number>;
  /** Opens a session in `slot` (default 'main'), releasing what the slot held. */
  ortSession(request: OrtSessionRequest, slot?: string): Promise<SessionTiming>;
  ortRun(request: RunRequest, slot?: string): Promise<RunResult>;
  ortTurns(request: TurnsRequest): Promise<RunResult[]>;
  ortRelease(): Promise<void>;
  /** Selects TensorFlow.js's wasm backend with `threads` threads. */
  tfInit(threads: number): Promise<TfInfo>;
  /** Fetches the fp32 bundle and makes the channels-last weight tensors; returns the milliseconds. */
  tfLoad(request: TfLoadRequest): Promise<number>;
  tfRun(request: TfRunRequest): Promise<RunResult>;
  tfDispose(): void;
  /** Stores a bundle in IndexedDB exactly as the app's library does (manifest, shards, ready record). */
  store(request: StoreRequest): Promise<number>;
  /** The real Engine (workers/engine/engine.ts) over the IndexedDB store: init + loadModel. */
  engineLoad(request: EngineLoadRequest): Promise<EngineLoadResult>;
  /** Fetches the photos (raw RGBA) into the page; the first is the frame of the insight rows. */
  enginePhotos(indexUrl: string): Promise<{ count: number; first: string }>;
  engineAnalyze(request: {
    runs: number;
    warmup: number;
  }): Promise<RunResult & { split: { preprocess: number; run: number }[]; warm: number[] }>;
  engineActivations(request: { layer: string; runs: number; warmup: number }): Promise<EngineTimed>;
  engineExplain(request: EngineExplainRequest): Promise<Record<string, EngineTimed>>;
  engineFilters(request: EngineFiltersRequest): Promise<EngineTimed>;
  engineTrain(request: EngineTrainRequest): Promise<EngineTrainResult>;
  engineClassifierLive(request: { runs: number; warmup: number }): Promise<ClassifierLiveResult>;
  engineImageNet(): Promise<void>;
  engineDispose(): Promise<void>;
  /** The page's largest WebAssembly memory in MB (onnxruntime's heap: it only grows). */
  wasmMemoryMb(): number;
  /** The library's importFromUrl of a safetensors URL into IndexedDB (then deleted). */
  convertUrl(url: string): Promise<ConvertResult>;
  /** Set when the page was opened with `?cold=base|full&id=…`: the cold start, started by the page itself. */
  cold?: Promise<ColdResult>;
}

/** The benchmark's input image, the same as the Node rows' (test/bench/node.ts): NCHW, 1×3×S×S. */
export function benchImage(S: number): Float32Array {
  return new Float32Array(3 * S * S).map((_, i) => ((i * 7919) % 255) - 120);
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length || a.length === 0) return NaN;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 && bb === 0 ? 1 : ab / Math.sqrt(aa * bb);
}
