/**
 * The PWA's model library (workers/engine/library) against fake-indexeddb and a stub fetch serving a
 * TINY_VGG int8 bundle cut into 4 kB shards (4 base + 1 head): every storage guarantee it owns —
 * verification before storing, the ready record as the commit point, resume, quota, re-verify on load.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildBundle, type Bundle } from '../../../src/core/bundle/build';
import { loadBundle } from '../../../src/core/bundle/load';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { DB_VERSION, type DbEvent } from '../../../workers/engine/library/db';
import { IdbModelLibrary, type StorageLike } from '../../../workers/engine/library/library';
import type { Progress } from '../../../workers/engine/protocol';
import { randomWeights, writeKerasH5, writeZooOnnx } from '../../helpers/vgg-fixtures';
import { HTML_PAGE, StubServer, streamed } from './stub-server';
import { caught } from './shared';

let bundle: Bundle;
let dbCount = 0;

beforeAll(async () => {
  bundle = await buildBundle({
    id: 'tiny',
    cfg: TINY_VGG,
    weights: demoWeights(TINY_VGG, 7),
    source: 'demo',
    pretrained: false,
    seed: 7,
    preprocessing: 'caffe',
    labels: 'imagenet',
    quantization: 'int8',
    created: '2026-01-01T00:00:00.000Z',
    maxShardBytes: 4096,
  });
});

const baseShards = () => bundle.manifest.parts.find((p) => p.name === 'base')!.shards;
const headShards = () => bundle.manifest.parts.find((p) => p.name === 'imagenet-head')!.shards;
const totalBytes = () => bundle.manifest.parts.reduce((n, p) => n + p.bytes, 0);

function storage(quota = 1e9, usage = 0): StorageLike & { persist: ReturnType<typeof vi.fn> } {
  return {
    estimate: async () => ({ quota, usage }),
    persisted: async () => false,
    persist: vi.fn(async () => true),
  };
}

function setup(opts: { quota?: number; usage?: number } = {}) {
  const server = new StubServer();
  const base = server.add('tiny', bundle);
  const events: DbEvent[] = [];
  const store = storage(opts.quota, opts.usage);
  const dbName = `library-test-${++dbCount}`;
  const lib = new IdbModelLibrary({
    dbName,
    fetch: server.fetch,
    storage: store,
    progressIntervalMs: 0,
    onDbEvent: (e) => events.push(e),
  });
  return { server, base, lib, store, dbName, events };
}

/** The raw records, read with a separate connection (what a fresh page would find). */
async function records(dbName: string) {
  const db = await openDB(dbName);
  // A library that failed before touching storage never created the stores.
  const has = (name: string) => db.objectStoreNames.contains(name);
  const out = {
    manifests: has('manifests') ? ((await db.getAllKeys('manifests')) as string[]) : [],
    shards: has('shards') ? ((await db.getAllKeys('shards')) as [string, string][]).map((k) => k[1]).sort() : [],
    ready: has('ready') ? ((await db.getAll('ready')) as { id: string; parts: string[] }[]) : [],
  };
  db.close();
  return out;
}

const libs: IdbModelLibrary[] = [];
afterEach(() => {
  for (const l of libs.splice(0)) l.conn.close();
});
function track<T extends { lib: IdbModelLibrary }>(s: T): T {
  libs.push(s.lib);
  return s;
}

