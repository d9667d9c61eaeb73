/**
 * The e2e harness: a test server over the e2e build, and headless Chromium (puppeteer-core, Debian's
 * Chromium) with a fake camera playing fixture photos and a fresh profile per launch. Every page and
 * worker is watched: a request to any other origin, or any Content-Security-Policy violation, is
 * recorded and fails the test in `assertClean()`: the app works offline and leaks nothing to other
 * origins. `serveAndLaunch` gives a describe block both, started and closed around its tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type CDPSession, type Page, type Target } from 'puppeteer-core';
import { afterAll, beforeAll } from 'vitest';
import { serve, type ServeHandle, type ServeOptions } from '../../src/cli/serve';
import { BASE, DIST, MODEL_ID, MODELS, Y4M } from './paths';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// ---------------------------------------------------------------- server

export type Fault = (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;

export interface TestServer extends ServeHandle {
  /** Every path the server was asked for, in order. */
  paths: string[];
  /** Replace the current fault injector (undefined: serve normally). */
  fault?: Fault;
  /** The URL of a model bundle file, e.g. `modelUrl('base-001.bin')`. */
  modelPath(file: string): string;
  count(suffix: string): number;
}

export async function startServer(options: Partial<ServeOptions> = {}): Promise<TestServer> {
  const paths: string[] = [];
  let fault: Fault | undefined;
  const handle = await serve({
    dist: DIST,
    models: MODELS,
    port: 0,
    base: BASE,
    ...options,
    onRequest: (path) => void paths.push(path),
    intercept: (req, res, path) => fault?.(req, res, path) ?? false,
  });
  const server: TestServer = Object.assign(handle, {
    paths,
    modelPath: (file: string) => `${BASE}models/${MODEL_ID}/${file}`,
    count: (suffix: string) => paths.filter((p) => p.endsWith(suffix)).length,
  });
  Object.defineProperty(server, 'fault', { get: () => fault, set: (f: Fault | undefined) => (fault = f) });
  return server;
}

/** Answer `path` with `body` (status 200 unless given) instead of the real file. */
export function respondWith(
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string> = {},
  status = 200,
): Fault {
  return (_req, res, p) => {
    if (p !== path) return false;
    const bytes =
      typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    res.writeHead(status, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(bytes.length),
      'Cache-Control': 'no-store',
      'Cross-Origin-Resource-Policy': 'same-origin',
      ...headers,
    });
    res.end(bytes);
    return true;
  };
}

export const HTML_PAGE = '<!doctype html>\n<html><head><title>Not here</title></head><body>index</body></html>\n';

// ---------------------------------------------------------------- browser

export interface LaunchOptions {
  /** Extra Chromium flags. */
  args?: string[];
  /** Fake camera video (default: the fixture-photo Y4M). */
  y4m?: string;
  /** An existing profile folder (to reopen the same browser profile); default a fresh one. */
  userDataDir?: string;
}

export interface Session {
  browser: Browser;
  userDataDir: string;
  /** Requests from every page, worker and service worker, as full URLs. */
  requests: string[];
  /** The requests dedicated workers sent (e.g. the engine worker's runtime files), as full URLs. */
  workerRequests: string[];
  /** CSP violations and CSP console errors, from pages and workers. */
  violations: string[];
  /** Uncaught page errors and console errors, for diagnostics. */
  errors: string[];
  open(url: string): Promise<Page>;
  /** Fails when anything requested another origin than `origin`, or violated the CSP. */
  assertClean(origin: string): void;
  /** Closes the browser; removes the profile unless it was given or `keepProfile`. */
  close(keepProfile?: boolean): Promise<void>;
}

