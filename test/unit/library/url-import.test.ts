/**
 * importFromUrl against fake-indexeddb and a stub server that answers Range as a CDN does: a TINY_VGG
 * ONNX-zoo file stored in small chunks (resume after a dropped connection and after a "reload", a server
 * without Range, a replaced file), the errors by name (404, HTML, another file, sha256, quota), pausing,
 * and a bundle folder URL going through downloadModel.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/bundle/sha256';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { IdbModelLibrary, type LibraryOptions } from '../../../workers/engine/library/library';
import type { Progress } from '../../../workers/engine/protocol';
import { randomWeights, writeZooOnnx } from '../../helpers/vgg-fixtures';
import { HTML_PAGE, rangedFile, StubServer, type RangedFileOptions } from './stub-server';
import { caught } from './shared';

const onnx = writeZooOnnx(randomWeights(TINY_VGG, 4), TINY_VGG);
const URL_ONNX = 'https://files.test/vgg/tiny.onnx';
const CHUNK = 4096;
let dbCount = 0;
const libs: IdbModelLibrary[] = [];

afterEach(() => {
  for (const lib of libs.splice(0)) lib.conn.close();
});

function setup(file: RangedFileOptions = {}, bytes = () => onnx, quota = 1e9) {
  const server = new StubServer('https://files.test/');
  const ranges: (string | undefined)[] = [];
  server.routes.set(URL_ONNX, rangedFile(bytes, file, ranges));
  const dbName = `url-import-${++dbCount}`;
  const open = (o: Partial<LibraryOptions> = {}) => {
    const lib = new IdbModelLibrary({
      dbName,
      fetch: server.fetch,
      storage: { estimate: async () => ({ quota, usage: 0 }), persist: async () => true },
      progressIntervalMs: 0,
      importConfig: TINY_VGG,
      chunkBytes: CHUNK,
      retryDelayMs: 0,
      ...o,
    });
    libs.push(lib);
    return lib;
  };
  return { server, ranges, dbName, open };
}

/** What a fresh page would find: models, imports in progress, raw chunks. */
async function records(dbName: string) {
  const db = await openDB(dbName);
  const out = {
    ready: (await db.getAllKeys('ready')) as string[],
    imports: (await db.getAllKeys('imports')) as string[],
    chunks: (await db.getAllKeys('chunks')).length,
  };
  db.close();
  return out;
}

describe('importFromUrl: an ONNX file, stored in chunks, then converted', () => {
  it('converts it into a ready model with byte progress, the same model a file import gives', async () => {
    const { open, dbName, ranges } = setup({ etag: '"v1"' });
    const lib = open();
    const progress: Progress[] = [];
    const model = await lib.importFromUrl({ url: URL_ONNX }, (p) => progress.push(p));
    expect(model).toMatchObject({ source: 'onnx-zoo', pretrained: true, ready: true });
    const direct = await open({ dbName: `url-import-direct-${dbCount}` }).importWeights({ name: 'x', bytes: onnx });
    expect(model.id).toBe(direct.id);
    const download = progress.filter((p) => p.phase === 'download');
    expect(download.every((p) => p.unit === 'bytes' && p.total === onnx.length)).toBe(true);
    expect(download.at(-1)!.done).toBe(onnx.length);
    expect(ranges).toEqual([undefined]);
    // The raw file is gone once converted; only the model remains.
    expect(await records(dbName)).toEqual({ ready: [model.id], imports: [], chunks: 0 });
  });

  it('resumes with Range after a dropped connection, from the last stored chunk', async () => {
    const { open, ranges } = setup({ etag: '"v1"', dropAfter: 3 * CHUNK + 100 });
    const model = await open().importFromUrl({ url: URL_ONNX });
    expect(model.ready).toBe(true);
    expect(ranges).toEqual([undefined, `bytes=${3 * CHUNK}-`]);
  });

  it('resumes after a reload: a new library on the same database continues with Range', async () => {
    const { open, ranges, dbName } = setup({ etag: '"v1"', dropAfter: 2 * CHUNK + 10 });
    const err = await caught(open({ retries: 0 }).importFromUrl({ url: URL_ONNX }));
    expect(err.name).toBe('WeightsNetworkError');
    expect(err.message).toMatch(/check the URL or your connection; the download resumes where it stopped/);
    const again = open();
    expect(await again.pendingImports()).toEqual([{ id: 'tiny', url: URL_ONNX, done: 2 * CHUNK, total: onnx.length }]);
    const model = await again.importFromUrl({ url: URL_ONNX });
    expect(model.ready).toBe(true);
    expect(ranges).toEqual([undefined, `bytes=${2 * CHUNK}-`]);
    expect((await records(dbName)).imports).toEqual([]);
  });

  it('restarts from zero when the server ignores Range (200 to a ranged request)', async () => {
    const { open, ranges } = setup({ etag: '"v1"', ranges: false, dropAfter: 2 * CHUNK + 10 });
    const progress: Progress[] = [];
    const model = await open().importFromUrl({ url: URL_ONNX }, (p) => progress.push(p));
    expect(model.ready).toBe(true);
    expect(ranges).toEqual([undefined, `bytes=${2 * CHUNK}-`]);
    // The second run starts again from 0: its first report is 0 bytes.
    const starts = progress.filter((p, i) => p.phase === 'download' && (i === 0 || progress[i - 1]!.done > p.done));
    expect(starts.map((p) => p.done)).toEqual([0, 0]);
  });

  it('restarts from zero when the file changed (another ETag) since the stored part', async () => {
    let bytes = onnx;
    const opts: RangedFileOptions = { etag: '"v1"', dropAfter: 2 * CHUNK + 10 };
    const { open, ranges } = setup(opts, () => bytes);
    await caught(open({ retries: 0 }).importFromUrl({ url: URL_ONNX }));
    // The file is replaced by another build of the weights.
    bytes = writeZooOnnx(randomWeights(TINY_VGG, 5), TINY_VGG);
    opts.etag = '"v2"';
    const model = await open().importFromUrl({ url: URL_ONNX });
    expect(ranges).toEqual([undefined, `bytes=${2 * CHUNK}-`, undefined]);
    const fresh = await open({ dbName: `url-import-v2-${dbCount}` }).importWeights({ name: 'x', bytes });
    expect(model.id).toBe(fresh.id);
  });

  it('pausing (cancelDownload) keeps what is stored; Resume continues from it', async () => {
    const { open, ranges } = setup({ etag: '"v1"', chunk: 512 });
    const lib = open();
    const paused = lib.importFromUrl({ url: URL_ONNX }, (p) => {
      if (p.done >= 3 * CHUNK) void lib.cancelDownload();
    });
    expect((await caught(paused)).name).toBe('AbortError');
    const [pending] = await lib.pendingImports();
    expect(pending!.done).toBe(3 * CHUNK);
    expect((await lib.importFromUrl({ url: URL_ONNX })).ready).toBe(true);
    expect(ranges).toEqual([undefined, `bytes=${3 * CHUNK}-`]);
  });

  it('checks the published sha256: a match converts, a mismatch removes everything and says so', async () => {
    const good = await sha256Hex(onnx);
    expect((await setup().open().importFromUrl({ url: URL_ONNX, sha256: good.toUpperCase() })).ready).toBe(true);
    const { open, dbName } = setup();
    const err = await caught(open().importFromUrl({ url: URL_ONNX, sha256: 'ab'.repeat(32) }));
    expect(err.name).toBe('WeightsChecksumError');
    expect(err.message).toContain(good);
    expect(await records(dbName)).toEqual({ ready: [], imports: [], chunks: 0 });
  });
});

