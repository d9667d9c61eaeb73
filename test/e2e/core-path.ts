/**
 * The e2e core path for any engine (engines.ts): install (the page loads and its service worker takes
 * control), download the demo bundle (the TINY_VGG e2e bundle) into IndexedDB, a live frame with a heatmap
 * on the engine's fake camera, train a tiny two-class classifier from camera photos, and reopen offline
 * (server stopped: the page from the service worker, the model and classifier from IndexedDB). Each step
 * drives the real UI with page functions and answers what it saw, for the engine's test to assert.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EngineDriver } from './engines';
import { libraryRecords, type LibraryRecords } from './harness';

const SHOTS = '.e2e/screenshots';
export const CLASSES = ['alpha', 'beta'];
const PHOTOS_PER_CLASS = 3;

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls the page function `fn` until it answers something truthy; fails with `what` after `timeout` ms. */
export async function waitFor<A extends unknown[], T>(
  d: EngineDriver,
  what: string,
  timeout: number,
  fn: (...args: A) => T,
  ...args: A
): Promise<Truthy<Awaited<T>>> {
  const end = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await d.run(fn, ...args);
      if (v) return v as Truthy<Awaited<T>>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      const screen = await d
        .run(() => (document.querySelector('main') ?? document.body).innerText.replace(/\s+/g, ' ').slice(0, 600))
        .catch(() => '');
      throw new Error(
        `${d.name}: no ${what} after ${timeout / 1000} s; on screen: ${screen}` +
          `${last ? `; last error: ${String(last)}` : ''}${d.errors.length ? `; page errors: ${d.errors.join(' | ')}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

const text = (d: EngineDriver, testId: string) =>
  d.run((id: string) => document.querySelector(`[data-testid=${id}]`)?.textContent ?? '', testId);

/** Clicks an enabled element once it exists (an element.click(): detail 0, i.e. a keyboard-like press). */
async function click(d: EngineDriver, selector: string, timeout = 30_000): Promise<void> {
  await waitFor(
    d,
    `enabled ${selector}`,
    timeout,
    (q: string) => {
      const el = document.querySelector<HTMLButtonElement>(q);
      if (!el || el.disabled) return false;
      el.click();
      return true;
    },
    selector,
  );
}

/** Sets an input's value and fires the event the component listens to. */
const setInput = (d: EngineDriver, testId: string, value: string, event: 'input' | 'change') =>
  d.run(
    (id: string, v: string, ev: string) => {
      const el = document.querySelector<HTMLInputElement>(`[data-testid=${id}]`)!;
      el.value = v;
      el.dispatchEvent(new Event(ev, { bubbles: true }));
    },
    testId,
    value,
    event,
  );

async function shot(d: EngineDriver, name: string) {
  await mkdir(SHOTS, { recursive: true });
  await d.screenshot(join(SHOTS, `${d.name.toLowerCase()}-${name}.png`));
}

export interface Installed {
  controller: string;
  isolated: boolean;
  sharedMemory: boolean;
  webgpu: boolean;
  deviceMemory: number | null;
  storageEstimate: boolean;
  /** The header's backend text, e.g. "WASM · 2 threads". */
  backend: string;
  /** The memory saver toggle's state once the engine is ready. */
  memorySaver: string | null;
}

/** Opens the app and waits until its service worker controls it (a reload when the first visit is not). */
export async function install(d: EngineDriver, url: string): Promise<Installed> {
  await d.goto(url);
  await waitFor(d, 'active service worker', 60_000, () =>
    navigator.serviceWorker.getRegistration().then((r) => r?.active?.state === 'activated'),
  );
  if (!(await d.run(() => !!navigator.serviceWorker.controller))) await d.reload();
  const controller = await waitFor(
    d,
    'service worker control',
    30_000,
    () => navigator.serviceWorker.controller?.scriptURL,
  );
  const backend = await waitFor(d, 'engine ready', 90_000, () => {
    const t = document.querySelector('[data-testid=backend]')?.textContent ?? '';
    return /thread/.test(t) && t;
  });
  const facts = await d.run(() => ({
    isolated: globalThis.crossOriginIsolated === true,
    sharedMemory: typeof SharedArrayBuffer === 'function',
    webgpu: 'gpu' in navigator,
    deviceMemory: (navigator as Navigator & { deviceMemory?: number }).deviceMemory ?? null,
    storageEstimate: typeof navigator.storage?.estimate === 'function',
    memorySaver: document.querySelector('[data-testid=memory-saver]')?.getAttribute('aria-pressed') ?? null,
  }));
  await shot(d, 'install');
  return { controller, backend, ...facts };
}

/** Waits for live results on the camera: the top list shows percentages (and every name in `names`). */
export const waitForTop = (d: EngineDriver, names: string[] = [], timeout = 120_000) =>
  waitFor(
    d,
    `live predictions${names.length ? ` of ${names.join(', ')}` : ''}`,
    timeout,
    (n: string[]) => {
      const t = document.querySelector('[data-testid=top5]')?.textContent ?? '';
      return /\d\s?%/.test(t) && n.every((name) => t.includes(name)) && t;
    },
    names,
  );

/**
 * Presses the demo download and waits for the first live predictions; answers the library's records and
 * whether the browser made the origin's storage persistent (the app asks when a download starts; null:
 * the browser has no `navigator.storage`).
 */
export async function download(
  d: EngineDriver,
): Promise<{ top: string; db: LibraryRecords; persisted: boolean | null }> {
  await click(d, '[data-testid=download-demo]', 90_000);
  const top = await waitForTop(d);
  const persisted = await d.run(async () => (await navigator.storage?.persisted?.()) ?? null);
  return { top, db: await d.run(libraryRecords), persisted };
}

/** Distinct colours on the heatmap overlay (a real map has many) and whether the frame counter moves. */
export async function liveFrame(d: EngineDriver): Promise<{ colours: number; advanced: boolean }> {
  const colours = await waitFor(d, 'a heatmap with more than 20 colours', 60_000, () => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid=overlay-canvas]');
    const ctx = c?.getContext('2d');
    if (!c || !ctx || !c.width) return 0;
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < px.length; i += 16) seen.add((px[i]! << 16) | (px[i + 1]! << 8) | px[i + 2]!);
    return seen.size > 20 ? seen.size : 0;
  });
  const before = await text(d, 'ms');
  const advanced = await waitFor(
    d,
    'a new frame',
    60_000,
    (b: string) => document.querySelector('[data-testid=ms]')?.textContent !== b,
    before,
  );
  await shot(d, 'live');
  return { colours, advanced };
}