describe('IdbModelLibrary.downloadModel', () => {
  it('stores every shard verified, writes the ready record, and reports byte progress', async () => {
    const { lib, base, dbName, store } = track(setup());
    const progress: Progress[] = [];
    const model = await lib.downloadModel({ id: 'tiny', baseUrl: base }, (p) => progress.push(p));

    expect(model.ready).toBe(true);
    expect(model.parts.map((p) => [p.name, p.complete, p.stored === p.bytes])).toEqual([
      ['base', true, true],
      ['imagenet-head', true, true],
    ]);
    expect(progress.every((p) => p.phase === 'download' && p.total === totalBytes())).toBe(true);
    expect(progress.at(-1)!.done).toBe(totalBytes());
    // Streaming: reports inside a shard, not just per shard; never backwards.
    expect(progress.length).toBeGreaterThan(bundle.shards.size + 1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.done).toBeGreaterThanOrEqual(progress[i - 1]!.done);
    expect(store.persist).toHaveBeenCalledOnce();

    const r = await records(dbName);
    expect(r.shards).toEqual([...bundle.shards.keys()].sort());
    expect(r.ready).toEqual([expect.objectContaining({ id: 'tiny', parts: ['base', 'imagenet-head'] })]);

    // The engine's view: the same bytes, through the re-verifying store.
    for (const [file, bytes] of bundle.shards) expect(await lib.store.shard('tiny', file)).toEqual(bytes);
    const loaded = await loadBundle(lib.store, 'tiny', ['base', 'imagenet-head']);
    expect(loaded.files.size).toBe(bundle.shards.size);
    expect(await lib.listModels()).toEqual([model]);
  });

  it('downloads only the base when asked, and the store then offers only the base', async () => {
    const { lib, base, server } = track(setup());
    const model = await lib.downloadModel({ id: 'tiny', baseUrl: base, parts: ['base'] });
    expect(model.ready).toBe(true);
    expect(model.parts.find((p) => p.name === 'imagenet-head')).toMatchObject({ stored: 0, complete: false });
    expect(server.count(headShards()[0]!.file)).toBe(0);
    const manifest = await lib.store.manifest('tiny');
    expect(manifest.parts.map((p) => p.name)).toEqual(['base']);
    expect(manifest.tensors.every((t) => t.part === 'base')).toBe(true);
  });

  it('resumes after an abort at 50 %: verified shards are kept and not fetched again', async () => {
    const { lib, base, server, dbName } = track(setup());
    const all = [...baseShards(), ...headShards()];
    const half = all[Math.floor(all.length / 2)]!;
    // Cancel while the middle shard is half streamed: its first half arrives, then the stream stalls.
    server.routes.set(`${base}${half.file}`, (_u, init) => {
      const bytes = bundle.shards.get(half.file)!;
      let sent = false;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          init?.signal?.addEventListener('abort', () => controller.error(new DOMException('aborted', 'AbortError')));
        },
        pull(controller) {
          if (sent) return new Promise<void>(() => void lib.cancelDownload());
          sent = true;
          controller.enqueue(bytes.slice(0, bytes.length >> 1));
        },
      });
      return new Response(body);
    });
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('AbortError');

    const before = await records(dbName);
    expect(before.ready).toEqual([]);
    expect(before.shards).toEqual(
      all
        .slice(0, Math.floor(all.length / 2))
        .map((s) => s.file)
        .sort(),
    );
    const partial = (await lib.listModels())[0]!;
    expect(partial.ready).toBe(false);
    expect(partial.parts[0]!.stored).toBe(all.slice(0, Math.floor(all.length / 2)).reduce((n, s) => n + s.bytes, 0));
    await expect(lib.store.manifest('tiny')).rejects.toMatchObject({ name: 'ModelIncompleteError' });

    server.add('tiny', bundle);
    const progress: Progress[] = [];
    const model = await lib.downloadModel({ id: 'tiny', baseUrl: base }, (p) => progress.push(p));
    expect(model.ready).toBe(true);
    // Each shard crossed the network once, except the interrupted one.
    for (const s of all) expect(server.count(s.file)).toBe(s.file === half.file ? 2 : 1);
    // Progress resumes from the bytes already stored.
    expect(progress[0]!.done).toBe(partial.parts[0]!.stored);
  });

  it('rejects a truncated shard and never writes the ready record', async () => {
    const { lib, base, server, dbName } = track(setup());
    const bad = baseShards()[2]!;
    server.routes.set(`${base}${bad.file}`, (_u, init) =>
      streamed(bundle.shards.get(bad.file)!.slice(0, bad.bytes - 100), { signal: init?.signal }),
    );
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('ShardLengthError');
    expect(err.message).toContain(bad.file);
    const r = await records(dbName);
    expect(r.ready).toEqual([]);
    expect(r.shards).not.toContain(bad.file);
    expect(r.shards).toEqual(
      baseShards()
        .slice(0, 2)
        .map((s) => s.file)
        .sort(),
    );
  });

  it('rejects a shard that is longer than the manifest says without buffering it all', async () => {
    const { lib, base, server, dbName } = track(setup());
    const bad = baseShards()[0]!;
    const long = new Uint8Array(bad.bytes + 10_000);
    long.set(bundle.shards.get(bad.file)!);
    server.routes.set(`${base}${bad.file}`, (_u, init) => streamed(long, { signal: init?.signal }));
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('ShardLengthError');
    expect((await records(dbName)).shards).toEqual([]);
  });

  it('rejects a bit-flipped shard (right length, wrong sha256)', async () => {
    const { lib, base, server, dbName } = track(setup());
    const bad = baseShards()[1]!;
    const flipped = bundle.shards.get(bad.file)!.slice();
    flipped[100]! ^= 0x01;
    server.routes.set(`${base}${bad.file}`, (_u, init) => streamed(flipped, { signal: init?.signal }));
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('ShardHashError');
    const r = await records(dbName);
    expect(r.ready).toEqual([]);
    expect(r.shards).toEqual([baseShards()[0]!.file]);
  });

  it('says so clearly when the server answers manifest.json with an HTML page and 200', async () => {
    const { lib, base, server, dbName } = track(setup());
    server.routes.set(
      `${base}manifest.json`,
      () => new Response(HTML_PAGE, { status: 200, headers: { 'content-type': 'text/html' } }),
    );
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('BundleFormatError');
    expect(err.message).toMatch(/HTML page/);
    expect(err.message).not.toMatch(/JSON|Unexpected token/);
    expect(await records(dbName)).toEqual({ manifests: [], shards: [], ready: [] });
  });

  it('rejects an HTML page served with 200 in place of a shard', async () => {
    const { lib, base, server, dbName } = track(setup());
    const bad = baseShards()[0]!;
    server.routes.set(
      `${base}${bad.file}`,
      () => new Response(HTML_PAGE, { status: 200, headers: { 'content-type': 'text/html' } }),
    );
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('ShardLengthError');
    expect(err.message).toMatch(/web page/);
    expect((await records(dbName)).ready).toEqual([]);
  });

  it('reports a missing model folder (404) as a bundle error, not a JSON parse error', async () => {
    const { lib, server } = track(setup());
    const err = await caught(lib.downloadModel({ id: 'nope', baseUrl: `${server.origin}nope/` }));
    expect(err.name).toBe('BundleFormatError');
    expect(err.message).toMatch(/404/);
  });

  it('reports a shard missing on the server', async () => {
    const { lib, base, server, dbName } = track(setup());
    server.routes.delete(`${base}${baseShards()[3]!.file}`);
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('MissingShardError');
    expect((await records(dbName)).ready).toEqual([]);
  });

  it('rejects a manifest that is not JSON, and one for another model id', async () => {
    const { lib, base, server } = track(setup());
    server.routes.set(`${base}manifest.json`, () => new Response('{"format": "convlens-bundle", ', { status: 200 }));
    expect(await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }))).toMatchObject({
      name: 'BundleFormatError',
      message: expect.stringMatching(/not valid JSON/),
    });
    server.add('tiny', bundle);
    expect(await caught(lib.downloadModel({ id: 'other', baseUrl: base }))).toMatchObject({
      name: 'BundleFormatError',
      message: expect.stringMatching(/'tiny', not 'other'/),
    });
  });

  it('throws QuotaError before downloading when the estimate is too small, writing nothing', async () => {
    const { lib, base, server, dbName, store } = track(setup({ quota: 10_000, usage: 4_000 }));
    const err = await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }));
    expect(err.name).toBe('QuotaError');
    expect(err.message).toMatch(/needs 13\.7 kB, 6\.0 kB is available/);
    expect(server.requests.filter((u) => u.endsWith('.bin'))).toEqual([]);
    expect(store.persist).not.toHaveBeenCalled();
    expect(await records(dbName)).toEqual({ manifests: [], shards: [], ready: [] });
  });

  /** Makes the n-th IndexedDB put matching `which` fail as a full disk does; restores put afterwards. */
  async function withFullDisk<T>(which: (value: unknown) => boolean, n: number, run: () => Promise<T>): Promise<T> {
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } })
      .IDBObjectStore.prototype;
    const put = proto.put;
    let count = 0;
    proto.put = function (this: unknown, ...args: unknown[]) {
      if (which(args[0]) && ++count === n) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
    try {
      return await run();
    } finally {
      proto.put = put;
    }
  }

  it('purges the partial download when the browser refuses a shard write (QuotaExceededError)', async () => {
    const { lib, base, dbName } = track(setup());
    const err = await withFullDisk(
      (v) => v instanceof ArrayBuffer,
      3,
      () => caught(lib.downloadModel({ id: 'tiny', baseUrl: base })),
    );
    expect(err.name).toBe('QuotaError');
    expect(err.message).toMatch(/needs 13\.7 kB and the browser refused to store it/);
    expect(await records(dbName)).toEqual({ manifests: [], shards: [], ready: [] });
  });

  it('treats a refused manifest write the same way (Chrome refuses although estimate() says it fits)', async () => {
    const { lib, base, dbName, server } = track(setup());
    const err = await withFullDisk(
      (v) => !(v instanceof ArrayBuffer),
      1,
      () => caught(lib.downloadModel({ id: 'tiny', baseUrl: base })),
    );
    expect(err.name).toBe('QuotaError');
    expect(server.count('.bin')).toBe(0);
    expect(await records(dbName)).toEqual({ manifests: [], shards: [], ready: [] });
  });

  it('keeps a complete base when the head does not fit', async () => {
    const { lib, base, dbName } = track(setup());
    const err = await withFullDisk(
      (v) => v instanceof ArrayBuffer,
      baseShards().length + 1,
      () => caught(lib.downloadModel({ id: 'tiny', baseUrl: base })),
    );
    expect(err.name).toBe('QuotaError');
    const r = await records(dbName);
    expect(r.ready).toEqual([expect.objectContaining({ parts: ['base'] })]);
    expect(r.shards).toEqual(
      baseShards()
        .map((s) => s.file)
        .sort(),
    );
  });

  it('replaces a stored model when the server has a different bundle under the same id', async () => {
    const { lib, base, server, dbName } = track(setup());
    await lib.downloadModel({ id: 'tiny', baseUrl: base });
    const rebuilt = await buildBundle({
      id: 'tiny',
      cfg: TINY_VGG,
      weights: demoWeights(TINY_VGG, 8),
      source: 'demo',
      pretrained: false,
      seed: 8,
      preprocessing: 'caffe',
      labels: 'imagenet',
      quantization: 'int8',
      maxShardBytes: 4096,
    });
    server.add('tiny', rebuilt);
    const model = await lib.downloadModel({ id: 'tiny', baseUrl: base });
    expect(model.ready).toBe(true);
    for (const [file, bytes] of rebuilt.shards) expect(await lib.store.shard('tiny', file)).toEqual(bytes);
    expect((await records(dbName)).shards).toEqual([...rebuilt.shards.keys()].sort());
  });

  it('refuses a second download while one runs', async () => {
    const { lib, base, server } = track(setup());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = baseShards()[0]!;
    server.routes.set(`${base}${first.file}`, async (_u, init) => {
      await gate;
      return streamed(bundle.shards.get(first.file)!, { signal: init?.signal });
    });
    const running = lib.downloadModel({ id: 'tiny', baseUrl: base });
    await vi.waitFor(() => expect(server.count(first.file)).toBe(1));
    expect(await caught(lib.downloadModel({ id: 'tiny', baseUrl: base }))).toMatchObject({ name: 'EngineStateError' });
    release();
    expect((await running).ready).toBe(true);
  });
});

