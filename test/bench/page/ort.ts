/** onnxruntime-web in the page: one session at a time, WASM or WebGPU, timed in the page. */
import * as ort from 'onnxruntime-web';
import { IO } from '../../../src/core/graphs/analyze';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import { encodeModel } from '../../../src/core/onnx/encode';
import { loadOrt } from '../../../workers/engine/ort';
import type { OrtBuild } from '../../../workers/engine/runtime';
import { fetchRuntimeBinary } from '../../../workers/engine/runtime';
import { page } from './globals';
import type { OrtSessionRequest, RunRequest, RunResult, SessionTiming, TurnsRequest } from './protocol';
import { benchImage } from './protocol';
import { inTurns } from '../stats';

/** The page's sessions by slot ('main' unless a caller opens several to run them in turns). */
const sessions = new Map<string, { session: ort.InferenceSession; inputSize: number }>();

export async function fetchBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

/**
 * Loads the onnxruntime-web build (as the app's worker: 'wasm' for WASM, 'jsep' for WebGPU) from the
 * self-hosted runtime files; the thread count is read once, when the WASM instance starts.
 */
export async function ortEnv(threads: number, build: OrtBuild = 'wasm'): Promise<OrtBuild> {
  const loaded = await loadOrt(build);
  if (loaded !== build) throw new Error(`this page already loaded onnxruntime-web's ${loaded} build`);
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  return loaded;
}

/** The build's .wasm as bytes, as the app's worker hands it over (workers/engine/runtime.ts says why). */
export const runtimeBinary = (build: OrtBuild = 'wasm'): Promise<ArrayBuffer> =>
  fetchRuntimeBinary(new URL('/ort/', page.location.href).href, build);

/**
 * Start the runtime (loading the build, WASM instance, thread pool) with a one-node graph; returns
 * the milliseconds.
 */
export async function ortInit(threads: number, build: OrtBuild = 'wasm'): Promise<number> {
  const t0 = performance.now();
  await ortEnv(threads, build);
  ort.env.wasm.wasmBinary = await runtimeBinary(build);
  const b = new GraphBuilder('warm-up');
  b.output(b.identity(b.input('x', 'float32', [1])));
  const s = await ort.InferenceSession.create(encodeModel(b.graph), { logSeverityLevel: 3 });
  await s.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1]) });
  await s.release();
  return performance.now() - t0;
}

/** Opens a session in `slot` (releasing what the slot held). */
export async function ortSession(r: OrtSessionRequest, slot = 'main'): Promise<SessionTiming> {
  await sessions.get(slot)?.session.release();
  sessions.delete(slot);
  const t0 = performance.now();
  const [graph, ...shards] = await Promise.all([fetchBytes(r.graphUrl), ...r.shards.map((s) => fetchBytes(s.url))]);
  const t1 = performance.now();
  const session = await ort.InferenceSession.create(graph!, {
    executionProviders: [r.ep],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    externalData: r.shards.map((s, i) => ({ path: s.path, data: shards[i]! })),
    ...(r.extra ? { extra: r.extra } : {}),
  });
  const t2 = performance.now();
  const dims = session.inputMetadata.find((m) => m.name === IO.image);
  const shape = dims && 'shape' in dims ? dims.shape : undefined;
  sessions.set(slot, { session, inputSize: typeof shape?.[2] === 'number' ? shape[2] : 224 });
  return { fetchMs: t1 - t0, createMs: t2 - t1 };
}

export function feeds(S: number, withCam: boolean): Record<string, ort.Tensor> {
  const f: Record<string, ort.Tensor> = { [IO.image]: new ort.Tensor('float32', benchImage(S), [1, 3, S, S]) };
  if (withCam) f[IO.target] = new ort.Tensor('int64', BigInt64Array.of(-1n), [1]);
  return f;
}

export async function ortRun(r: RunRequest, slot = 'main'): Promise<RunResult> {
  return (await ortTurns({ ...r, slots: [{ slot, withCam: r.withCam }] }))[0]!;
}

/** Runs the sessions of `slots` in turns (a, b, a, b, …), each `warmup` + `runs` times. */
export async function ortTurns(r: TurnsRequest): Promise<RunResult[]> {
  const runners = r.slots.map(({ slot, withCam }) => {
    const s = sessions.get(slot);
    if (!s) throw new Error(`no session in slot '${slot}': call ortSession first`);
    const f = feeds(s.inputSize, withCam);
    let out: ort.InferenceSession.ReturnType | undefined;
    const run = async () => {
      out = await s.session.run(f);
    };
    return { run, last: () => out! };
  });
  const samples = await inTurns(
    runners.map((x) => x.run),
    r.runs,
    r.warmup,
  );
  return runners.map((x, i) => ({ samples: samples[i]!, ...outputs(x.last()) }));
}

export function outputs(out: ort.InferenceSession.ReturnType): Omit<RunResult, 'samples'> {
  const top = Array.from(out[IO.topIndices]!.data as BigInt64Array, Number);
  const topValues = Array.from(out[IO.topValues]!.data as Float32Array);
  const heat = out[IO.heatmap];
  return { top, topValues, ...(heat ? { heatmap: Array.from(heat.data as Float32Array) } : {}) };
}

export async function ortRelease(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const { session } of all) await session.release();
}
