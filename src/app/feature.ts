/**
 * What a feature controller (training, insight) gets from the app controller: the store, the engine
 * (any EngineApi call, crash-safe through the bridge) and stills from the camera. Each feature keeps its
 * own state slice (src/app/<feature>/state.ts) and its own controller; this is the only seam between them.
 */
import type * as Comlink from 'comlink';
import type { EngineApi } from '../../workers/engine/protocol';
import type { Store } from './store';

export interface FeatureContext {
  store: Store;
  /** Dispatch that is a no-op after the app controller was disposed. */
  dispatch: Store['dispatch'];
  /**
   * Run a call on the engine worker; a crash rejects it with WorkerCrashError (the worker restarts).
   * Callbacks must be wrapped with Comlink.proxy and big buffers with Comlink.transfer by the caller.
   */
  engine<T>(fn: (remote: Comlink.Remote<EngineApi>) => Promise<T>, timeoutMs?: number): Promise<T>;
  /** A still of the camera (cropped/scaled so its short side is `size`), when the camera is live. */
  grabStill(size: number): Promise<ImageBitmap | undefined>;
  now(): number;
  /** Small persistent settings (localStorage in the browser). */
  settings: { get(key: string): string | undefined; set(key: string, value: string): void };
}