describe('importFromUrl: errors by name, nothing stored', () => {
  it('404: no file at the URL', async () => {
    const { open, dbName } = setup();
    const err = await caught(open().importFromUrl({ url: 'https://files.test/vgg/missing.onnx' }));
    expect(err.name).toBe('WeightsNotFoundError');
    expect(err.message).toMatch(/HTTP 404.*check the URL/);
    expect(await records(dbName)).toEqual({ ready: [], imports: [], chunks: 0 });
  });

  it('an HTML page with 200, by its type or by its first bytes', async () => {
    const page = new TextEncoder().encode(HTML_PAGE);
    for (const contentType of ['text/html; charset=utf-8', 'application/octet-stream']) {
      const { open, dbName } = setup({ contentType }, () => page);
      const err = await caught(open().importFromUrl({ url: URL_ONNX }));
      expect(err.name).toBe('WeightsHtmlError');
      expect(err.message).toMatch(/web page, not a weights file/);
      expect(await records(dbName)).toEqual({ ready: [], imports: [], chunks: 0 });
    }
  });

  it('a file of another model, and a file that is no weights at all', async () => {
    const other = writeZooOnnx(randomWeights({ ...TINY_VGG, classes: 7 }, 4), { ...TINY_VGG, classes: 7 });
    const wrong = setup({}, () => other);
    expect((await caught(wrong.open().importFromUrl({ url: URL_ONNX }))).name).toBe('WeightsMismatchError');
    expect((await records(wrong.dbName)).ready).toEqual([]);
    const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...new Array(64).fill(1)]);
    const { server, open } = setup();
    server.routes.set(
      'https://files.test/photo',
      rangedFile(() => jpeg, {}, []),
    );
    const err = await caught(open().importFromUrl({ url: 'https://files.test/photo' }));
    expect(err.name).toBe('UnsupportedWeightsError');
  });

  it('an unreachable server (or CORS): a network error that says what to do', async () => {
    const { open } = setup();
    const lib = open({ fetch: () => Promise.reject(new TypeError('Failed to fetch')), retries: 0 });
    const err = await caught(lib.importFromUrl({ url: URL_ONNX }));
    expect(err.name).toBe('WeightsNetworkError');
    expect(err.message).toMatch(/Failed to fetch.*check the URL or your connection/);
  });

  it('a file larger than the free storage fails before storing a byte', async () => {
    const { open, dbName } = setup({}, () => onnx, onnx.length);
    const err = await caught(open().importFromUrl({ url: URL_ONNX }));
    expect(err.name).toBe('QuotaError');
    expect(await records(dbName)).toEqual({ ready: [], imports: [], chunks: 0 });
  });
});
