/**
 * The demo download through the real UI against a server that misbehaves:
 * every bad answer gives a clear, named error on screen and leaves no `ready` record; too little quota
 * stops the download before a byte is stored; a download killed with its page resumes from the
 * verified shards. Each test gets a fresh browser profile.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clickDownload,
  HTML_PAGE,
  launch,
  originOf,
  readLibraryDb,
  respondWith,
  startServer,
  waitForController,
  waitForError,
  waitForPredictions,
  type Session,
  type TestServer,
} from './harness';
import { MODEL_ID, MODELS } from './paths';

const shard = (file: string) => readFile(join(MODELS, MODEL_ID, file));

let server: TestServer | undefined;
let session: Session | undefined;
afterEach(async () => {
  await session?.close();
  await server?.close();
  session = server = undefined;
});

async function start() {
  server = await startServer();
  session = await launch();
  return { server, session, origin: originOf(server.url) };
}

describe('a download from a misbehaving server', () => {
  const cases: {
    what: string;
    file: string;
    body: () => Promise<Uint8Array | string>;
    headers: Record<string, string>;
    error: string;
    message: RegExp;
  }[] = [
    {
      what: 'a bit-flipped shard',
      file: 'base-001.bin',
      body: async () => {
        const b = await shard('base-001.bin');
        b[1000]! ^= 0x10;
        return b;
      },
      headers: {},
      error: 'ShardHashError',
      message: /base-001\.bin has sha256 [0-9a-f]{64}, the manifest says/,
    },
    {
      what: 'a truncated shard',
      file: 'base-002.bin',
      body: async () => (await shard('base-002.bin')).subarray(0, 1000),
      headers: {},
      error: 'ShardLengthError',
      message: /base-002\.bin is 1000 bytes, the manifest says 2432/,
    },
    {
      what: 'an HTML page with status 200 in place of the manifest',
      file: 'manifest.json',
      body: async () => HTML_PAGE,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
      error: 'BundleFormatError',
      message: /is an HTML page, not a model manifest/,
    },
    {
      what: 'an HTML page with status 200 in place of a shard',
      file: 'base-000.bin',
      body: async () => HTML_PAGE,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
      error: 'ShardLengthError',
      message: /web page, not model data/,
    },
  ];

  for (const c of cases) {
    it(`rejects ${c.what} with a clear ${c.error} and no ready record`, async () => {
      const { server, session, origin } = await start();
      server.fault = respondWith(server.modelPath(c.file), await c.body(), c.headers);
      const page = await session.open(server.url);
      await clickDownload(page);
      const error = await waitForError(page);
      expect(error.name).toBe(c.error);
      expect(error.text).toMatch(c.message);
      const db = await readLibraryDb(page);
      expect(db.ready).toEqual([]);
      expect(db.shards).not.toContain(c.file);
      // Nothing after the bad file was fetched.
      expect(server.count('/imagenet-head-000.bin')).toBe(0);
      session.assertClean(origin);
    });
  }
});

describe('storage', () => {
  it('with a quota below the model size: QuotaError on screen, nothing downloaded or stored', async () => {
    const { server, session, origin } = await start();
    const page = await session.open(server.url);
    // Let the precache and the library's database settle first: they count towards usage.
    await waitForController(page);
    await page.waitForSelector('[data-testid=download-demo]:not([disabled])', { timeout: 90_000 });
    const { usage } = await page.evaluate(() => navigator.storage.estimate());
    const cdp = await page.createCDPSession();
    // The bundle needs 13.7 kB; leave 4 kB.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: (usage ?? 0) + 4096 });
    await clickDownload(page);
    const error = await waitForError(page);
    expect(error.name).toBe('QuotaError');
    // Chrome's estimate() does not reflect the override, so the browser's refusal of the first write is
    // what stops it here (the estimate check is covered by the unit tests).
    expect(error.text).toMatch(/needs 13\.7 kB and the browser refused to store it/);
    expect(server.count('.bin')).toBe(0);
    expect(await readLibraryDb(page)).toEqual({ manifests: [], shards: [], ready: [] });
    await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    session.assertClean(origin);
  });

  it('resumes a download whose page was killed midway, fetching only what was not verified', async () => {
    const { server, session, origin } = await start();
    // base-002.bin sends half its bytes, then hangs.
    const stalled: ServerResponse[] = [];
    const half = await shard('base-002.bin');
    server.fault = (_req, res, path) => {
      if (path !== server.modelPath('base-002.bin')) return false;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(half.length) });
      res.write(half.subarray(0, half.length >> 1));
      stalled.push(res);
      return true;
    };
    const page = await session.open(server.url);
    await clickDownload(page);
    await page.waitForFunction(() =>
      /\d/.test(document.querySelector('[data-testid=download-progress]')?.textContent ?? ''),
    );
    await expect.poll(() => server.count('/base-002.bin'), { timeout: 60_000 }).toBe(1);
    await page.close();
    for (const res of stalled) res.destroy();
    server.fault = undefined;

    const again = await session.open(server.url);
    // Once the library is listed, the UI offers to resume.
    await again.waitForFunction(
      () => /Resume/.test(document.querySelector('[data-testid=download-demo]:not([disabled])')?.textContent ?? ''),
      { timeout: 90_000 },
    );
    const button = await again.$('[data-testid=download-demo]');
    expect(await readLibraryDb(again)).toEqual({
      manifests: [MODEL_ID],
      shards: ['base-000.bin', 'base-001.bin'],
      ready: [],
    });
    await button!.click();
    await waitForPredictions(again);
    const db = await readLibraryDb(again);
    expect(db.ready).toEqual([MODEL_ID]);
    expect(db.shards).toHaveLength(5);
    expect(
      ['base-000.bin', 'base-001.bin', 'base-002.bin', 'base-003.bin', 'imagenet-head-000.bin'].map((f) =>
        server.count(`/${f}`),
      ),
    ).toEqual([1, 1, 2, 1, 1]);
    session.assertClean(origin);
  });

  it('notices a shard evicted between launches, and a new download fetches only that shard', async () => {
    const { server, session, origin } = await start();
    const page = await session.open(server.url);
    await clickDownload(page);
    await waitForPredictions(page);
    // Storage pressure took one shard (WebKit evicts; here we delete it by hand), then the app restarts.
    await page.evaluate(
      (id: string) =>
        new Promise<void>((resolve, reject) => {
          const req = indexedDB.open('convlens');
          req.onsuccess = () => {
            const tx = req.result.transaction('shards', 'readwrite');
            tx.objectStore('shards').delete([id, 'base-003.bin']);
            tx.oncomplete = () => (req.result.close(), resolve());
            tx.onerror = () => reject(tx.error);
          };
          req.onerror = () => reject(req.error);
        }),
      MODEL_ID,
    );
    await page.reload({ waitUntil: 'load' });
    const error = await waitForError(page);
    expect(error.name).toBe('MissingShardError');
    expect(error.text).toMatch(/base-003\.bin .*gone from storage/);
    expect((await readLibraryDb(page)).ready).toEqual([]);
    // The UI does not re-list the library after a failed load yet, so it still offers "use"; a reload
    // shows the model as incomplete with a resume button.
    await page.reload({ waitUntil: 'load' });
    await clickDownload(page);
    await waitForPredictions(page);
    expect(server.count('/base-003.bin')).toBe(2);
    expect(server.count('/base-000.bin')).toBe(1);
    session.assertClean(origin);
  });
});
