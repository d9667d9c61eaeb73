/**
 * `onnxruntime-web` as the browser builds see it: webpack.config.ts (and the benchmark's page
 * bundle) resolve the package's name to this file; Node resolves the package's own Node build and
 * never loads it.
 *
 * The package ships one build per set of backends, each a whole copy of the API with its own
 * WebAssembly: the WASM-only build and JSEP (WebGPU and WASM). The worker needs JSEP only on WebGPU,
 * and JSEP's .wasm is twice as large (runtime.ts: ORT_BUILDS), so it loads the build its device needs,
 * once, before any session: `loadOrt`. Until then these bindings are undefined. One worker cannot
 * hold two builds (each registers the 'wasm' backend), so a worker that loaded the WASM-only build
 * stays on WASM (`loadOrt` answers with the build it has).
 */
// The JSEP build's name is an ambient declaration, which no import can bring into a program.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference
/// <reference path="./ort-jsep.d.ts" />
import type * as Ort from 'onnxruntime-web';
import type { OrtBuild } from './runtime';

export let Tensor: typeof Ort.Tensor;
export let InferenceSession: typeof Ort.InferenceSession;
export let env: typeof Ort.env;

let loaded: Promise<OrtBuild> | undefined;

/** Loads `build` unless one is loaded already; resolves with the build that is. A failed load can be retried (or the other build tried). */
export function loadOrt(build: OrtBuild): Promise<OrtBuild> {
  loaded ??= (async () => {
    const m = build === 'wasm' ? await import('onnxruntime-web/wasm') : await import('onnxruntime-web-jsep');
    ({ Tensor, InferenceSession, env } = m);
    return build;
  })().catch((e: unknown) => {
    loaded = undefined;
    throw e;
  });
  return loaded;
}
