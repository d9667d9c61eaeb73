/**
 * Cold start: the bundle is already in IndexedDB (stored by `store`, in the app's own schema), the
 * page was just (re)loaded. The clock starts at index.html's first script; the page then does what
 * the engine's loadModel does — read the manifest and shards through the app's IdbBundleStore and
 * loadBundle (sha256-verified), build the graphs, create the sessions as LiveSessions does (the
 * head, and a plain-conv base on its int8 weights) — and runs once. (The engine reads the head's
 * shards, opens the head and has them collected before it reads the base's, for memory; here they
 * are read at once, so that reading and session creation are timed apart.) Then a second frame, which first swaps in the
 * Winograd base as the engine does on its second frame: that frame's time includes the swap.
 */
import * as ort from 'onnxruntime-web';
import { loadBundle, weightRefs } from '../../../src/core/bundle/load';
import type { BundleManifest, PartName } from '../../../src/core/bundle/manifest';
import { buildLiveGraphs, IO } from '../../../src/core/graphs/analyze';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import { encodeModel } from '../../../src/core/onnx/encode';
import type { Graph } from '../../../src/core/onnx/ir';
import { vggBase } from '../../../src/core/vgg16/graph';
import { sessionExtras } from '../../../workers/engine/sessions';
import { LiveSessions } from '../../../workers/engine/live';
import { LibraryConnection } from '../../../workers/engine/library/connection';
import { IdbBundleStore } from '../../../workers/engine/library/store';
import { page } from './globals';
import { feeds, fetchBytes, ortEnv, outputs, runtimeBinary } from './ort';
import type { ColdMode, ColdResult, StoreRequest } from './protocol';

/** Write a bundle the way the app's library does: manifest, every shard, then the ready record. */
export async function storeBundle(r: StoreRequest): Promise<number> {
  const t0 = performance.now();
  const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(r.manifestUrl))) as BundleManifest;
  const conn = new LibraryConnection();
  const db = await conn.get();
  await db.put('manifests', manifest, r.id);
  for (const part of manifest.parts) {
    for (const s of part.shards) {
      const bytes = await fetchBytes(r.shardBase + s.file);
      await db.put('shards', bytes.buffer as ArrayBuffer, [r.id, s.file]);
    }
  }
  await db.put(
    'ready',
    { id: r.id, parts: manifest.parts.map((p) => p.name), verifiedAt: new Date().toISOString() },
    r.id,
  );
  conn.close();
  return performance.now() - t0;
}

/** The conv base alone, ending at block5_pool, plain convs (the front LiveSessions starts with). */
function baseGraph(manifest: BundleManifest, parts: PartName[]): { front: Graph; cut: string; back?: Graph } {
  const cfg = manifest.architecture;
  const b = new GraphBuilder('convlens-base');
  const image = b.input(IO.image, 'float32', [1, 3, cfg.inputSize, cfg.inputSize]);
  const acts = vggBase(b, cfg, image, weightRefs(b, manifest, parts));
  const cut = acts.get('block5_pool')!;
  b.output(cut);
  return { front: b.graph, cut };
}

export async function coldStart(mode: ColdMode, id: string, threads: number): Promise<ColdResult> {
  const t0 = page.__benchT0 ?? 0;
  const tScript = performance.now();
  const r: ColdResult = {
    mode,
    totalMs: 0,
    navigationMs: t0,
    scriptsMs: tScript - t0,
    readMs: 0,
    buildMs: 0,
    createMs: 0,
    runMs: 0,
    bytes: 0,
    outputDims: [],
  };
  try {
    await ortEnv(threads);
    ort.env.wasm.wasmBinary = await runtimeBinary();
    const store = new IdbBundleStore(new LibraryConnection());
    const stored = await store.manifest(id);
    const parts: PartName[] = mode === 'base' ? ['base'] : stored.parts.map((p) => p.name);
    const { manifest, files } = await loadBundle(store, id, parts);
    const t1 = performance.now();
    r.readMs = t1 - tScript;
    r.bytes = [...files.values()].reduce((n, f) => n + f.length, 0);
    const cfg = manifest.architecture;
    const halves =
      mode === 'base'
        ? baseGraph(manifest, parts)
        : buildLiveGraphs({ cfg, weights: (b) => weightRefs(b, manifest, parts, files), integerDense: true });
    const data = [...files].map(([path, d]) => ({ path, data: d }));
    const open = (g: Graph, fold = true) =>
      ort.InferenceSession.create(encodeModel(g), {
        executionProviders: ['wasm'],
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
        externalData: data,
        ...sessionExtras(manifest, fold),
      });
    const t2 = performance.now();
    r.buildMs = t2 - t1;
    const frame = feeds(cfg.inputSize, mode === 'full');
    const runner = await LiveSessions.create(
      halves,
      (g) => open(g, g !== halves.front),
      async () => open,
    );
    const t3 = performance.now();
    r.createMs = t3 - t2;
    const out = await runner.run(frame);
    const t4 = performance.now();
    r.runMs = t4 - t3;
    r.totalMs = t4 - t0;
    r.outputDims = [...out[halves.back ? IO.heatmap : halves.cut]!.dims];
    if (halves.back) ({ top: r.top, heatmap: r.heatmap } = outputs(out));
    await runner.run(frame);
    r.secondMs = performance.now() - t4;
    r.secondBase = runner.form;
    await runner.release();
  } catch (err) {
    r.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  return r;
}
