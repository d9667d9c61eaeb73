/**
 * How the engine's graphs become onnxruntime-web sessions: the execution providers per device, the
 * session options an int8 bundle needs, the external-data files a graph names, the two-session live
 * view (its halves opened one after the other, each on its own part's shards), and the one adapter
 * from onnxruntime-web to the core runtime (src/core/runtime.ts) that insight and training run on.
 */
import * as ort from 'onnxruntime-web';
import { loadBundle, readShards, weightRefs } from '../../src/core/bundle/load';
import type { BundleManifest, BundleStore, PartName } from '../../src/core/bundle/manifest';
import { buildLiveGraphs } from '../../src/core/graphs/analyze';
import type { GraphRuntime, GraphSession, SessionOptions } from '../../src/core/runtime';
import { encodeModel } from '../../src/core/onnx/encode';
import type { GraphBuilder } from '../../src/core/onnx/builder';
import type { Graph } from '../../src/core/onnx/ir';
import type { WeightRef } from '../../src/core/vgg16/graph';
import { collected, whenCollected } from './collect';
import { LiveSessions, type LiveRunner } from './live';
import type { Device } from './protocol';

/** Device → onnxruntime-web execution providers, the one place that maps them. */
export const EXECUTION_PROVIDERS: Readonly<Record<Device, readonly string[]>> = Object.freeze({
  webgpu: ['webgpu', 'wasm'],
  wasm: ['wasm'],
});

/**
 * int8 bundles: let onnxruntime fold DequantizeLinear of the weights into fp32 constants at session
 * creation, so that a frame does not dequantize them again; the cost is fp32 weights in memory.
 * `fold` false keeps them int8, for the plain conv base: its 14.7 M weights are few enough that
 * dequantizing them per frame costs a frame little, and its session's heap stays smaller.
 */
export function sessionExtras(
  manifest: BundleManifest,
  fold = true,
): Pick<ort.InferenceSession.SessionOptions, 'extra'> {
  return fold && manifest.quantization === 'int8' ? FOLD_INT8 : {};
}

const FOLD_INT8: Pick<ort.InferenceSession.SessionOptions, 'extra'> = {
  extra: { session: { disable_quant_qdq: '1' } },
};

export type ExternalFiles = { path: string; data: Uint8Array }[];

/** Shard files by name, as onnxruntime's `externalData` option takes them. */
export const externalFiles = (files: ReadonlyMap<string, Uint8Array>): ExternalFiles =>
  [...files].map(([path, data]) => ({ path, data }));

/** The graph's external-data files (the shards its initializers name), read and verified from the store. */
export async function externalData(
  store: BundleStore,
  id: string,
  manifest: BundleManifest,
  graph: Graph,
): Promise<ExternalFiles> {
  const names = new Set<string>();
  for (const init of graph.initializers.values()) if (init.external) names.add(init.external.location);
  return externalFiles(await readShards(store, id, manifest, names));
}

export type SessionOpener = (graph: Graph, data: ExternalFiles) => Promise<ort.InferenceSession>;

/** Creates a model's sessions on a device: the graph, and the external-data files it names (`fold`: sessionExtras). */
export function sessionOpener(device: Device, manifest: BundleManifest, fold = true): SessionOpener {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [...EXECUTION_PROVIDERS[device]],
    graphOptimizationLevel: 'all',
    ...sessionExtras(manifest, fold),
  };
  return (graph, data) => ort.InferenceSession.create(encodeModel(graph), { ...options, externalData: data });
}

/**
 * A live view's two sessions from the files in hand; with `reread` (WASM), the plain base becomes
 * Winograd on the second frame, its shards read again from the store (the bytes are not kept), once
 * for all the Winograd base's sessions.
 */
export function liveSessions(
  halves: Parameters<typeof LiveSessions.create>[0],
  open: SessionOpener,
  files: ReadonlyMap<string, Uint8Array>,
  reread: ((g: Graph) => Promise<ExternalFiles>) | undefined,
): Promise<LiveSessions> {
  const inHand = externalFiles(files);
  return LiveSessions.create(halves, (g) => open(g, inHand), reread && reopener(open, reread));
}

/**
 * The live view's ReopenBase, made outside liveSessions' scope: V8 gives the closures of one scope one
 * shared context, so a reopener made there would keep the files in hand (every shard of the model)
 * alive as long as the live view, which keeps its reopener.
 */
export const reopener =
  (open: SessionOpener, reread: (g: Graph) => Promise<ExternalFiles>) =>
  async (plain: Graph): Promise<(g: Graph) => Promise<ort.InferenceSession>> => {
    const files = await reread(plain);
    return (g) => open(g, files);
  };

