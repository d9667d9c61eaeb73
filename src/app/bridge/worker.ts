/**
 * The engine worker's one construction site. Webpack recognises this exact `new Worker(new URL(…,
 * import.meta.url))` form and emits the worker as its own chunk; tests never import this file.
 */
import type { WorkerLike } from './lifecycle';

export function createEngineWorker(): WorkerLike {
  return new Worker(new URL('../../../workers/engine/index.ts', import.meta.url), { type: 'module', name: 'engine' });
}
