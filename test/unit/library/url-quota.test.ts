/**
 * importFromUrl when the browser refuses a write partway (a full disk): the put of the Nth shard, import
 * record, manifest or file chunk fails with QuotaExceededError on its request, or (as Chrome checks quota
 * when a transaction commits) every request succeeds and the transaction aborts with it. The import
 * stops with the named QuotaError, removes what it stored (no model listed, no pending import, no shard or
 * chunk left), and a retry once space is free stores the same bundle as an uninterrupted import.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle } from '../../../src/core/bundle/build';
import { loadBundle } from '../../../src/core/bundle/load';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { IdbModelLibrary } from '../../../workers/engine/library/library';
import { vggTensors, writeSafetensors } from '../../helpers/safetensors';
import { randomWeights, writeZooOnnx } from '../../helpers/vgg-fixtures';
import { rangedFile, StubServer } from './stub-server';
import { caught, timmReference } from './shared';

const URL_ST = 'https://hub.test/timm/tiny-vgg.tv_in1k/resolve/main/model.safetensors';
const URL_ONNX = 'https://hub.test/vgg/tiny.onnx';
const CHUNK = 4096;
const weights = randomWeights(TINY_VGG, 21);
const safetensors = writeSafetensors(vggTensors(TINY_VGG, weights));
const onnx = writeZooOnnx(randomWeights(TINY_VGG, 22), TINY_VGG);
let reference: Bundle;
let dbCount = 0;
const libs: IdbModelLibrary[] = [];
const restores: (() => void)[] = [];

beforeAll(async () => {
  reference = await timmReference(weights);
});

afterEach(() => {
  for (const restore of restores.splice(0)) restore();
  for (const lib of libs.splice(0)) lib.conn.close();
});

/** fake-indexeddb's object store, as far as the refusing put uses it. */
interface RawStore {
  name: string;
  transaction: {
    error: DOMException | null;
    abort(): void;
    _execRequestAsync(request: { source: RawStore; operation: () => never }): unknown;
  };
  put(...args: unknown[]): unknown;
}

/**
 * From now on the `nth` put into object store `store` is refused as by a full disk. `request`: the request
 * errors with QuotaExceededError (nothing stored) and its transaction aborts with it. `commit`: the request
 * succeeds, then its transaction aborts with QuotaExceededError (for a put that is its transaction's last).
 * `space()` frees the disk.
 */
function fullDiskAt(store: string, nth: number, at: 'request' | 'commit' = 'request') {
  const proto = (globalThis as unknown as { IDBObjectStore: { prototype: RawStore } }).IDBObjectStore.prototype;
  const put = proto.put;
  let puts = 0;
  let refused = 0;
  const quota = () => new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  proto.put = function (this: RawStore, ...args: unknown[]) {
    if (this.name !== store || ++puts !== nth) return put.apply(this, args);
    refused++;
    const tx = this.transaction;
    if (at === 'commit') {
      const request = put.apply(this, args) as { addEventListener(type: 'success', f: () => void): void };
      request.addEventListener('success', () => {
        tx.abort();
        // fake-indexeddb keeps `error` as a plain field: the reason the browser gives for the abort.
        tx.error = quota();
      });
      return request;
    }
    // fake-indexeddb's step "asynchronously execute a request": an operation that throws fails its request.
    return tx._execRequestAsync({
      source: this,
      operation: () => {
        throw quota();
      },
    });
  };
  const space = () => void (proto.put = put);
  restores.push(space);
  return { space, refused: () => refused };
}

function setup(url: string, bytes: Uint8Array) {
  const server = new StubServer('https://hub.test/');
  const ranges: (string | undefined)[] = [];
  server.routes.set(
    url,
    rangedFile(() => bytes, { etag: '"a"' }, ranges),
  );
  const dbName = `url-quota-${++dbCount}`;
  const lib = new IdbModelLibrary({
    dbName,
    fetch: server.fetch,
    storage: { estimate: async () => ({ quota: 1e9, usage: 0 }) },
    progressIntervalMs: 0,
    importConfig: TINY_VGG,
    chunkBytes: CHUNK,
    retryDelayMs: 0,
  });
  libs.push(lib);
  return { lib, ranges, dbName };
}

