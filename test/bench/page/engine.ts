/**
 * The real engine in the benchmark page: workers/engine/engine.ts's Engine over the app's IndexedDB
 * store (the bundle stored by `store`, as the library does), on onnxruntime-web WASM. The training
 * and insight rows time its public methods, as the PWA's worker calls them (without Comlink).
 */
import { openDB, type IDBPDatabase } from 'idb';
import type { TrainState } from '../../../src/core/train/request';
import { Engine } from '../../../workers/engine/engine';
import { LibraryConnection } from '../../../workers/engine/library/connection';
import { IdbFeatureCache } from '../../../workers/engine/library/feature-cache';
import { IdbBundleStore } from '../../../workers/engine/library/store';
import type { AnalyzeResult, CamMethod, RgbaFrame, TrainingPhoto } from '../../../workers/engine/protocol';
import { fetchBytes, ortEnv, runtimeBinary } from './ort';
import { wasmMemoryMb } from './wasm-memory';
import type {
  ClassifierLiveResult,
  EngineExplainRequest,
  EngineFiltersRequest,
  EngineLoadRequest,
  EngineLoadResult,
  EngineTimed,
  EngineTrainRequest,
  EngineTrainResult,
  PhotoEntry,
  RunResult,
} from './protocol';

let engine: Engine | undefined;
let photos: { entry: PhotoEntry; frame: RgbaFrame }[] = [];
let frame: RgbaFrame | undefined;

function loaded(): Engine {
  if (!engine) throw new Error('no engine: call engineLoad first');
  return engine;
}

/** Checkpoints written during the current engineTrain call, and the milliseconds they took. */
let checkpoints = { count: 0, ms: 0 };
let checkpointDb: Promise<IDBPDatabase> | undefined;

/**
 * Keeps a training checkpoint in IndexedDB, as the app's page does (src/app/train/store.ts: one
 * record, replaced): a structured clone of the state and a write. (The app's page also receives it
 * from the worker, another clone, which this in-page Engine does not pay.)
 */
async function keepCheckpoint(state: TrainState): Promise<void> {
  const t = performance.now();
  checkpointDb ??= openDB('convlens-bench', 1, { upgrade: (db) => void db.createObjectStore('meta') });
  await (await checkpointDb).put('meta', { state, at: Date.now() }, 'checkpoint');
  checkpoints.count++;
  checkpoints.ms += performance.now() - t;
}

/** Engine.init (WASM, `threads`, memory saver off unless asked) and loadModel from IndexedDB, timed in the page. */
export async function engineLoad(r: EngineLoadRequest): Promise<EngineLoadResult> {
  const t0 = performance.now();
  engine = new Engine({
    store: new IdbBundleStore(new LibraryConnection()),
    maxThreads: () => r.threads,
    loadRuntime: async () => (await ortEnv(r.threads), 'wasm'),
    runtimeBinary,
    onTrainCheckpoint: keepCheckpoint,
    // Features in IndexedDB, as the app's worker keeps them (in memory they would be 53 MB more here).
    featureCache: new IdbFeatureCache(),
  });
  const backend = await engine.init({ device: 'wasm', threads: r.threads, lowMemory: r.lowMemory ?? false });
  const phases: Record<string, number> = {};
  await engine.loadModel(r.id, (p) => (phases[p.phase] = performance.now() - t0));
  return { ms: performance.now() - t0, threads: backend.threads, phases, wasmMb: wasmMemoryMb() };
}

/** The photos (raw RGBA, served by the driver) into page memory; the first is the insight rows' frame. */
export async function enginePhotos(indexUrl: string): Promise<{ count: number; first: string }> {
  const index = JSON.parse(new TextDecoder().decode(await fetchBytes(indexUrl))) as PhotoEntry[];
  photos = await Promise.all(
    index.map(async (entry) => ({
      entry,
      frame: { width: entry.width, height: entry.height, data: await fetchBytes(entry.url) },
    })),
  );
  frame = photos[0]?.frame;
  return { count: photos.length, first: frame ? `${frame.width}×${frame.height} photo` : 'no photo' };
}

