/**
 * What a feature controller (training, insight) gets from the app controller: the store, the engine
 * (its training and insight calls, crash-safe through the bridge) and stills from the camera. Each feature keeps its
 * own state slice (src/app/<feature>/state.ts) and its own controller; this is the only seam between them.
 */
import type { FeatureEngine } from './bridge/features';
import type { Store } from './store';

export interface FeatureContext {
  store: Store;
  /** Dispatch that is a no-op after the app controller was disposed. */
  dispatch: Store['dispatch'];
  /**
   * The engine worker's training and insight calls; a crash rejects a call with WorkerCrashError (the
   * worker restarts). Frames, photos and classifier files passed in are transferred: do not reuse them.
   */
  engine: FeatureEngine;
  /** A still of the camera (cropped/scaled so its short side is `size`), when the camera is live. */
  grabStill(size: number): Promise<ImageBitmap | undefined>;
  now(): number;
  /** Small persistent settings (localStorage in the browser). */
  settings: { get(key: string): string | undefined; set(key: string, value: string): void };
}