/** Every record a fresh page would find. */
async function records(dbName: string) {
  const db = await openDB(dbName);
  const count = async (store: string) => (await db.getAllKeys(store)).length;
  const out = {
    manifests: await count('manifests'),
    ready: await count('ready'),
    imports: await count('imports'),
    shards: await count('shards'),
    chunks: await count('chunks'),
  };
  db.close();
  return out;
}
const EMPTY = { manifests: 0, ready: 0, imports: 0, shards: 0, chunks: 0 };

/** The refused import's error and what it left: the named quota error, nothing listed, nothing stored. */
async function expectRefusedCleanly(run: Promise<unknown>, lib: IdbModelLibrary, dbName: string) {
  const err = await caught(run);
  expect(err.name).toBe('QuotaError');
  expect(err.message).toMatch(/not enough storage.*Delete a model or free space on the device, then try again/);
  expect(await lib.listModels()).toEqual([]);
  expect(await lib.pendingImports()).toEqual([]);
  expect(await records(dbName)).toEqual(EMPTY);
}

const shardsOf = (b: { parts: { shards: { file: string; sha256: string }[] }[] }) =>
  b.parts.flatMap((p) => p.shards.map((s) => [s.file, s.sha256]));

describe('importFromUrl: safetensors stream, the browser refuses a write partway', () => {
  // The second shard (one shard and its import record already stored), the import record right after
  // the first shard, the manifest of the final commit, and the second shard's transaction at its commit.
  it.each([
    ['the 2nd converted shard', 'shards', 2, 'request'],
    ['the import record after the 1st shard', 'imports', 1, 'request'],
    ['the manifest at the commit', 'manifests', 1, 'request'],
    ["the 2nd shard's transaction, at its commit", 'imports', 2, 'commit'],
  ] as const)('refused at %s: QuotaError, nothing left; a retry stores the same bundle', async (_w, store, nth, at) => {
    const { lib, ranges, dbName } = setup(URL_ST, safetensors);
    const disk = fullDiskAt(store, nth, at);
    await expectRefusedCleanly(lib.importFromUrl({ url: URL_ST }), lib, dbName);
    expect(disk.refused()).toBe(1);

    disk.space();
    const model = await lib.importFromUrl({ url: URL_ST });
    expect(model).toMatchObject({ id: 'tiny-vgg.tv_in1k', ready: true });
    expect(shardsOf(await lib.store.manifest(model.id))).toEqual(shardsOf(reference.manifest));
    await loadBundle(lib.store, model.id, ['base', 'imagenet-head']);
    // Nothing was kept to resume from: the retry fetches the file from its first byte.
    expect(ranges).toEqual([undefined, undefined]);
    expect(await records(dbName)).toMatchObject({ ready: 1, imports: 0, chunks: 0 });
  });
});

describe('importFromUrl: an ONNX file stored in chunks, the browser refuses a write partway', () => {
  it.each([
    ['the 3rd file chunk', 'chunks', 3, 'request'],
    ["the 3rd file chunk's transaction, at its commit", 'imports', 3, 'commit'],
    ['the 2nd shard of the converted bundle', 'shards', 2, 'request'],
  ] as const)('refused at %s: QuotaError, nothing left; a retry stores the same model', async (_w, store, nth, at) => {
    const { lib, ranges, dbName } = setup(URL_ONNX, onnx);
    const plain = setup(URL_ONNX, onnx).lib;
    const direct = await plain.importWeights({ name: 'tiny.onnx', bytes: onnx });
    const disk = fullDiskAt(store, nth, at);
    await expectRefusedCleanly(lib.importFromUrl({ url: URL_ONNX }), lib, dbName);
    expect(disk.refused()).toBe(1);

    disk.space();
    const model = await lib.importFromUrl({ url: URL_ONNX });
    expect(model).toMatchObject({ id: direct.id, ready: true });
    expect(shardsOf(await lib.store.manifest(model.id))).toEqual(shardsOf(await plain.store.manifest(direct.id)));
    expect(ranges).toEqual([undefined, undefined]);
    expect(await records(dbName)).toMatchObject({ ready: 1, imports: 0, chunks: 0 });
  });
});
