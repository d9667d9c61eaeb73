/**
 * "Get ImageNet weights" through the real UI, on loopback: the source setting pointed at a local copy of
 * a full-size VGG16 safetensors file in timm's layout (553 MB fp32, seeded), converted while it streams
 * into the int8 bundle in IndexedDB, then live with a heatmap. The renderer's peak memory during the
 * conversion is the benchmark's "conversion" row, not asserted here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureFullWeights, FULL_WEIGHTS_FILE, WEIGHTS_DIR } from './full-weights';
import {
  launch,
  originOf,
  readLibraryDb,
  startServer,
  waitForController,
  waitForPredictions,
  type Session,
  type TestServer,
} from './harness';

describe('Get ImageNet weights', () => {
  let server: TestServer;
  let session: Session;
  beforeAll(async () => {
    await ensureFullWeights();
    server = await startServer({ models: WEIGHTS_DIR });
    session = await launch();
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  it('converts a full-size safetensors file from the configured URL while it streams, then runs live', async () => {
    const page = await session.open(server.url);
    await waitForController(page);
    const url = `${server.url}models/${FULL_WEIGHTS_FILE}`;
    // The source is a setting: open "Download source", replace the URL, save.
    await page.click('.weights-source summary');
    const field = await page.waitForSelector('[data-testid=weights-url]');
    await field!.click({ count: 3 });
    await field!.type(url);
    await page.click('.weights-source button[type=submit]');
    await page.waitForFunction((u) => localStorage.getItem('convlens:weights-url') === u, {}, url);
    const get = await page.waitForSelector('[data-testid=get-weights]:not([disabled])', { timeout: 90_000 });
    await get!.click();
    // Byte progress with a rate shows while it streams.
    await page.waitForSelector('[data-testid=weights-progress] [data-testid=transfer-rate]', { timeout: 120_000 });
    await waitForPredictions(page, 600_000);
    const db = await readLibraryDb(page);
    expect(db.ready).toEqual(['vgg16.tv_in1k']);
    expect(db.shards.filter((s) => s.startsWith('base-'))).toEqual(['base-000.bin']);
    expect(db.shards.filter((s) => s.startsWith('imagenet-head-')).length).toBe(5);
    // A real heatmap over the video: many colours, not a blank overlay.
    const colours = await page.waitForFunction(
      () => {
        const c = document.querySelector<HTMLCanvasElement>('[data-testid=overlay-canvas]');
        const ctx = c?.getContext('2d');
        if (!c || !ctx || !c.width) return 0;
        const d = ctx.getImageData(0, 0, c.width, c.height).data;
        const seen = new Set<number>();
        for (let i = 0; i < d.length; i += 16) seen.add((d[i]! << 16) | (d[i + 1]! << 8) | d[i + 2]!);
        return seen.size > 20 ? seen.size : 0;
      },
      { timeout: 120_000 },
    );
    expect(await colours.jsonValue()).toBeGreaterThan(20);
    // The model is marked pretrained: no demo badge.
    expect(await page.$('[data-testid=demo-badge]')).toBeNull();
    session.assertClean(originOf(server.url));
  }, 900_000);
});