describe('IdbBundleStore (the engine loads through it)', () => {
  it('re-verifies each shard on load: a shard corrupted in storage is caught, dropped and re-fetched', async () => {
    const { lib, base, server, dbName } = track(setup());
    await lib.downloadModel({ id: 'tiny', baseUrl: base });
    const victim = baseShards()[1]!;
    const db = await openDB(dbName);
    const stored = new Uint8Array((await db.get('shards', ['tiny', victim.file])) as ArrayBuffer);
    stored[7]! ^= 0x80;
    await db.put('shards', stored.buffer, ['tiny', victim.file]);
    db.close();

    await expect(lib.store.shard('tiny', victim.file)).rejects.toMatchObject({ name: 'ShardHashError' });
    await expect(loadBundle(lib.store, 'tiny', ['base'])).rejects.toMatchObject({ name: 'ModelIncompleteError' });
    const after = (await lib.listModels())[0]!;
    expect(after.ready).toBe(false);
    expect((await records(dbName)).shards).not.toContain(victim.file);

    const model = await lib.downloadModel({ id: 'tiny', baseUrl: base });
    expect(model.ready).toBe(true);
    expect(server.count(victim.file)).toBe(2);
    expect(server.count(baseShards()[0]!.file)).toBe(1);
    expect(await lib.store.shard('tiny', victim.file)).toEqual(bundle.shards.get(victim.file));
  });

  it('hashes each shard once per load: the store verifies it, loadBundle trusts its mark', async () => {
    const { lib, base } = track(setup());
    await lib.downloadModel({ id: 'tiny', baseUrl: base });
    const digest = vi.spyOn(crypto.subtle, 'digest');
    try {
      const loaded = await loadBundle(lib.store, 'tiny', ['base', 'imagenet-head']);
      expect(digest).toHaveBeenCalledTimes(baseShards().length + headShards().length);
      for (const [file, bytes] of loaded.files) expect(bytes).toEqual(bundle.shards.get(file));
    } finally {
      digest.mockRestore();
    }
  });

  it('treats a shard evicted from storage as missing and marks the model incomplete', async () => {
    const { lib, base, dbName } = track(setup());
    await lib.downloadModel({ id: 'tiny', baseUrl: base });
    const victim = baseShards()[0]!;
    const db = await openDB(dbName);
    await db.delete('shards', ['tiny', victim.file]);
    db.close();
    await expect(lib.store.shard('tiny', victim.file)).rejects.toMatchObject({ name: 'MissingShardError' });
    expect((await lib.listModels())[0]!.ready).toBe(false);
  });

  it('does not offer a model before its ready record exists', async () => {
    const { lib } = track(setup());
    await expect(lib.store.manifest('tiny')).rejects.toMatchObject({ name: 'ModelNotFoundError' });
  });
});