export async function launch(options: LaunchOptions = {}): Promise<Session> {
  const ownProfile = !options.userDataDir;
  const userDataDir = options.userDataDir ?? (await mkdtemp(join(tmpdir(), 'convlens-e2e-')));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir,
    // Pages and workers are watched through CDP below; puppeteer's own defaults stay out of the way.
    args: [
      '--no-sandbox',
      ...(options.args?.some((a) => a.includes('webgpu')) ? [] : ['--disable-gpu']),
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      '--no-default-browser-check',
      // Nothing outside 127.0.0.1 resolves: a stray request fails fast (and is still recorded).
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-video-capture=${options.y4m ?? Y4M}`,
      ...(options.args ?? []),
    ],
  });

  const requests: string[] = [];
  const workerRequests: string[] = [];
  const violations: string[] = [];
  const errors: string[] = [];

  const onConsole = (where: string, type: string, text: string) => {
    if (/Content Security Policy|Refused to (load|execute|create|connect|compile|apply)/i.test(text))
      violations.push(`${where}: ${text}`);
    else if (type === 'error') errors.push(`${where}: ${text}`);
  };

  /** Network and console of a CDP session (a page, a service worker, a dedicated worker). */
  const listen = async (session: CDPSession, type: string) => {
    session.on('Network.requestWillBeSent', (e: { request: { url: string } }) => {
      requests.push(e.request.url);
      if (type === 'worker') workerRequests.push(e.request.url);
    });
    session.on('Runtime.consoleAPICalled', (e: { type: string; args: { value?: unknown; description?: string }[] }) =>
      onConsole(type, e.type, e.args.map((a) => String(a.value ?? a.description ?? '')).join(' ')),
    );
    session.on(
      'Runtime.exceptionThrown',
      (e: { exceptionDetails: { text: string; exception?: { description?: string } } }) =>
        errors.push(`${type}: ${e.exceptionDetails.exception?.description ?? e.exceptionDetails.text}`),
    );
    session.on('Log.entryAdded', (e: { entry: { level: string; text: string } }) =>
      onConsole(type, e.entry.level, e.entry.text),
    );
    await Promise.all([
      session.send('Network.enable'),
      session.send('Runtime.enable'),
      session.send('Log.enable'),
    ]).catch(() => undefined);
  };
  /** Pages and service workers are browser targets; dedicated workers are watched per page (below). */
  const watch = async (target: Target) => {
    const type = target.type();
    if (type !== 'page' && type !== 'service_worker' && type !== 'shared_worker') return;
    try {
      await listen(await target.createCDPSession(), type);
    } catch {
      // Closed before we could attach.
    }
  };
  browser.on('targetcreated', (t: Target) => void watch(t));
  await Promise.all(browser.targets().map(watch));

  const open = async (url: string): Promise<Page> => {
    const page = await browser.newPage();
    // tsx/esbuild wrap named functions in `__name(…)`; functions sent through page.evaluate need the helper.
    await page.evaluateOnNewDocument('globalThis.__name = (fn) => fn;');
    // The DOM event catches violations the console might word differently.
    await page.exposeFunction('__e2eCspViolation', (text: string) => void violations.push(`page event: ${text}`));
    await page.evaluateOnNewDocument(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        const report = (window as unknown as { __e2eCspViolation(text: string): void }).__e2eCspViolation;
        report(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile}:${e.lineNumber}`);
      });
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err instanceof Error ? err.message : String(err)}`));
    page.on('request', (req) => void requests.push(req.url()));
    page.on('workercreated', (worker) => void listen(worker.client, 'worker').catch(() => undefined));
    await page.goto(url, { waitUntil: 'load' });
    return page;
  };

  return {
    browser,
    userDataDir,
    requests,
    workerRequests,
    violations,
    errors,
    open,
    assertClean(origin: string) {
      const foreign = [...new Set(requests)].filter((u) => {
        if (u.startsWith('data:') || u.startsWith('blob:')) return false;
        try {
          return new URL(u).origin !== origin;
        } catch {
          return true;
        }
      });
      if (foreign.length) throw new Error(`requests to other origins than ${origin}:\n  ${foreign.join('\n  ')}`);
      if (violations.length) throw new Error(`Content-Security-Policy violations:\n  ${violations.join('\n  ')}`);
    },
    async close(keepProfile = false) {
      await browser.close().catch(() => undefined);
      if (ownProfile && !keepProfile) await rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}

// ---------------------------------------------------------------- page helpers

/** The origin of a server URL (`http://127.0.0.1:port`). */
/** A test server and a browser for the enclosing describe block (or file): started before its tests, closed after. */
export function serveAndLaunch(
  server: Partial<ServeOptions> = {},
  browser: LaunchOptions = {},
): { readonly server: TestServer; readonly session: Session } {
  const env = {} as { server: TestServer; session: Session };
  beforeAll(async () => {
    env.server = await startServer(server);
    env.session = await launch(browser);
  });
  afterAll(async () => {
    await env.session?.close();
    await env.server?.close();
  });
  return env;
}

