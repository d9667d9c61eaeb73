/**
 * The engine: a plain object implementing EngineApi. Node (tests, CLI) calls it directly; the
 * PWA's worker wraps it with Comlink's expose(). It owns the onnxruntime-web sessions.
 */
import * as ort from 'onnxruntime-web';
import { loadBundle, weightRefs } from '../../src/core/bundle/load';
import type { BundleManifest, BundleStore } from '../../src/core/bundle/manifest';
import { buildAnalyzeGraph, IO } from '../../src/core/graphs/analyze';
import { encodeModel } from '../../src/core/onnx/encode';
import { resizeCenterCrop } from '../../src/core/vision/resize';
import { toNchw } from '../../src/core/vision/preprocess';
import { IMAGENET_LABELS } from '../../src/core/vgg16/imagenet-labels';
import type {
  AnalyzeOptions,
  AnalyzeResult,
  BackendInfo,
  Device,
  DownloadRequest,
  EngineApi,
  FrameInput,
  ModelInfo,
  PartName,
  ProgressFn,
  RgbaFrame,
  StorageEstimate,
  StoredModel,
} from './protocol';
import { EngineStateError } from './errors';

/** Device → onnxruntime-web execution providers, the one place that maps them. */
export const EXECUTION_PROVIDERS: Readonly<Record<Device, readonly string[]>> = Object.freeze({
  webgpu: ['webgpu', 'wasm'],
  wasm: ['wasm'],
});

/** The model-library half of the API, provided by hosts that keep bundles (the PWA's IndexedDB). */
export type ModelLibrary = Pick<
  EngineApi,
  'listModels' | 'storageEstimate' | 'downloadModel' | 'cancelDownload' | 'deleteModel' | 'verifyModel' | 'importWeights'
>;

export interface EngineHost {
  store: BundleStore;
  library?: ModelLibrary;
  /** Turns a host frame (e.g. an ImageBitmap in a worker) into RGBA pixels. */
  toRgba?: (frame: FrameInput) => RgbaFrame;
  /** Whether a WebGPU adapter exists (the worker asks navigator.gpu; Node has none). */
  hasWebGpu?: () => Promise<boolean>;
  /** Threads the host can run (1 unless cross-origin isolated in a browser). */
  maxThreads?: () => number;
}

interface Loaded {
  manifest: BundleManifest;
  labels: readonly string[];
  session: ort.InferenceSession;
  parts: PartName[];
}

const now = () => performance.now();

/**
 * int8 bundles: let onnxruntime fold DequantizeLinear of the weights into fp32 constants at session
 * creation. Otherwise it keeps the DequantizeLinear nodes and re-dequantizes 138 M weights on every
 * frame (measured: 402 vs 274 ms per live frame in Node WASM); the cost is fp32 weights in memory.
 */
export function sessionExtras(manifest: BundleManifest): Pick<ort.InferenceSession.SessionOptions, 'extra'> {
  return manifest.quantization === 'int8' ? { extra: { session: { disable_quant_qdq: '1' } } } : {};
}

export class Engine implements EngineApi {
  private backend: BackendInfo | undefined;
  private model: Loaded | undefined;

  constructor(private readonly host: EngineHost) {}

  async init(options: { device?: Device | 'auto'; threads?: number } = {}): Promise<BackendInfo> {
    const wantGpu = (options.device ?? 'auto') !== 'wasm';
    const gpu = wantGpu && (await this.host.hasWebGpu?.()) === true;
    const max = this.host.maxThreads?.() ?? 1;
    const threads = Math.max(1, Math.min(options.threads ?? max, max));
    ort.env.wasm.numThreads = threads;
    this.backend = { device: gpu ? 'webgpu' : 'wasm', threads };
    if (wantGpu && !gpu) this.backend.fallbackReason = 'no WebGPU adapter: running on WASM-SIMD';
    return this.backend;
  }

  async loadModel(id: string, onProgress?: ProgressFn): Promise<ModelInfo> {
    const backend = this.backend ?? (await this.init());
    const manifest = await this.host.store.manifest(id);
    const parts = manifest.parts.map((p) => p.name);
    onProgress?.({ phase: 'verify', done: 0, total: parts.length });
    const { files } = await loadBundle(this.host.store, id, parts);
    onProgress?.({ phase: 'build', done: parts.length, total: parts.length });
    const cfg = manifest.architecture;
    // Winograd halves the conv time on WASM kernels; WebGPU's conv shaders gain nothing from it.
    const graph = buildAnalyzeGraph({ cfg, weights: (b) => weightRefs(b, manifest, parts), winograd: backend.device === 'wasm' });
    const session = await ort.InferenceSession.create(encodeModel(graph), {
      executionProviders: [...EXECUTION_PROVIDERS[backend.device]],
      graphOptimizationLevel: 'all',
      externalData: [...files].map(([path, data]) => ({ path, data })),
      ...sessionExtras(manifest),
    });
    await this.model?.session.release();
    const labels = manifest.labels === 'imagenet' ? IMAGENET_LABELS : manifest.labels;
    this.model = { manifest, labels, session, parts };
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
    const { manifest, labels, session } = this.loaded();
    const t0 = now();
    const rgba = 'data' in frame ? frame : this.host.toRgba!(frame);
    const size = manifest.architecture.inputSize;
    const input = toNchw(resizeCenterCrop(rgba, size), manifest.preprocessing);
    const t1 = now();
    const out = await session.run({
      [IO.image]: new ort.Tensor('float32', input, [1, 3, size, size]),
      [IO.target]: new ort.Tensor('int64', BigInt64Array.of(BigInt(options.classIndex ?? -1)), [1]),
    });
    const t2 = now();
    const values = out[IO.topValues]!.data as Float32Array;
    const indices = out[IO.topIndices]!.data as BigInt64Array;
    const top5 = Array.from(indices, (i, k) => ({ index: Number(i), label: labels[Number(i)] ?? `class ${i}`, prob: values[k]! }));
    const target = Number((out[IO.targetIndex]!.data as BigInt64Array)[0]);
    const heat = out[IO.heatmap]!;
    for (const t of Object.values(out)) if (t !== heat) t.dispose();
    return {
      top5,
      target: { index: target, label: labels[target] ?? `class ${target}` },
      heatmap: { dims: [...heat.dims], data: heat.data as Float32Array },
      ms: { preprocess: t1 - t0, run: t2 - t1, total: now() - t0 },
    };
  }

  async dispose(): Promise<void> {
    await this.model?.session.release();
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

  private library(): ModelLibrary {
    if (!this.host.library) throw new EngineStateError('this host keeps no model library (use the CLI\'s `model build` instead)');
    return this.host.library;
  }

  private loaded(): Loaded {
    if (!this.model) throw new EngineStateError('no model is loaded: call loadModel(id) first');
    return this.model;
  }
}