describe('verifyModel, deleteModel, storageEstimate', () => {
  it('verifyModel checks every shard with progress and demotes a model with a bad head shard', async () => {
    const { lib, base, dbName } = track(setup());
    await lib.downloadModel({ id: 'tiny', baseUrl: base });
    const head = headShards()[0]!;
    const db = await openDB(dbName);
    await db.put('shards', new Uint8Array(head.bytes).buffer, ['tiny', head.file]);
    db.close();
    const progress: Progress[] = [];
    const model = await lib.verifyModel('tiny', (p) => progress.push(p));
    expect(progress.map((p) => p.done)).toEqual([...Array(bundle.shards.size + 1).keys()]);
    expect(progress.every((p) => p.phase === 'verify' && p.total === bundle.shards.size)).toBe(true);
    // The base still stands; the head must be fetched again.
    expect(model.ready).toBe(true);
    expect(model.parts.map((p) => p.complete)).toEqual([true, false]);
    expect((await lib.store.manifest('tiny')).parts.map((p) => p.name)).toEqual(['base']);
  });

  it('deleteModel removes the manifest, every shard and the ready record', async () => {
    const { lib, base, dbName } = track(setup());
    await lib.downloadModel({ id: 'tiny', baseUrl: base });
    await lib.deleteModel('tiny');
    expect(await records(dbName)).toEqual({ manifests: [], shards: [], ready: [] });
    expect(await lib.listModels()).toEqual([]);
  });

  it('storageEstimate reports usage, quota and persistence', async () => {
    const { lib } = track(setup({ quota: 5e9, usage: 1e6 }));
    expect(await lib.storageEstimate()).toEqual({ usage: 1e6, quota: 5e9, persisted: false });
  });
});

