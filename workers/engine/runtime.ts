/**
 * onnxruntime-web's WebAssembly, fetched by us and compiled from its bytes (`env.wasm.wasmBinary`)
 * instead of streamed by onnxruntime.
 *
 * Why: Chromium keeps the machine code of a streamed module whose response it can cache (V8's wasm
 * code cache), and a page that started from that cached code ran our live frame about 2× slower with
 * about 2× the memory. Measured in headless Chromium 156, full-size int8 live graph, 2 threads, a new
 * page each time: with a cacheable streamed .wasm, 280 ms / 2.3 GB on the first page, 700 ms / 4.2 GB
 * from the third; from bytes, 270–300 ms / 2.3 GB on every page. The app's .wasm is always cacheable
 * (served `no-cache`, i.e. revalidated, and precached by the service worker). Compiling from bytes is
 * never code-cached: each start compiles afresh (Liftoff at once, optimised code in the background).
 *
 * Two builds (workers/engine/ort.ts loads one): the WASM-only build for WASM, JSEP for WebGPU.
 * JSEP also runs WASM, but its .wasm is twice the size: in headless Chromium (2 cores) the runtime
 * started in ≈ 0.41 s against ≈ 0.85 s (fetch, compile, thread pool, a one-node session), and the
 * full-size live graph's first frames ran faster (401, 317 ms against 876, 460 ms; then both ≈ 280 ms).
 * The build self-hosts both (webpack.config.ts, ORT_RUNTIME_FILES, takes the names from here).
 */
export type OrtBuild = 'wasm' | 'jsep';

/** Each build's Emscripten module and its .wasm (onnxruntime-web's dist/ names). */
export const ORT_BUILDS = {
  wasm: { module: 'ort-wasm-simd-threaded.mjs', wasm: 'ort-wasm-simd-threaded.wasm' },
  jsep: { module: 'ort-wasm-simd-threaded.jsep.mjs', wasm: 'ort-wasm-simd-threaded.jsep.wasm' },
} as const satisfies Record<OrtBuild, { module: string; wasm: string }>;

/** The .wasm of `build` from `dir` (a URL ending in '/'), or a clear error naming it. */
export async function fetchRuntimeBinary(dir: string, build: OrtBuild): Promise<ArrayBuffer> {
  const url = new URL(ORT_BUILDS[build].wasm, dir).href;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not load onnxruntime's WebAssembly (${url}): ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`could not load onnxruntime's WebAssembly (${url}): HTTP ${res.status}`);
  return res.arrayBuffer();
}
