/**
 * The core path in Firefox ESR (puppeteer-core over WebDriver BiDi, headless, Firefox's fake camera): install,
 * download the demo bundle, a live heatmap, a tiny classifier trained from camera photos, and an offline
 * reopen with the server stopped. Firefox has SharedArrayBuffer once the page is cross-origin isolated (WASM
 * threads), no WebGPU here and no `navigator.deviceMemory` (the memory saver starts on).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, install, liveFrame, memorySaver, reopenOffline, trainTiny, CLASSES } from './core-path';
import { launchFirefox, type EngineDriver } from './engines';
import { startServer, type TestServer } from './harness';
import { BASE, MODEL_ID } from './paths';

describe('the core path in Firefox', () => {
  let server: TestServer;
  let d: EngineDriver;

  beforeAll(async () => {
    server = await startServer();
    d = await launchFirefox();
  });
  afterAll(async () => {
    await d?.close();
    await server?.close();
  });

  it('installs: its service worker controls the page, cross-origin isolated, WASM with threads', async () => {
    const got = await install(d, server.url);
    expect(got.controller).toBe(`${new URL(server.url).origin}${BASE}sw.js`);
    expect(got).toMatchObject({ isolated: true, sharedMemory: true, deviceMemory: null, storageEstimate: true });
    // No WebGPU adapter in headless Firefox: the header says so and the engine runs WASM with threads.
    expect(got.backend).toMatch(/^WebGPU unavailable: WASM · [2-4] threads$/);
    // No device memory reported: the memory saver is on until the user turns it off.
    expect(got.memorySaver).toBe('true');
  });

  it('downloads the demo bundle into IndexedDB and runs it live with a heatmap', async () => {
    const { top, db, persisted } = await download(d);
    expect(top).toMatch(/%/);
    // Persistence is the user's to grant in Firefox; without it the model is stored all the same.
    expect(persisted).toBe(false);
    expect(db).toMatchObject({ manifests: [MODEL_ID], ready: [MODEL_ID] });
    expect(db.shards).toHaveLength(5);
    const live = await liveFrame(d);
    expect(live.colours).toBeGreaterThan(20);
    expect(live.advanced).toBe(true);
  });

  it('starts with the memory saver on (no device memory reported) and runs the faster base once it is off', async () => {
    expect(await memorySaver(d, false)).toBe(true);
    expect(await liveFrame(d)).toMatchObject({ advanced: true });
  });

  it('trains a tiny classifier from camera photos and shows its classes live', async () => {
    const got = await trainTiny(d);
    expect(got.status).toMatch(/Training finished/);
    expect(got.classifiers).toBe(1);
    for (const name of CLASSES) expect(got.top).toContain(name);
  });

  it('reopens offline: page from the service worker, model and classifier from IndexedDB', async () => {
    await server.close();
    const got = await reopenOffline(d);
    expect(got.controlled).toBe(true);
    expect(got.db.ready).toEqual([MODEL_ID]);
    for (const name of CLASSES) expect(got.top).toContain(name);
  });
});
