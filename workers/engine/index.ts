/**
 * The engine worker's entry: the Engine with its browser host (IndexedDB library and store, frame
 * conversion, WebGPU and thread detection), exposed to the page with Comlink. Nothing else runs here.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { Engine } from './engine';
import { loadOrt } from './ort';
import { fetchRuntimeBinary } from './runtime';
import type { OrtBuild } from './runtime';
import { IdbModelLibrary } from './library/library';
import { IdbFeatureCache } from './library/feature-cache';
import {
  activationsTransfer,
  deletionTransfer,
  explanationTransfer,
  filtersTransfer,
  type Transferring,
} from './insight-transfer';
import type {
  ActivationMaps,
  AnalyzeOptions,
  AnalyzeResult,
  DeletionRequest,
  DeletionResult,
  Device,
  ExplainOptions,
  Explanation,
  FilterRequest,
  FilterResult,
  ProgressFn,
  FrameInput,
  RgbaFrame,
  TrainCheckpointFn,
  TrainingRequest,
  TrainProgressFn,
  TrainResult,
} from './protocol';

declare const self: DedicatedWorkerGlobalScope;

// onnxruntime-web is self-hosted under ort/ next to this script (webpack.config.ts copies it there);
// resolving against the worker's own URL keeps it working when the app lives under a sub-path.
const ortDir = new URL('ort/', self.location.href).href;
let build: OrtBuild = 'wasm';

/** The onnxruntime-web build for `device` (ort.ts), unless one is loaded; answers the device it can serve. */
async function loadRuntime(device: Device): Promise<Device> {
  build = await loadOrt(device === 'webgpu' ? 'jsep' : 'wasm');
  ort.env.wasm.wasmPaths = ortDir;
  return build === 'jsep' ? device : 'wasm';
}

let canvas: OffscreenCanvas | undefined;
let context: OffscreenCanvasRenderingContext2D | undefined;

/** ImageBitmap → RGBA pixels through a reused OffscreenCanvas; the bitmap is closed either way. */
function toRgba(frame: FrameInput): RgbaFrame {
  if ('data' in frame) return frame;
  try {
    const { width, height } = frame;
    if (!canvas || !context || canvas.width !== width || canvas.height !== height) {
      canvas = new OffscreenCanvas(width, height);
      context = canvas.getContext('2d', { willReadFrequently: true }) ?? undefined;
      if (!context) throw new Error('this browser gives workers no 2D canvas: cannot read camera frames');
    }
    context.drawImage(frame, 0, 0);
    return { width, height, data: context.getImageData(0, 0, width, height).data };
  } finally {
    frame.close();
  }
}

interface GpuLike {
  requestAdapter(): Promise<unknown>;
}

async function hasWebGpu(): Promise<boolean> {
  const gpu = (self.navigator as WorkerNavigator & { gpu?: GpuLike }).gpu;
  if (!gpu) return false;
  try {
    return !!(await gpu.requestAdapter());
  } catch {
    return false;
  }
}

/**
 * Why WASM must run on one thread here: threads need SharedArrayBuffer, which browsers give only to a
 * cross-origin isolated page (COOP + COEP), and some engines (WebKitGTK) not even then.
 */
function singleThreadReason(): string | undefined {
  if (!self.crossOriginIsolated) return 'page not cross-origin isolated';
  if (typeof SharedArrayBuffer !== 'function') return 'this browser offers no WebAssembly threads';
  return undefined;
}

const maxThreads = () => (singleThreadReason() ? 1 : Math.max(1, Math.min(self.navigator.hardwareConcurrency || 1, 4)));

/** True when the array owns its whole, non-shared buffer, so transferring it detaches nothing else. */
function ownsBuffer(a: Float32Array): boolean {
  return a.buffer instanceof ArrayBuffer && a.byteOffset === 0 && a.byteLength === a.buffer.byteLength;
}

/** The engine as the page sees it: heatmaps come back transferred, not copied. */
class WorkerEngine extends Engine {
  override async analyze(frame: FrameInput, options?: AnalyzeOptions): Promise<AnalyzeResult> {
    const result = await super.analyze(frame, options);
    const data = ownsBuffer(result.heatmap.data) ? result.heatmap.data : result.heatmap.data.slice();
    const out = { ...result, heatmap: { ...result.heatmap, data } };
    return Comlink.transfer(out, [data.buffer]);
  }

  /**
   * The classifier file comes back transferred (a copy: the engine keeps its own for exportClassifier),
   * and a finished run's state stays here: only a cancelled run is resumed from it, and a copy to the
   * page would be 77–190 MB (the head's, or fine-tuning's parameters, slots and best) for nothing.
   */
  override async train(
    request: TrainingRequest,
    onProgress?: TrainProgressFn,
    onCheckpoint?: TrainCheckpointFn,
  ): Promise<TrainResult> {
    const result = await super.train(request, onProgress, onCheckpoint);
    if (!result.classifier) return result;
    const { state: _finished, ...rest } = result;
    const classifier = result.classifier.slice();
    return Comlink.transfer({ ...rest, classifier }, [classifier.buffer]);
  }

  override async exportClassifier(): Promise<Uint8Array> {
    const bytes = (await super.exportClassifier()).slice();
    return Comlink.transfer(bytes, [bytes.buffer]);
  }

  // ---- insight: channel maps, filter pictures and heatmaps come back transferred, not copied ----

  override async activations(frame: FrameInput, layer: string): Promise<ActivationMaps> {
    return send(activationsTransfer(await super.activations(frame, layer)));
  }

  override async filters(request: FilterRequest, onProgress?: ProgressFn): Promise<FilterResult> {
    return send(filtersTransfer(await super.filters(request, onProgress)));
  }

  override async explain(frame: FrameInput, options?: ExplainOptions): Promise<Explanation> {
    return send(explanationTransfer(await super.explain(frame, options)));
  }

  override async deletion(frame: FrameInput, request?: DeletionRequest): Promise<DeletionResult> {
    return send(deletionTransfer(await super.deletion(frame, request)));
  }
}

const send = <T>({ value, transfer }: Transferring<T>): T => Comlink.transfer(value, transfer);

const library = new IdbModelLibrary({
  // Told to the page outside Comlink: the UI asks the user to reload (another tab changed the schema).
  onDbEvent: (event) => self.postMessage(event),
});

const featureCache = new IdbFeatureCache();
const engine = new WorkerEngine({
  store: library.store,
  library,
  toRgba,
  hasWebGpu,
  maxThreads,
  singleThreadReason,
  // Chromium's coarse device memory (0.25 … 8 GB); other browsers report none.
  deviceMemoryGb: () => (self.navigator as WorkerNavigator & { deviceMemory?: number }).deviceMemory,
  loadRuntime,
  runtimeBinary: () => fetchRuntimeBinary(ortDir, build),
  // Training features survive reloads in their own database (the page keeps photos and checkpoints).
  featureCache,
  forgetFeatures: (photoIds) => featureCache.forget(photoIds),
});
Comlink.expose(engine);
