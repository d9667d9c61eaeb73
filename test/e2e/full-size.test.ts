/**
 * The real thing once: the full-size demo bundle (VGG16 int8, 138 MB in six ≤ 32 MB shards) downloaded
 * into IndexedDB through the UI, verified, loaded into onnxruntime-web and run on the fake camera —
 * then again from storage after a reload with the server stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clickDownload,
  launch,
  originOf,
  readLibraryDb,
  startServer,
  waitForController,
  waitForPredictions,
  type Session,
  type TestServer,
} from './harness';
import { FULL_MODELS, MODEL_ID } from './paths';

describe('the full-size demo model', () => {
  let server: TestServer;
  let session: Session;
  beforeAll(async () => {
    server = await startServer({ models: FULL_MODELS });
    session = await launch();
  });
  afterAll(async () => {
    await session?.close();
    await server?.close();
  });

  it('downloads 138 MB in 32 MB shards, runs live, and runs again offline from IndexedDB', async () => {
    const origin = originOf(server.url);
    const page = await session.open(server.url);
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

    await server.close();
    await page.reload({ waitUntil: 'load' });
    await waitForPredictions(page, 300_000);
    session.assertClean(origin);
  });
});
