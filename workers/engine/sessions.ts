/**
 * How the engine's graphs become onnxruntime-web sessions: the execution providers per device, the
 * session options an int8 bundle needs, the external-data files a graph names, the two-session live
 * view, and the insight code's GraphSession view of a session.
 */
import * as ort from 'onnxruntime-web';
import { readShards } from '../../src/core/bundle/load';
import type { BundleManifest, BundleStore } from '../../src/core/bundle/manifest';
import type { GraphSession } from '../../src/core/insight';
import { encodeModel } from '../../src/core/onnx/encode';
import type { Graph } from '../../src/core/onnx/ir';
import { LiveSessions, type LiveRunner } from './live';
import type { Device } from './protocol';

/** Device → onnxruntime-web execution providers, the one place that maps them. */
export const EXECUTION_PROVIDERS: Readonly<Record<Device, readonly string[]>> = Object.freeze({
  webgpu: ['webgpu', 'wasm'],
  wasm: ['wasm'],
});

/**
 * int8 bundles: let onnxruntime fold DequantizeLinear of the weights into fp32 constants at session
 * creation. Otherwise it keeps the DequantizeLinear nodes and re-dequantizes 138 M weights on every
 * frame (measured: 402 vs 274 ms per live frame in Node WASM); the cost is fp32 weights in memory.
 */
export function sessionExtras(manifest: BundleManifest): Pick<ort.InferenceSession.SessionOptions, 'extra'> {
  return manifest.quantization === 'int8' ? { extra: { session: { disable_quant_qdq: '1' } } } : {};
}

export type ExternalFiles = { path: string; data: Uint8Array }[];

/** Shard files by name, as onnxruntime's `externalData` option takes them. */
const asExternal = (files: ReadonlyMap<string, Uint8Array>): ExternalFiles =>
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
  return asExternal(await readShards(store, id, manifest, names));
}
type SessionOpener = (graph: Graph, data: ExternalFiles) => Promise<ort.InferenceSession>;

/** Creates a model's sessions on a device: the graph, and the external-data files it names. */
export function sessionOpener(device: Device, manifest: BundleManifest): SessionOpener {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: [...EXECUTION_PROVIDERS[device]],
    graphOptimizationLevel: 'all',
    ...sessionExtras(manifest),
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
  const inHand = asExternal(files);
  return LiveSessions.create(
    halves,
    (g) => open(g, inHand),
    reread &&
      (async (plain) => {
        const files = await reread(plain);
        return (g) => open(g, files);
      }),
  );
}

/** An onnxruntime-web session for a graph, as the insight code's GraphSession. */
export async function openGraph(
  graph: Graph,
  options: ort.InferenceSession.SessionOptions = {},
): Promise<GraphSession> {
  return graphSession(await ort.InferenceSession.create(encodeModel(graph), options));
}

/** A session as the insight code's GraphSession (float32 and int64 feeds); `owned`: release() releases it. */
export function graphSession(session: LiveRunner & { release(): Promise<void> }, owned = true): GraphSession {
  return {
    async run(feeds) {
      const t: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds))
        t[k] =
          v.data instanceof BigInt64Array
            ? new ort.Tensor('int64', v.data, v.dims)
            : new ort.Tensor('float32', v.data, v.dims);
      const out = await session.run(t);
      return Object.fromEntries(
        Object.entries(out).map(([k, v]) => [k, { dims: [...v.dims], data: v.data as Float32Array | BigInt64Array }]),
      );
    },
    release: async () => (owned ? session.release() : undefined),
  };
}