async function timed(fn: () => Promise<unknown>, runs: number, warmup: number): Promise<EngineTimed> {
  const t0 = performance.now();
  await fn();
  const firstMs = performance.now() - t0;
  for (let i = 1; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return { firstMs, samples };
}

function theFrame(): RgbaFrame {
  if (!frame) throw new Error('no frame: call enginePhotos first');
  return frame;
}

/** Engine.analyze (the live frame) on the first photo; `split`: its own preprocess / run times per call. */
export async function engineAnalyze(r: {
  runs: number;
  warmup: number;
}): Promise<RunResult & { split: { preprocess: number; run: number }[]; warm: number[] }> {
  const e = loaded();
  const f = theFrame();
  let last: AnalyzeResult | undefined;
  const split: { preprocess: number; run: number }[] = [];
  const t = await timed(
    async () => {
      last = await e.analyze(f);
      split.push({ preprocess: last.ms.preprocess, run: last.ms.run });
    },
    r.runs,
    Math.max(1, r.warmup),
  );
  const all = split.map((x) => x.preprocess + x.run);
  return {
    samples: t.samples,
    top: last?.top5.map((p) => p.index) ?? [],
    topValues: last?.top5.map((p) => p.prob) ?? [],
    ...(last && { heatmap: Array.from(last.heatmap.data) }),
    split: split.slice(-r.runs),
    warm: all.slice(0, -r.runs),
  };
}

/**
 * The last trained classifier, live: Engine.exportClassifier → useClassifier (timed), then the live
 * frame on the first photo as engineAnalyze times it.
 */
export async function engineClassifierLive(r: { runs: number; warmup: number }): Promise<ClassifierLiveResult> {
  const e = loaded();
  const t0 = performance.now();
  const info = await e.useClassifier(await e.exportClassifier());
  const useMs = performance.now() - t0;
  if (!info) throw new Error('useClassifier returned no classifier');
  const frames = await engineAnalyze(r);
  return {
    ...frames,
    useMs,
    classifier: `${info.head} head${info.fineTuned ? ', block5 fine-tuned' : ''}, ${info.classes.length} classes, ${info.inputSize} px`,
    wasmMb: wasmMemoryMb(),
  };
}

/** Engine.activations of one layer (its first call builds the graph and session). */
export async function engineActivations(r: { layer: string; runs: number; warmup: number }): Promise<EngineTimed> {
  const e = loaded();
  const f = theFrame();
  let dims: number[] = [];
  const t = await timed(async () => (dims = (await e.activations(f, r.layer)).dims), r.runs, Math.max(1, r.warmup));
  return { ...t, dims };
}

/**
 * Engine.explain with each CAM method, the methods interleaved run by run (so a load change on the
 * machine hits them alike): each method's first call, then `runs` timed rounds.
 */
export async function engineExplain(r: EngineExplainRequest): Promise<Record<string, EngineTimed>> {
  const e = loaded();
  const f = theFrame();
  const out: Record<string, EngineTimed> = {};
  const once = async (cam: CamMethod) => {
    const t = performance.now();
    const dims = (await e.explain(f, { cam, layer: r.layer })).heatmap.dims;
    return { ms: performance.now() - t, dims };
  };
  for (const cam of r.cams) {
    const first = await once(cam);
    out[cam] = { firstMs: first.ms, samples: [], dims: first.dims };
    for (let i = 1; i < r.warmup; i++) await once(cam);
  }
  for (let i = 0; i < r.runs; i++) for (const cam of r.cams) out[cam]!.samples.push((await once(cam)).ms);
  return out;
}

/** Engine.filters once (the ascent graph's session is built beforehand by a 1-step warm-up). */
export async function engineFilters(r: EngineFiltersRequest): Promise<EngineTimed> {
  const e = loaded();
  const settings = { steps: r.steps };
  const tw = performance.now();
  await e.filters({ layer: r.layer, filters: r.filters.slice(0, r.batch), batch: r.batch, settings: { steps: 1 } });
  const firstMs = performance.now() - tw;
  const t0 = performance.now();
  const out = await e.filters({ layer: r.layer, filters: r.filters, batch: r.batch, settings });
  const ms = performance.now() - t0;
  return { firstMs, samples: [ms], dims: [out.pictures.length, out.settings.size] };
}

/** The classifier of the page's first train() call: the one a retrain continues from. */
let firstClassifier: Uint8Array | undefined;

/**
 * Engine.train on the first `perClass` photos of each class (plus the `extra` photos), timed from the
 * call to its result, with the time of each phase from the progress events.
 */
export async function engineTrain(r: EngineTrainRequest): Promise<EngineTrainResult> {
  const e = loaded();
  if (r.continueFrom && !firstClassifier) throw new Error('no classifier to continue from: train once first');
  const classes = [...new Set(photos.map((p) => p.entry.className))];
  const chosen = photos.filter(
    (p) =>
      p.entry.extra === undefined &&
      photos.filter((q) => q.entry.className === p.entry.className).indexOf(p) < r.perClass,
  );
  for (const p of photos) if (p.entry.extra !== undefined && p.entry.extra < r.extra) chosen.push(p);
  const list: TrainingPhoto[] = chosen.map((p) => ({
    id: p.entry.id,
    label: classes.indexOf(p.entry.className),
    image: p.frame,
  }));
  let cached: number | undefined;
  let total = 0;
  const phases: { phase: string; at: number }[] = [{ phase: 'plan', at: Date.now() }];
  checkpoints = { count: 0, ms: 0 };
  const t0 = performance.now();
  const result = await e.train(
    {
      classes,
      photos: list,
      variants: r.variants,
      seed: 1,
      ...(r.fineTuneEpochs ? { fineTune: { epochs: r.fineTuneEpochs, patience: r.fineTuneEpochs } } : {}),
      ...(r.continueFrom ? { from: { classifier: firstClassifier! } } : {}),
    },
    (p) => {
      if (phases.at(-1)!.phase !== p.phase) phases.push({ phase: p.phase, at: Date.now() });
      if (p.phase !== 'extract') return;
      cached ??= p.done;
      total = p.total;
    },
  );
  const ms = performance.now() - t0;
  firstClassifier ??= result.classifier;
  return {
    ms,
    photos: list.length,
    features: total,
    extracted: total - (cached ?? 0),
    phases: result.ms,
    epochs: result.history.length,
    status: result.status,
    checkpoints,
    wasmMb: wasmMemoryMb(),
    transitions: [...phases, { phase: 'result', at: Date.now() }],
    ...(result.validation ? { accuracy: result.validation.accuracy } : {}),
  };
}

/** Stops using the trained classifier: the live view runs the ImageNet head again. */
export async function engineImageNet(): Promise<void> {
  await loaded().useClassifier(null);
}

export async function engineDispose(): Promise<void> {
  await engine?.dispose();
  engine = undefined;
}
