/**
 * The engine worker's entry: the Engine with its browser host (IndexedDB library and store, frame
 * conversion, WebGPU and thread detection), exposed to the page with Comlink. Nothing else runs here.
 */
import * as Comlink from 'comlink';
import * as ort from 'onnxruntime-web';
import { Engine } from './engine';
import { IdbModelLibrary } from './library/library';
import type { AnalyzeOptions, AnalyzeResult, FrameInput, RgbaFrame } from './protocol';

declare const self: DedicatedWorkerGlobalScope;

// onnxruntime-web is self-hosted under ort/ next to this script (webpack.config.ts copies it there);
// resolving against the worker's own URL keeps it working when the app lives under a sub-path.
ort.env.wasm.wasmPaths = new URL('ort/', self.location.href).href;

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

/** WASM threads need SharedArrayBuffer, i.e. a cross-origin isolated page (COOP + COEP). */
const maxThreads = () =>
  self.crossOriginIsolated ? Math.max(1, Math.min(self.navigator.hardwareConcurrency || 1, 4)) : 1;

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
}

const library = new IdbModelLibrary({
  // Told to the page outside Comlink: the UI asks the user to reload (reliability row 12).
  onDbEvent: (event) => self.postMessage(event),
});

const engine = new WorkerEngine({ store: library.store, library, toRgba, hasWebGpu, maxThreads });
Comlink.expose(engine);
