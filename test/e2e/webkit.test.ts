/**
 * The core path in WebKitGTK (WebKitWebDriver and its MiniBrowser under Xvfb, WebKit's mock camera):
 * install, download the demo bundle, a live heatmap, a tiny classifier trained from camera photos, and an
 * offline reopen with the server stopped. WebKitGTK gives a cross-origin isolated page no SharedArrayBuffer
 * (one WASM thread, said in the header), has no WebGPU, no `navigator.storage` and no `navigator.deviceMemory`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download, install, liveFrame, memorySaver, reopenOffline, trainTiny, CLASSES } from './core-path';
import { launchWebKit, type EngineDriver } from './engines';
import { startServer, type TestServer } from './harness';
import { BASE, MODEL_ID } from './paths';

describe('the core path in WebKit', () => {
  let server: TestServer;
  let d: EngineDriver;

  beforeAll(async () => {
    server = await startServer();
    d = await launchWebKit();
  });
  afterAll(async () => {
    await d?.close();
    await server?.close();
  });

  it('installs: its service worker controls the page; one WASM thread, and the header says why', async () => {
    const got = await install(d, server.url);
    expect(got.controller).toBe(`${new URL(server.url).origin}${BASE}sw.js`);
    // Cross-origin isolated, yet no SharedArrayBuffer: WASM threads cannot start, so the engine runs one.
    expect(got).toMatchObject({ isolated: true, sharedMemory: false, webgpu: false, deviceMemory: null });
    expect(got.backend).toBe('WebGPU unavailable: WASM · 1 thread: this browser offers no WebAssembly threads');
    // No navigator.storage.estimate: the download goes ahead without its quota check (below).
    expect(got.storageEstimate).toBe(false);
    // No device memory reported: the memory saver is on until the user turns it off.
    expect(got.memorySaver).toBe('true');
  });

  it('downloads the demo bundle into IndexedDB and runs it live with a heatmap', async () => {
    const { top, db, persisted } = await download(d);
    expect(top).toMatch(/%/);
    // No navigator.storage to ask for persistence: the model is stored all the same.
    expect(persisted).toBeNull();
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
