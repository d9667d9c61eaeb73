/**
 * Which backend the engine runs on (Engine.init): the device (WebGPU when an adapter exists and its
 * runtime build loads, else WASM), the thread count, the memory saver, and onnxruntime-web made ready
 * for them before the first session.
 */
import * as ort from 'onnxruntime-web';
import type { BackendInfo, Device, InitOptions } from './protocol';

/** What the host tells the engine about the machine and how it gets onnxruntime-web ready. */
export interface BackendHost {
  /** Whether a WebGPU adapter exists (the worker asks navigator.gpu; Node has none). */
  hasWebGpu?: () => Promise<boolean>;
  /** Threads the host can run (1 unless cross-origin isolated in a browser). */
  maxThreads?: () => number;
  /** Why the host runs one thread, if it must (told to the user). */
  singleThreadReason?: () => string | undefined;
  /** The device's memory in GB as the browser reports it (`navigator.deviceMemory`), if it does. */
  deviceMemoryGb?: () => number | undefined;
  /**
   * Makes onnxruntime-web ready for `device` before the first session and answers the device it can
   * serve (the worker loads the build the device needs, ort.ts; one already on the WASM-only build
   * answers 'wasm'). Absent (Node): the package's own build serves both.
   */
  loadRuntime?: (device: Device) => Promise<Device>;
  /** onnxruntime-web's .wasm bytes, to compile from memory rather than stream (the worker: runtime.ts says why). */
  runtimeBinary?: () => Promise<ArrayBuffer>;
}

/**
 * At most this much device memory (GB, `navigator.deviceMemory`: 0.25 … 8), the memory saver is on by
 * default: with the Winograd base the live view's renderer peaks near 1 GB (README, benchmark), which
 * a 2 GB phone's browser may not grant a tab.
 * A browser that reports no memory (Firefox, Safari) gets the saver too: a slower frame beats a tab the
 * system closes.
 */
export const LOW_MEMORY_GB = 2;

/** The backend for `options` on `host`, with onnxruntime-web's build, threads and .wasm bytes set for it. */
export async function startBackend(host: BackendHost, options: InitOptions = {}): Promise<BackendInfo> {
  const wantGpu = (options.device ?? 'auto') !== 'wasm';
  const adapter = wantGpu && (await host.hasWebGpu?.()) === true;
  const { device, fallbackReason } = await runtime(host, wantGpu, adapter);
  const max = host.maxThreads?.() ?? 1;
  const threads = Math.max(1, Math.min(options.threads ?? max, max));
  ort.env.wasm.numThreads = threads;
  // Read by onnxruntime once, when its first session starts the WASM instance.
  if (host.runtimeBinary && !ort.env.wasm.wasmBinary) ort.env.wasm.wasmBinary = await host.runtimeBinary();
  // A host that can ask the browser but gets no answer counts as low on memory; one that cannot (Node) does not.
  const memory = host.deviceMemoryGb ? (host.deviceMemoryGb() ?? 0) : Infinity;
  const lowMemory = options.lowMemory ?? memory <= LOW_MEMORY_GB;
  const threadsReason = max === 1 ? host.singleThreadReason?.() : undefined;
  return {
    device,
    threads,
    ...(fallbackReason && { fallbackReason }),
    ...(threadsReason && { threadsReason }),
    ...(lowMemory && { lowMemory }),
  };
}

/** Has the host load the runtime build for the device; says why not WebGPU when it was wanted. */
async function runtime(
  host: BackendHost,
  wantGpu: boolean,
  adapter: boolean,
): Promise<{ device: Device; fallbackReason?: string }> {
  const load = host.loadRuntime ?? (async (d: Device) => d);
  if (!adapter) {
    await load('wasm');
    return { device: 'wasm', ...(wantGpu && { fallbackReason: 'no WebGPU adapter: running on WASM-SIMD' }) };
  }
  try {
    if ((await load('webgpu')) === 'webgpu') return { device: 'webgpu' };
    return { device: await load('wasm'), fallbackReason: 'this engine started on WASM: reload the page to use WebGPU' };
  } catch (e) {
    await load('wasm');
    const why = e instanceof Error ? e.message : String(e);
    return { device: 'wasm', fallbackReason: `the WebGPU runtime did not load (${why}): running on WASM-SIMD` };
  }
}