describe('schema upgrades from another tab (idb #148)', () => {
  it('closes its connection when a newer version is blocked on it, tells the page, and refuses further use', async () => {
    const { lib, base, dbName, events } = track(setup());
    await lib.downloadModel({ id: 'tiny', baseUrl: base, parts: ['base'] });
    // Another tab opens the next schema version: it must not stay blocked by this one.
    const newer = await openDB(dbName, DB_VERSION + 1, { upgrade: (db) => void db.createObjectStore('photos') });
    newer.close();
    expect(events.map((e) => [e.type, e.event])).toEqual([['convlens:db', 'blocking']]);
    expect(events[0]!.message).toMatch(/reload/);
    await expect(lib.listModels()).rejects.toMatchObject({ name: 'StorageBlockedError' });
  });
});

describe('importWeights', () => {
  function importer(quota = 1e9) {
    const dbName = `library-test-${++dbCount}`;
    const lib = new IdbModelLibrary({
      dbName,
      fetch: () => Promise.reject(new Error('no network')),
      storage: storage(quota),
      importConfig: TINY_VGG,
    });
    libs.push(lib);
    return { lib, dbName };
  }

  it('turns a Keras .h5 file into a verified int8 model, with parse → quantize → store progress', async () => {
    const { lib, dbName } = importer();
    const bytes = await writeKerasH5(randomWeights(TINY_VGG, 3), TINY_VGG, { style: 'keras2', includeTop: true });
    const progress: Progress[] = [];
    const model = await lib.importWeights({ name: 'weights.h5', bytes }, (p) => progress.push(p));
    expect(model.id).toMatch(/^tiny-vgg-keras-[0-9a-f]{8}$/);
    expect(model).toMatchObject({ source: 'keras-h5', pretrained: true, quantization: 'int8', ready: true });
    expect(model.parts.map((p) => p.complete)).toEqual([true, true]);
    expect([...new Set(progress.map((p) => p.phase))]).toEqual(['parse', 'quantize', 'store']);
    expect((await records(dbName)).ready).toHaveLength(1);
    // Loadable through the re-verifying store, preprocessing as Keras expects.
    const manifest = await lib.store.manifest(model.id);
    expect(manifest.preprocessing).toBe('caffe');
    await loadBundle(lib.store, model.id, ['base', 'imagenet-head']);
  });

  it('sniffs an ONNX-zoo file by content (not by name) and keeps torch preprocessing', async () => {
    const { lib } = importer();
    const bytes = writeZooOnnx(randomWeights(TINY_VGG, 4), TINY_VGG);
    const model = await lib.importWeights({ name: 'weights.h5', bytes });
    expect(model.id).toMatch(/^tiny-vgg-onnx-[0-9a-f]{8}$/);
    expect((await lib.store.manifest(model.id)).preprocessing).toBe('torch');
  });

  it('stores nothing when the weights do not fit the quota', async () => {
    const { lib, dbName } = importer(1000);
    const bytes = writeZooOnnx(randomWeights(TINY_VGG, 4), TINY_VGG);
    expect(await caught(lib.importWeights({ name: 'w.onnx', bytes }))).toMatchObject({ name: 'QuotaError' });
    expect(await records(dbName)).toEqual({ manifests: [], shards: [], ready: [] });
  });

  it('rejects a file that is neither, storing nothing', async () => {
    const { lib, dbName } = importer();
    const err = await caught(
      lib.importWeights({ name: 'photo.jpg', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]) }),
    );
    expect(err.name).toBe('WeightsMismatchError');
    expect((await records(dbName)).manifests).toEqual([]);
  });
});