/**
 * A graph builder's weights from a bundle (weightRefs), as a closure made here rather than in the
 * caller's scope, so that it keeps only what it names (`files`, when given, for the row sums).
 */
export const bundleWeights =
  (manifest: BundleManifest, parts: readonly PartName[], files?: ReadonlyMap<string, Uint8Array>) =>
  (b: GraphBuilder): WeightRef =>
    weightRefs(b, manifest, parts, files);

/**
 * Reads and verifies the shards of `parts` and opens the ImageNet live view on them (none for a
 * base-only bundle: Keras notop, or the head not downloaded); `onRead` once the head's shards are read.
 * The head's shards (124 MB int8) are read, opened on and collected before the base's are read, so
 * the two never add up on top of onnxruntime's heap. Each read is in a function of its own, with no
 * closure that names the bytes, so that nothing holds them once it returns: V8 gives a scope's
 * closures one shared context, and the live view keeps its reopener (the Insight its weights) as
 * long as the model is loaded.
 */
export async function openLive(
  store: BundleStore,
  manifest: BundleManifest,
  parts: readonly PartName[],
  device: Device,
  open: SessionOpener,
  reread: ((g: Graph) => Promise<ExternalFiles>) | undefined,
  onRead: () => void,
): Promise<LiveSessions | undefined> {
  if (!parts.includes('imagenet-head')) {
    await loadBundle(store, manifest.id, parts);
    onRead();
    return undefined;
  }
  const { graphs, back, gone } = await openBack(store, manifest, parts, device, open, onRead);
  await collected(gone);
  // On WASM the plain base keeps its weights int8 (sessionExtras): the Winograd base, if any, folds its own.
  const openPlain = device === 'wasm' ? sessionOpener(device, manifest, false) : open;
  // The back half is open already: create takes it as is (and releases it if the base fails to open).
  return LiveSessions.create(
    graphs,
    (g) => (g === graphs.back ? Promise.resolve(back) : openOnBase(g)),
    reread && reopener(open, reread),
  );

  async function openOnBase(g: Graph): Promise<ort.InferenceSession> {
    return openPlain(g, externalFiles((await loadBundle(store, manifest.id, ['base'])).files));
  }
}

/** The live graphs, built on the head's shards (its dense kernels' row sums; then `onRead`), and their back half opened. */
async function openBack(
  store: BundleStore,
  manifest: BundleManifest,
  parts: readonly PartName[],
  device: Device,
  open: SessionOpener,
  onRead: () => void,
): Promise<{ graphs: ReturnType<typeof buildLiveGraphs>; back: ort.InferenceSession; gone: Promise<void> }> {
  const { files } = await loadBundle(store, manifest.id, ['imagenet-head']);
  onRead();
  const graphs = buildLiveGraphs({
    cfg: manifest.architecture,
    weights: bundleWeights(manifest, parts, files),
    integerDense: device === 'wasm',
  });
  return { graphs, back: await open(graphs.back!, externalFiles(files)), gone: whenCollected(files.values()) };
}

/** The core runtime over onnxruntime-web: `preferred` is the device's execution providers (EXECUTION_PROVIDERS). */
export function ortRuntime(preferred: readonly string[] = EXECUTION_PROVIDERS.wasm): GraphRuntime {
  return {
    async create(graph: Graph, o: SessionOptions = {}): Promise<GraphSession> {
      const session = await ort.InferenceSession.create(encodeModel(graph), {
        executionProviders: [...(o.device === 'preferred' ? preferred : EXECUTION_PROVIDERS.wasm)],
        graphOptimizationLevel: 'all',
        ...(o.externalData ? { externalData: externalFiles(o.externalData) } : {}),
        ...(o.foldInt8 ? FOLD_INT8 : {}),
      });
      return graphSession(session);
    },
  };
}

/** A session as the core runtime's GraphSession (float32 and int64 feeds); `owned`: release() releases it. */
export function graphSession(session: LiveRunner & { release(): Promise<void> }, owned = true): GraphSession {
  return {
    async run(feeds) {
      const t: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds))
        t[k] =
          v.data instanceof BigInt64Array
            ? new ort.Tensor('int64', v.data, [...v.dims])
            : new ort.Tensor('float32', v.data, [...v.dims]);
      const out = await session.run(t);
      return Object.fromEntries(
        Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: v.data as Float32Array | BigInt64Array }]),
      );
    },
    release: async () => (owned ? session.release() : undefined),
  };
}
