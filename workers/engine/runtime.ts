/**
 * onnxruntime-web's WebAssembly, fetched by us and compiled from its bytes (`env.wasm.wasmBinary`)
 * instead of streamed by onnxruntime.
 *
 * Why: Chromium keeps the machine code of a streamed module whose response it can cache (V8's wasm
 * code cache), and a page that starts from that cached code runs our live frame about 2× slower with
 * about 2× the memory; from bytes, every page runs as the first. The app's .wasm is always cacheable
 * (served `no-cache`, i.e. revalidated, and precached by the service worker). Compiling from bytes is
 * never code-cached: each start compiles afresh (Liftoff at once, optimised code in the background).
 *
 * Two builds (workers/engine/ort.ts loads one): the WASM-only build for WASM, JSEP for WebGPU.
 * JSEP also runs WASM, but its .wasm is twice the size: with the WASM-only build the runtime starts
 * in about half the time and the live graph's first frames are faster (README).
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
