/**
 * The e2e test page (built only with `--env e2e` as e2e.html, never shipped): starts the engine worker
 * exactly as the UI does and puts a small driver on `window.convlens`, so puppeteer's page.evaluate
 * can call the engine through Comlink without going through the UI. It also registers the service
 * worker and records CSP violations, like the app page.
 */
import * as Comlink from 'comlink';
import type { DownloadRequest, EngineApi, Progress, StoredModel } from '../../../workers/engine/protocol';

export interface Outcome<T> {
  ok: boolean;
  value?: T;
  error?: { name: string; message: string };
  progress: Progress[];
}

export interface E2eDriver {
  engine: Comlink.Remote<EngineApi>;
  /** Resolves when the service worker is active (its registration's `ready`). */
  swReady: Promise<boolean>;
  /** Messages the engine worker posted outside Comlink (e.g. storage version changes). */
  workerEvents: unknown[];
  download(request: DownloadRequest): Promise<Outcome<StoredModel>>;
  verify(id: string): Promise<Outcome<StoredModel>>;
  call<K extends keyof EngineApi>(method: K, ...args: unknown[]): Promise<Outcome<unknown>>;
}

declare global {
  interface Window {
    convlens: E2eDriver;
  }
}

const worker = new Worker(new URL('../../../workers/engine/index.ts', import.meta.url), {
  type: 'module',
  name: 'engine',
});
const engine = Comlink.wrap<EngineApi>(worker);
const workerEvents: unknown[] = [];
worker.addEventListener('message', (e: MessageEvent<unknown>) => {
  const data = e.data as { type?: unknown } | null;
  if (data && typeof data.type === 'string' && data.type.startsWith('convlens:')) workerEvents.push(data);
});

async function outcome<T>(run: (onProgress: (p: Progress) => void) => Promise<T>): Promise<Outcome<T>> {
  const progress: Progress[] = [];
  try {
    const value = await run(Comlink.proxy((p: Progress) => void progress.push(p)));
    return { ok: true, value, progress };
  } catch (err) {
    const { name, message } = err as { name?: string; message?: string };
    return { ok: false, error: { name: name ?? 'Error', message: message ?? String(err) }, progress };
  }
}

const swReady: Promise<boolean> =
  'serviceWorker' in navigator
    ? navigator.serviceWorker
        .register(new URL('sw.js', document.baseURI))
        .then(() => navigator.serviceWorker.ready.then(() => true))
    : Promise.resolve(false);

window.convlens = {
  engine,
  swReady,
  workerEvents,
  download: (request) => outcome((onProgress) => engine.downloadModel(request, onProgress)),
  verify: (id) => outcome((onProgress) => engine.verifyModel(id, onProgress)),
  call: (method, ...args) =>
    outcome(() => (engine[method] as unknown as (...a: unknown[]) => Promise<unknown>)(...args)),
};
document.body.dataset.e2eReady = 'true';
