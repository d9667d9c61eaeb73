/**
 * Selectors: values the components and the controller derive from the state (state.ts), never stored in it.
 */
import type { StoredModel } from '../../workers/engine/protocol';
import { DEMO_MODEL_ID } from './library/state';
import type { AppState } from './state';

/** Results per second over the recent window; 0 until two results arrived. */
export function selectFps(state: AppState): number {
  const t = state.live.times;
  if (t.length < 2) return 0;
  const span = t[t.length - 1]! - t[0]!;
  return span > 0 ? ((t.length - 1) * 1000) / span : 0;
}

/** Busy with something a version swap would break (never during a download). */
export function selectBusy(state: AppState): boolean {
  return state.download.status === 'running' || state.download.status === 'cancelling' || state.job !== undefined;
}

export function selectShowUpdate(state: AppState): boolean {
  return state.update === 'available' && !selectBusy(state);
}

/** Models whose base verified completely and can be used. */
export function selectReadyModels(state: AppState): StoredModel[] {
  return state.library.models.filter((m) => m.ready);
}

export interface StorageNeed {
  /** Bytes still to download (0 when unknown). */
  needed: number;
  /** quota − usage, when the browser said. */
  available?: number;
  /** False only when both are known and the download cannot fit. */
  fits: boolean;
}

/** What the demo download still needs against what the browser offers, checked before the first byte is stored. */
export function selectDemoStorage(state: AppState): StorageNeed {
  const stored = state.library.models.find((m) => m.id === DEMO_MODEL_ID);
  const total =
    (state.download.status !== 'idle' && state.download.id === DEMO_MODEL_ID ? state.download.progress?.total : 0) ||
    state.library.demoBytes ||
    (stored ? stored.parts.reduce((s, p) => s + p.bytes, 0) : 0);
  const have = stored ? stored.parts.reduce((s, p) => s + p.stored, 0) : 0;
  const needed = Math.max(total - have, 0);
  const est = state.library.storage;
  const available = est ? Math.max(est.quota - est.usage, 0) : undefined;
  return {
    needed,
    ...(available === undefined ? {} : { available }),
    fits: available === undefined || needed <= available,
  };
}

/** The model to load at start-up: the last one used if it is ready, else a ready pretrained one, else any ready one. */
export function pickStartupModel(models: StoredModel[], lastUsed: string | undefined): string | undefined {
  const ready = models.filter((m) => m.ready);
  return ready.find((m) => m.id === lastUsed)?.id ?? ready.find((m) => m.pretrained)?.id ?? ready[0]?.id;
}

/** The demo badge: a loaded model whose weights are the seeded demo ones. */
export function selectDemoWeights(state: AppState): boolean {
  return state.model.status === 'ready' && !state.model.info.pretrained;
}

/** Bytes per second of the running download since its run began, and seconds left; undefined until 1 s passed. */
export function selectTransferRate(state: AppState): { rate?: number; eta?: number } {
  const d = state.download;
  if (d.status === 'idle' || !d.since || d.at === undefined || !d.progress) return {};
  const seconds = (d.at - d.since.at) / 1000;
  const bytes = d.progress.done - d.since.done;
  if (seconds < 1 || bytes <= 0) return {};
  const rate = bytes / seconds;
  const left = d.progress.total - d.progress.done;
  return { rate, ...(d.progress.total > 0 && left >= 0 ? { eta: left / rate } : {}) };
}
