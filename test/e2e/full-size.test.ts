/**
 * The real thing once: the full-size demo bundle (VGG16 int8, 138 MB in six ≤ 32 MB shards) downloaded
 * into IndexedDB through the UI, verified, loaded into onnxruntime-web and run on the fake camera —
 * then again from storage after a reload with the server stopped; then a soak of live frames with the
 * renderer's memory watched.
 */
import { describe, expect, it } from 'vitest';
import {
  clickDownload,
  originOf,
  readLibraryDb,
  serveAndLaunch,
  waitForController,
  waitForPredictions,
} from './harness';
import { FULL_MODELS, MODEL_ID } from './paths';
import { renderers, residentByMapping, sharedMemoryMb } from '../helpers/proc';

describe('the full-size demo model', () => {
  const env = serveAndLaunch({ models: FULL_MODELS });

  it('downloads 138 MB in 32 MB shards, runs live, and runs again offline from IndexedDB', async () => {
    const origin = originOf(env.server.url);
    const page = await env.session.open(env.server.url);
    await waitForController(page);
    await clickDownload(page);
    await waitForPredictions(page, 300_000);
    const db = await readLibraryDb(page);
    expect(db.ready).toEqual([MODEL_ID]);
    expect(db.shards).toEqual([
      'base-000.bin',
      'imagenet-head-000.bin',
      'imagenet-head-001.bin',
      'imagenet-head-002.bin',
      'imagenet-head-003.bin',
      'imagenet-head-004.bin',
    ]);
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    expect(usage).toBeGreaterThan(138e6);

    await env.server.close();
    await page.reload({ waitUntil: 'load' });
    await waitForPredictions(page, 300_000);
    env.session.assertClean(origin);
  });

  /**
   * The full network is far slower than the 30 fps camera.
   * The grabber only grabs when the engine is idle and the bridge keeps one frame in flight, so nothing
   * may pile up over minutes: not bitmaps, not transferred heatmaps, not onnxruntime's arenas.
   * SOAK_SECONDS (default 120; 600 for the 10-minute soak) of live frames with the renderer's resident
   * set (less Chromium's shared-memory regions, after a GC) sampled every 5 s; a climb of 64 MB from the first to the last third fails (≈ 0.5 MB/s over the
   * default 2 minutes, ≈ 0.1 MB/s over 10).
   */
  it('keeps its memory flat while the camera outpaces the network', async () => {
    const seconds = Number(process.env.SOAK_SECONDS ?? 120);
    const page = (await env.session.browser.pages()).find((p) => p.url().startsWith(env.server.url))!;
    await waitForPredictions(page, 300_000);
    const root = env.session.browser.process()!.pid!;
    // Count live results: the timing line changes with every frame the engine answers.
    await page.evaluate(() => {
      const w = window as unknown as { results: number };
      w.results = 0;
      const ms = document.querySelector('[data-testid=ms]')!;
      new MutationObserver(() => w.results++).observe(ms, { subtree: true, childList: true, characterData: true });
    });
    // A major GC in the page and the engine worker before each sample, so garbage waiting for the
    // collector (frames leave ~1 MB each) does not read as a leak.
    const cdp = await page.createCDPSession();
    const collect = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      // Not onnxruntime's thread workers: they sit in Atomics.wait between runs and never answer.
      for (const w of page.workers().filter((w) => !w.url().includes('ort-wasm')))
        await w.client.send('HeapProfiler.collectGarbage');
    };
    // What is asserted: the largest renderer's resident set less Chromium's shared-memory regions.
    // Those grow by a 4 MB region every few seconds while the live loop reads the fake camera (about
    // 40 MB a minute here; flat when paused or when the grabber reads a still canvas instead; not the
    // overlay, the JS heaps, the WASM heap or the engine): an open problem (issue 6's note), logged
    // below but not asserted.
    const shared: number[] = [];
    const rss = async () => {
      await collect();
      const top = (await renderers(root)).sort((a, b) => b.rss - a.rss)[0]!;
      const shm = await sharedMemoryMb(top.pid);
      shared.push(shm);
      return top.rss - shm;
    };
    const samples: number[] = [];
    const start = Date.now();
    // Which mappings grew (from the fifth sample on), so a new kind of growth names itself in the log.
    const maps = async () => residentByMapping((await renderers(root)).sort((a, b) => b.rss - a.rss)[0]!.pid);
    let before = new Map<string, number>();
    while (Date.now() - start < seconds * 1000) {
      samples.push(await rss());
      if (samples.length === 5) before = await maps();
      await new Promise((r) => setTimeout(r, 5000));
    }
    const grew = [...(await maps())].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const);
    const top = grew.sort((a, b) => b[1] - a[1]).slice(0, 4);
    const results = await page.evaluate(() => (window as unknown as { results: number }).results);
    expect(results).toBeGreaterThan(seconds / 5); // it kept running (well under the camera's 30 fps)
    // After a warm-up fifth, the resident set may wobble (GC, arenas) but must not climb.
    const settled = samples.slice(Math.ceil(samples.length / 5));
    const early = Math.max(...settled.slice(0, Math.ceil(settled.length / 3)));
    const late = Math.max(...settled.slice(-Math.ceil(settled.length / 3)));
    const mb = (xs: number[]) => xs.map((m) => m.toFixed(0)).join(' ');
    console.log(`soak ${seconds} s: ${results} results; renderer RSS less shared memory, MB: ${mb(samples)}`);
    console.log(`  Chromium shared-memory regions, MB: ${mb(shared)}`);
    console.log(`  grew most: ${top.map(([k, v]) => `${k} ${v.toFixed(1)} MB`).join('; ')}`);
    expect(late - early).toBeLessThan(64);
  }, 900_000);
});
