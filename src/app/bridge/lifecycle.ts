/**
 * One engine worker's life: creating its Comlink endpoint, hearing its uncaught errors and database
 * notices, and killing it so that every pending call rejects. The bridge decides when to start and stop one.
 */
import * as Comlink from 'comlink';
import type { EngineApi } from '../../../workers/engine/protocol';

/** The parts of a Worker the bridge uses; tests pass a fake. */
export interface WorkerLike extends Comlink.Endpoint {
  terminate(): void;
}

/**
 * What the engine worker posts outside Comlink when its IndexedDB connection changes (mirrors DbEvent in
 * workers/engine/library/db.ts): another tab upgraded the schema (`blocking`), an old tab blocks our
 * upgrade (`blocked`), or the browser closed the database (`terminated`).
 */
export interface DbEvent {
  type: 'convlens:db';
  event: 'blocking' | 'blocked' | 'terminated';
  message: string;
}

export function isDbEvent(data: unknown): data is DbEvent {
  const d = data as Partial<DbEvent> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    d.type === 'convlens:db' &&
    (d.event === 'blocking' || d.event === 'blocked' || d.event === 'terminated') &&
    typeof d.message === 'string'
  );
}

/** The worker died, hung or was stopped while a call was pending. */
export class WorkerCrashError extends Error {
  override name = 'WorkerCrashError';
}

/** Errors that leave the worker unusable: a trapped/aborted WebAssembly module, or our own crash signal. */
export function isCrash(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { name, message } = err as { name?: unknown; message?: unknown };
  if (name === 'WorkerCrashError' || name === 'RuntimeError') return true;
  return typeof message === 'string' && /Aborted\(|out of memory|memory access out of bounds/i.test(message);
}

export interface Generation {
  worker: WorkerLike;
  remote: Comlink.Remote<EngineApi>;
  /** Rejects (never resolves) when this worker is given up; every pending call races it. */
  lost: Promise<never>;
  kill(reason: string): void;
  dead: boolean;
}

/** What a worker reports; `gen` says which worker, so a stale one is ignored. */
export interface GenerationEvents {
  /** An uncaught error in the worker, worded for the restart notice. */
  onError(gen: Generation, reason: string): void;
  onDbEvent(gen: Generation, event: DbEvent): void;
}

export function spawnGeneration(worker: WorkerLike, events: GenerationEvents): Generation {
  let fail: (err: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => (fail = reject));
  lost.catch(() => {}); // observed by the calls that race it; never an unhandled rejection
  const gen: Generation = {
    worker,
    remote: Comlink.wrap<EngineApi>(worker),
    lost,
    dead: false,
    kill: (reason) => {
      if (gen.dead) return;
      gen.dead = true;
      worker.removeEventListener('error', onError);
      worker.removeEventListener('message', onMessage);
      worker.terminate();
      fail(new WorkerCrashError(`the engine stopped: ${reason}`));
    },
  };
  // An uncaught error in a worker kills its event loop's usefulness (and often the WASM module with it).
  const onError = (ev: Event): void => {
    const message = (ev as ErrorEvent).message;
    events.onError(gen, message ? `worker error: ${message}` : 'worker error');
  };
  // Comlink ignores messages without its ids; these are the library's own notices.
  const onMessage = (ev: Event): void => {
    const data = (ev as MessageEvent).data;
    if (isDbEvent(data)) events.onDbEvent(gen, data);
  };
  worker.addEventListener('error', onError);
  worker.addEventListener('message', onMessage);
  return gen;
}
