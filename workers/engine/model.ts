/**
 * A loaded model's sessions: the ImageNet live view (two sessions, live.ts) and the Insight that builds
 * the Inside screen's graphs on demand. The engine opens them at loadModel, releases them while a
 * training runs (onnxruntime's WASM heap never shrinks, but its free space is reused: training's
 * sessions take the live view's place instead of adding to it) and opens them again after.
 */
import type { BundleManifest, BundleStore, PartName } from '../../src/core/bundle/manifest';
import type { Graph } from '../../src/core/onnx/ir';
import { camKey, Insight } from '../../src/core/insight';
import { collectShardGarbage } from './collect';
import type { LiveSessions } from './live';
import type { Device } from './protocol';
import { bundleWeights, externalData, graphSession, openLive, sessionOpener } from './sessions';

export interface ModelSessions {
  /** The ImageNet live sessions; absent for a base-only bundle (a custom classifier provides one). */
  live: LiveSessions | undefined;
  insight: Insight;
}

/** A custom classifier's live session, valid for the manifest it was built on. */
export interface Custom {
  manifest: BundleManifest;
  labels: readonly string[];
  /** Absent while released (a training runs, or has run since): opened again on the next frame. */
  session: LiveSessions | undefined;
  /** The session being opened again. */
  opening?: Promise<LiveSessions>;
  size: number;
  bytes: Uint8Array;
}

export interface Loaded {
  manifest: BundleManifest;
  labels: readonly string[];
  /** Absent while released (a training runs, or has run since): opened again when next needed. */
  sessions: ModelSessions | undefined;
  parts: PartName[];
}

/** What a frame runs: the custom classifier's session when one is in use for the model, else the ImageNet one. */
export interface Runner {
  manifest: BundleManifest;
  labels: readonly string[];
  session: LiveSessions;
  size: number;
}

export interface ModelToOpen {
  store: BundleStore;
  manifest: BundleManifest;
  parts: readonly PartName[];
  labels: readonly string[];
  device: Device;
  /** Whether convolutions run as Winograd (Engine.winograd). */
  winograd: boolean;
}

/** Opens the live view on the model's shards (`onRead` once the head's are read) and its Insight. */
export async function openModel(m: ModelToOpen, onRead: () => void = () => {}): Promise<ModelSessions> {
  const { store, manifest, parts, device, winograd } = m;
  const id = manifest.id;
  const open = sessionOpener(device, manifest);
  const live = await openLive(
    store,
    manifest,
    parts,
    device,
    open,
    winograd ? (g) => externalData(store, id, manifest, g) : undefined,
    onRead,
  );
  collectShardGarbage();
  // onnxruntime copies external data into its own memory at session creation, so the shard bytes
  // are not kept here (138 MB int8, 553 MB fp32): an insight graph, built on first use, re-reads
  // (and re-verifies) just the shards it names.
  const openOnShards = async (g: Graph) => graphSession(await open(g, await externalData(store, id, manifest, g)));
  const insight = new Insight({
    cfg: manifest.architecture,
    preprocessing: manifest.preprocessing,
    labels: m.labels,
    weights: bundleWeights(manifest, parts),
    open: async (g) => {
      const opened = await openOnShards(g);
      collectShardGarbage();
      return opened;
    },
    winograd,
    // The live graph is explain's default graph: shared, not built twice.
    preset: live ? { [camKey('gradcam', 'block5_conv3')]: graphSession(live, false) } : {},
  });
  return { live, insight };
}

/** Releases a model's sessions: the Insight's first (it shares the live one), then the live view's. */
export async function releaseModel(s: ModelSessions | undefined): Promise<void> {
  await s?.insight.dispose();
  await s?.live?.release();
}
