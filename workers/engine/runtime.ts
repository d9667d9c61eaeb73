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
 * The build self-hosts this file (webpack.config.ts, ORT_RUNTIME_FILES, takes its name from here).
 */
export const ORT_WASM = 'ort-wasm-simd-threaded.jsep.wasm';

/** The runtime's .wasm from `dir` (a URL ending in '/'), or a clear error naming it. */
export async function fetchRuntimeBinary(dir: string): Promise<ArrayBuffer> {
  const url = new URL(ORT_WASM, dir).href;
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`could not load onnxruntime's WebAssembly (${url}): ${(e as Error).message}`);
  }
  if (!res.ok) throw new Error(`could not load onnxruntime's WebAssembly (${url}): HTTP ${res.status}`);
  return res.arrayBuffer();
}
