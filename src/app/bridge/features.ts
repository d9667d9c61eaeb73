/**
 * The engine as the feature controllers (training, insight) call it: plain arguments and callbacks,
 * crash-safe through the bridge. Only the bridge knows Comlink: here callbacks become proxies and
 * frames, photos and classifier files are transferred, not copied (the caller must not use them after).
 */
import * as Comlink from 'comlink';
import type { EngineApi, InsightApi, TrainApi } from '../../../workers/engine/protocol';
import { frameTransferables } from './bridge';

/** `T`'s methods as a worker call sees them: every result a promise. */
type Async<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/** What the feature controllers may ask of the engine. */
export type FeatureEngine = Async<InsightApi & TrainApi>;

/** Runs one call on the engine worker (Bridge.request). */
export type EngineRequest = <T>(fn: (remote: Comlink.Remote<EngineApi>) => Promise<T>) => Promise<T>;

const proxy = <F extends object>(f: F | undefined) => f && Comlink.proxy(f);

export function featureEngine(request: EngineRequest): FeatureEngine {
  return {
    insightLayers: () => request((r) => r.insightLayers()),
    activations: (frame, layer) =>
      request((r) => r.activations(Comlink.transfer(frame, frameTransferables(frame)), layer)),
    filters: (req, onProgress) => request((r) => r.filters(req, proxy(onProgress))),
    explain: (frame, options) => request((r) => r.explain(frame, options)),
    deletion: (frame, req) => request((r) => r.deletion(frame, req)),
    extractFeatures: (req, onProgress) => request((r) => r.extractFeatures(req, proxy(onProgress))),
    train: (req, onProgress, onCheckpoint) => {
      const photos = req.photos.flatMap((p) => (p.image ? frameTransferables(p.image) : []));
      return request((r) => r.train(Comlink.transfer(req, photos), proxy(onProgress), proxy(onCheckpoint)));
    },
    cancelTraining: () => request((r) => r.cancelTraining()),
    useClassifier: (bytes) =>
      request((r) => r.useClassifier(bytes && Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]))),
    exportClassifier: () => request((r) => r.exportClassifier()),
    forgetFeatures: (photoIds) => request((r) => r.forgetFeatures(photoIds)),
  };
}
