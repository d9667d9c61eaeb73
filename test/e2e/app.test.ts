/**
 * The PWA in Chromium, served under a sub-path: installable, controlled by its service worker,
 * cross-origin isolated (WASM threads), the demo model downloaded and running on the fake camera,
 * then offline — a reload and a cold start with the server stopped — and
 * a new version that waits for the user. Another origin never sees a request; the CSP is
 * never violated.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  clickDownload,
  heatmapColours,
  launch,
  originOf,
  readLibraryDb,
  respondWith,
  serveAndLaunch,
  waitForController,
  waitForPredictions,
} from './harness';
import { BASE, DIST, MODEL_ID } from './paths';
import { ORT_BUILDS } from '../../workers/engine/runtime';

/** Screenshots for a person to look at (gitignored). */
const SHOTS = '.e2e/screenshots';

describe('the app on a host that sends COOP/COEP', () => {
  const env = serveAndLaunch();
  let page: Page;
  let origin: string;

  beforeAll(async () => {
    origin = originOf(env.server.url);
  });

  it('is installable, controlled by its service worker, and cross-origin isolated with WASM threads', async () => {
    page = await env.session.open(env.server.url);
    await waitForController(page);
    const cdp = await page.createCDPSession();
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(installabilityErrors).toEqual([]);
    const manifest = await cdp.send('Page.getAppManifest');
    expect(manifest.errors).toEqual([]);
    expect(manifest.url).toBe(`${origin}${BASE}manifest.webmanifest`);

    const state = await page.evaluate(() => ({
      isolated: crossOriginIsolated,
      scope: navigator.serviceWorker.controller?.scriptURL,
      threads: Math.min(navigator.hardwareConcurrency, 4),
    }));
    expect(state.isolated).toBe(true);
    expect(state.scope).toBe(`${origin}${BASE}sw.js`);
    const backend = await page.waitForFunction(
      () => document.querySelector('[data-testid=backend]')?.textContent?.match(/(\d+) threads?/)?.[1],
      {
        timeout: 60_000,
      },
    );
    expect(Number(await backend.jsonValue())).toBe(state.threads);
    env.session.assertClean(origin);
  });

  it('downloads the demo model, verifies it, and runs it live on the fake camera', async () => {
    await page.waitForSelector('[data-testid=download-demo]', { timeout: 60_000 });
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'download-screen.png') });
    await clickDownload(page);
    const top5 = await waitForPredictions(page);
    expect(top5).toMatch(/%/);
    const db = await readLibraryDb(page);
    expect(db.ready).toEqual([MODEL_ID]);
    expect(db.shards).toHaveLength(5);
    for (const f of db.shards) expect(env.server.count(`/${f}`)).toBe(1);
    // On WASM the engine loads onnxruntime-web's WASM-only build, never JSEP's twice larger one.
    const runtime = env.session.workerRequests.filter((u) => u.includes('/ort/'));
    expect(runtime).toContain(`${origin}${BASE}ort/${ORT_BUILDS.wasm.wasm}`);
    expect(runtime).toContain(`${origin}${BASE}ort/${ORT_BUILDS.wasm.module}`);
    expect(runtime.filter((u) => u.includes('jsep'))).toEqual([]);
    env.session.assertClean(origin);
  });

  it('draws a non-trivial heatmap over the video, advances the frame counter, and saves screenshots', async () => {
    await waitForPredictions(page);
    expect(await heatmapColours(page)).toBeGreaterThan(20);
    const frames = () => page.$eval('[data-testid=ms]', (e) => e.textContent ?? '');
    const first = await frames();
    await page.waitForFunction(
      (before) => document.querySelector('[data-testid=ms]')?.textContent !== before,
      { timeout: 60_000 },
      first,
    );
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'live-view.png') });
    const models = await page.waitForSelector('xpath/.//nav/button[normalize-space()="Models"]');
    await models!.click();
    await page.waitForSelector('[data-testid=model-list]', { timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, 'model-manager.png') });
    const live = await page.waitForSelector('xpath/.//nav/button[normalize-space()="Live"]');
    await live!.click();
    env.session.assertClean(origin);
  });

  it('turns the memory saver on and off: the engine restarts with it, remembers it, and the live view runs on', async () => {
    const toggle = async (on: boolean) => {
      await page.click('[data-testid=memory-saver]');
      await page.waitForSelector(`[data-testid=memory-saver][aria-pressed="${on}"]`, { timeout: 60_000 });
      // Frames flow again after the restart and the model's reload.
      const before = await page.$eval('[data-testid=ms]', (e) => e.textContent ?? '');
      await page.waitForFunction(
        (b) => document.querySelector('[data-testid=ms]')?.textContent !== b,
        { timeout: 60_000 },
        before,
      );
      expect(await page.evaluate(() => localStorage.getItem('convlens:memory-saver'))).toBe(on ? 'on' : 'off');
    };
    await toggle(true);
    await toggle(false);
    env.session.assertClean(origin);
  });

  it.each([
    ['NotAllowedError', 'denied'],
    ['NotFoundError', 'not-found'],
    ['NotReadableError', 'busy'],
    ['OverconstrainedError', 'overconstrained'],
  ])('shows its own state when the camera fails with %s', async (name, kind) => {
    const p = await env.session.open('about:blank');
    await p.evaluateOnNewDocument((n: string) => {
      navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('stubbed', n));
    }, name);
    await p.goto(env.server.url, { waitUntil: 'load' });
    const el = await p.waitForSelector(`[data-testid=camera-error][data-kind=${kind}]`, { timeout: 90_000 });
    expect(await el!.evaluate((e) => e.textContent?.length ?? 0)).toBeGreaterThan(10);
    if (kind === 'denied') await p.screenshot({ path: join(SHOTS, 'camera-denied.png') });
    await p.close();
  });

  it('keeps a new version waiting until the user accepts it, then reloads into it', async () => {
    // "Deploy" a new service worker: same app, different bytes.
    const sw = `${await readFile(join(DIST, 'sw.js'), 'utf8')}\n// next version\n`;
    env.server.fault = respondWith(`${BASE}sw.js`, sw, {
      'Content-Type': 'text/javascript; charset=utf-8',
      'Cache-Control': 'no-cache',
    });
    await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update()));
    await page.waitForSelector('[data-testid=update-prompt]', { timeout: 60_000 });
    // No silent skipWaiting: well after installing, the new worker still waits and the page is untouched.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.waiting?.state))).toBe(
      'installed',
    );
    const reloaded = page.waitForNavigation({ waitUntil: 'load', timeout: 60_000 });
    await page.click('[data-testid=update-prompt] button');
    await reloaded;
    expect(
      await page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.waiting ?? null)),
    ).toBeNull();
    await waitForPredictions(page);
    env.server.fault = undefined;
    env.session.assertClean(origin);
  });

  it('works offline: a reload, then a cold start of the browser, with the server stopped', async () => {
    // Models live in IndexedDB only: the service worker never caches them.
    const cached = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys())
        for (const req of await (await caches.open(name)).keys()) urls.push(req.url);
      return urls;
    });
    expect(cached.some((u) => u.includes('/ort/ort-wasm-simd-threaded.jsep.wasm'))).toBe(true);
    expect(cached.filter((u) => u.includes('/models/'))).toEqual([]);

    await env.server.close();
    await page.reload({ waitUntil: 'load' });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await waitForPredictions(page);
    // Any URL inside the scope gets the app shell (e.g. a launch URL with a query).
    await page.goto(`${origin}${BASE}?source=homescreen`, { waitUntil: 'load' });
    await waitForPredictions(page);
    env.session.assertClean(origin);

    // Cold start: a new browser process on the same profile, nothing listening on the port.
    await env.session.close(true);
    const again = await launch({ userDataDir: env.session.userDataDir });
    try {
      const cold = await again.open(`${origin}${BASE}`);
      expect(await cold.evaluate(() => crossOriginIsolated)).toBe(true);
      await waitForPredictions(cold);
      again.assertClean(origin);
    } finally {
      await again.close();
    }
  });
});

describe('the app on a static host that cannot set headers', () => {
  const env = serveAndLaunch({ isolation: false });

  it('runs on one thread before isolation, then becomes isolated once its service worker adds COOP/COEP', async () => {
    const page = await env.session.open(env.server.url);
    const first = await page.evaluate(() => ({
      isolated: crossOriginIsolated,
      controlled: !!navigator.serviceWorker.controller,
    }));
    expect(first).toEqual({ isolated: false, controlled: false });
    // Without isolation there is no SharedArrayBuffer: one WASM thread, and it still works.
    await clickDownload(page);
    await waitForPredictions(page);
    expect(await page.$eval('[data-testid=backend]', (e) => e.textContent)).toMatch(/\b1 thread\b/);

    await waitForController(page);
    await page.reload({ waitUntil: 'load' });
    const threads = await page.evaluate(() => Math.min(navigator.hardwareConcurrency, 4));
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.waitForFunction(
      (n: number) =>
        new RegExp(`\\b${n} threads?\\b`).test(document.querySelector('[data-testid=backend]')?.textContent ?? ''),
      { timeout: 60_000 },
      threads,
    );
    await waitForPredictions(page);
    env.session.assertClean(originOf(env.server.url));
  });
});