/** Presses the header's memory saver until it reads `on`; answers whether frames flow after the engine's restart. */
export async function memorySaver(d: EngineDriver, on: boolean): Promise<boolean> {
  await click(d, '[data-testid=memory-saver]');
  await waitFor(
    d,
    `memory saver ${on ? 'on' : 'off'}`,
    60_000,
    (v: string) => !!document.querySelector(`[data-testid=memory-saver][aria-pressed="${v}"]`),
    String(on),
  );
  const before = await text(d, 'ms');
  return waitFor(
    d,
    'a frame after the restart',
    90_000,
    (b: string) => document.querySelector('[data-testid=ms]')?.textContent !== b,
    before,
  );
}

/** Two classes of camera photos, a short head-only run, then the live view on the new classifier. */
export async function trainTiny(d: EngineDriver): Promise<{ status: string; classifiers: number; top: string }> {
  await click(d, '[data-testid=view-train]');
  await waitFor(d, 'the training screen', 30_000, () => !!document.querySelector('[data-testid=train-screen]'));
  for (const name of CLASSES) {
    await setInput(d, 'class-name', name, 'input');
    await click(d, '[data-testid=class-add]');
    await waitFor(
      d,
      `class ${name}`,
      10_000,
      (n: string) => !!document.querySelector(`[data-testid=class-${n}][aria-pressed=true]`),
      name,
    );
    for (let i = 1; i <= PHOTOS_PER_CLASS; i++) {
      await click(d, '[data-testid=capture]');
      await waitFor(
        d,
        `photo ${i} of ${name}`,
        30_000,
        (n: number) => document.querySelectorAll('[data-testid=thumb]').length === n,
        i,
      );
      await new Promise((r) => setTimeout(r, 300)); // let the fake camera move on
    }
  }
  await setInput(d, 'setting-variants', '2', 'change');
  await setInput(d, 'setting-epochs', '8', 'change');
  await click(d, '[data-testid=train]');
  await waitFor(d, 'a training result', 180_000, () => !!document.querySelector('[data-testid=train-result]'));
  const status = await text(d, 'train-status');
  const classifiers = await d.run(() => document.querySelectorAll('[data-testid=classifier]').length);
  await shot(d, 'train');
  await click(d, '[data-testid=view-live]');
  const top = await waitForTop(d, CLASSES, 60_000);
  return { status, classifiers, top };
}

/** With the server already stopped: a reload comes from the service worker, model and classifier from IndexedDB. */
export async function reopenOffline(
  d: EngineDriver,
): Promise<{ controlled: boolean; top: string; db: LibraryRecords }> {
  await d.reload();
  const top = await waitForTop(d, CLASSES);
  const controlled = await d.run(() => !!navigator.serviceWorker.controller);
  await shot(d, 'offline');
  return { controlled, top, db: await d.run(libraryRecords) };
}