export const originOf = (url: string) => new URL(url).origin;

/** Waits until the page's service worker is active and controls the page. */
export async function waitForController(page: Page, timeout = 60_000): Promise<void> {
  await page.waitForFunction(() => navigator.serviceWorker.ready.then(() => true), { timeout });
  await page
    .waitForFunction(() => !!navigator.serviceWorker.controller, { timeout, polling: 100 })
    .catch(async () => {
      // The first visit is not controlled until a reload (clients.claim() may race the first load).
      await page.reload({ waitUntil: 'load' });
      await page.waitForFunction(() => !!navigator.serviceWorker.controller, { timeout, polling: 100 });
    });
}

export interface LibraryRecords {
  manifests: string[];
  shards: string[];
  ready: string[];
}

/** The raw IndexedDB records of the model library (what a fresh start would find): a page function, for any engine. */
export async function libraryRecords(): Promise<LibraryRecords> {
  // Opening a database that does not exist would create it empty (version 1, no stores) and break the app.
  if (!(await indexedDB.databases()).some((d) => d.name === 'convlens'))
    return { manifests: [], shards: [], ready: [] };
  return new Promise<{ manifests: string[]; shards: string[]; ready: string[] }>((resolve, reject) => {
    const req = indexedDB.open('convlens');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const names = ['manifests', 'shards', 'ready'].filter((n) => db.objectStoreNames.contains(n));
      if (names.length < 3) {
        db.close();
        return resolve({ manifests: [], shards: [], ready: [] });
      }
      const tx = db.transaction(names, 'readonly');
      const keys = (n: string) =>
        new Promise<IDBValidKey[]>((ok, fail) => {
          const r = tx.objectStore(n).getAllKeys();
          r.onsuccess = () => ok(r.result);
          r.onerror = () => fail(r.error);
        });
      Promise.all([keys('manifests'), keys('shards'), keys('ready')])
        .then(([m, s, r]) => {
          db.close();
          resolve({
            manifests: m.map(String),
            shards: s.map((k) => String((k as string[])[1])).sort(),
            ready: r.map(String),
          });
        })
        .catch(reject);
    };
  });
}

/** The model library's raw IndexedDB records, read in the page. */
export function readLibraryDb(page: Page): Promise<LibraryRecords> {
  return page.evaluate(libraryRecords);
}

/** Waits until the app's engine is ready and the demo download button can be pressed, then presses it. */
export async function clickDownload(page: Page, timeout = 90_000): Promise<void> {
  const button = await page.waitForSelector('[data-testid=download-demo]:not([disabled])', { timeout });
  await button!.click();
}

/** Waits for live results on the fake camera: the top-5 list shows percentages. */
export async function waitForPredictions(page: Page, timeout = 120_000): Promise<string> {
  await page.waitForFunction(() => /\d\s?%/.test(document.querySelector('[data-testid=top5]')?.textContent ?? ''), {
    timeout,
    polling: 250,
  });
  return page.$eval('[data-testid=top5]', (e) => e.textContent ?? '');
}

/** Waits for the error banner and returns its error name and text. */
export async function waitForError(page: Page, timeout = 90_000): Promise<{ name: string; text: string }> {
  const banner = await page.waitForSelector('[data-testid=error]', { timeout });
  return banner!.evaluate((e) => ({ name: e.getAttribute('data-error-name') ?? '', text: e.textContent ?? '' }));
}

/** Counts distinct colours on the overlay canvas: a real heatmap has many, a blank one few. */
export async function heatmapColours(page: Page): Promise<number> {
  const handle = await page.waitForFunction(
    () => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid=overlay-canvas]');
      const ctx = c?.getContext('2d');
      if (!c || !ctx || !c.width) return 0;
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 16) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
      return seen.size > 20 ? seen.size : 0;
    },
    { timeout: 60_000, polling: 250 },
  );
  return (await handle.jsonValue()) as number;
}
