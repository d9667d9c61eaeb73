/**
 * importFromUrl streaming a safetensors file in timm's exact VGG16 layout (TINY_VGG, seeded) through the
 * converter into IndexedDB: the stored bundle equals buildBundle's of the same weights; a dropped
 * connection and a "reload" resume with Range from the converter's snapshot; a server without Range
 * and a replaced file restart; sha256 and a file of another model fail by name, storing nothing.
 */
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle } from '../../../src/core/bundle/build';
import { loadBundle } from '../../../src/core/bundle/load';
import { sha256Hex } from '../../../src/core/bundle/sha256';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import type { ConverterFactory } from '../../../workers/engine/library/convert';
import { defaultConverter } from '../../../workers/engine/library/convert';
import { IdbModelLibrary, type LibraryOptions } from '../../../workers/engine/library/library';
import type { Progress } from '../../../workers/engine/protocol';
import { vggTensors, writeSafetensors } from '../../helpers/safetensors';
import { randomWeights } from '../../helpers/vgg-fixtures';
import { rangedFile, StubServer, type RangedFileOptions } from './stub-server';
import { caught, timmReference } from './shared';

const URL_ST = 'https://hub.test/timm/tiny-vgg.tv_in1k/resolve/main/model.safetensors';
const weights = randomWeights(TINY_VGG, 11);
const file = writeSafetensors(vggTensors(TINY_VGG, weights));
let reference: Bundle;
let dbCount = 0;
const libs: IdbModelLibrary[] = [];

beforeAll(async () => {
  reference = await timmReference(weights);
});

afterEach(() => {
  for (const lib of libs.splice(0)) lib.conn.close();
});

/** The converter, with the offsets of the shards it emitted (where a resume may start). */
function counted(): { factory: ConverterFactory; emitted: number[] } {
  const emitted: number[] = [];
  const factory: ConverterFactory = async (options, sink) => {
    const conv = await defaultConverter(options, async (shard) => {
      await sink(shard);
      emitted.push(conv.offset);
    });
    return conv;
  };
  return { factory, emitted };
}

function setup(opts: RangedFileOptions = {}, bytes = () => file) {
  const server = new StubServer('https://hub.test/');
  const ranges: (string | undefined)[] = [];
  server.routes.set(URL_ST, rangedFile(bytes, opts, ranges));
  const dbName = `url-st-${++dbCount}`;
  const { factory, emitted } = counted();
  const open = (o: Partial<LibraryOptions> = {}) => {
    const lib = new IdbModelLibrary({
      dbName,
      fetch: server.fetch,
      storage: { estimate: async () => ({ quota: 1e9, usage: 0 }) },
      progressIntervalMs: 0,
      importConfig: TINY_VGG,
      retryDelayMs: 0,
      converter: factory,
      ...o,
    });
    libs.push(lib);
    return lib;
  };
  return { open, ranges, dbName, emitted };
}

async function records(dbName: string) {
  const db = await openDB(dbName);
  const out = {
    ready: (await db.getAllKeys('ready')) as string[],
    imports: (await db.getAllKeys('imports')) as string[],
    shards: (await db.getAllKeys('shards')).length,
  };
  db.close();
  return out;
}

const shardsOf = (b: { parts: { shards: { file: string; sha256: string }[] }[] }) =>
  b.parts.flatMap((p) => p.shards.map((s) => [s.file, s.sha256]));

describe('importFromUrl: safetensors, converted while it streams', () => {
  it('stores the same bundle buildBundle makes of these weights, ready and loadable, with byte progress', async () => {
    const { open, dbName, ranges } = setup({ etag: '"a"' });
    const lib = open();
    const progress: Progress[] = [];
    const model = await lib.importFromUrl({ url: URL_ST }, (p) => progress.push(p));
    expect(model).toMatchObject({ id: 'tiny-vgg.tv_in1k', source: 'safetensors', pretrained: true, ready: true });
    const manifest = await lib.store.manifest(model.id);
    expect(shardsOf(manifest)).toEqual(shardsOf(reference.manifest));
    expect(manifest.preprocessing).toBe('torch');
    await loadBundle(lib.store, model.id, ['base', 'imagenet-head']);
    expect(progress.filter((p) => p.phase === 'download').at(-1)).toEqual({
      phase: 'download',
      done: file.length,
      total: file.length,
      unit: 'bytes',
    });
    expect(progress.at(-1)).toMatchObject({ phase: 'verify' });
    expect(ranges).toEqual([undefined]);
    expect(await records(dbName)).toMatchObject({ ready: [model.id], imports: [] });
  });

  it('after a dropped connection, continues with Range from the converter snapshot stored with the last shard', async () => {
    const { open, ranges, emitted } = setup({ etag: '"a"', dropAfter: file.length - 100 });
    const model = await open().importFromUrl({ url: URL_ST });
    expect(model.ready).toBe(true);
    expect(emitted.length).toBeGreaterThan(1);
    // The base shard was stored before the drop: the resume starts where it was emitted, not at 0.
    expect(emitted[0]!).toBeGreaterThan(0);
    expect(ranges).toEqual([undefined, `bytes=${emitted[0]}-`]);
    expect(shardsOf(await open().store.manifest(model.id))).toEqual(shardsOf(reference.manifest));
  });

  it('after a reload: a new library object on the same database resumes the import', async () => {
    const { open, ranges, emitted, dbName } = setup({ etag: '"a"', dropAfter: file.length - 100 });
    const err = await caught(open({ retries: 0 }).importFromUrl({ url: URL_ST }));
    expect(err.name).toBe('WeightsNetworkError');
    const after = open();
    const [pending] = await after.pendingImports();
    expect(pending).toEqual({ id: 'tiny-vgg.tv_in1k', url: URL_ST, done: emitted[0], total: file.length });
    const model = await after.importFromUrl({ url: URL_ST });
    expect(model.ready).toBe(true);
    expect(ranges).toEqual([undefined, `bytes=${emitted[0]}-`]);
    expect(shardsOf(await after.store.manifest(model.id))).toEqual(shardsOf(reference.manifest));
    expect((await records(dbName)).imports).toEqual([]);
  });

  it('restarts from zero on a server without Range, and on a replaced file (another ETag)', async () => {
    const noRange = setup({ etag: '"a"', ranges: false, dropAfter: file.length - 100 });
    expect((await noRange.open().importFromUrl({ url: URL_ST })).ready).toBe(true);
    expect(noRange.ranges).toEqual([undefined, `bytes=${noRange.emitted[0]}-`]);

    let bytes = file;
    const opts: RangedFileOptions = { etag: '"a"', dropAfter: file.length - 100 };
    const replaced = setup(opts, () => bytes);
    await caught(replaced.open({ retries: 0 }).importFromUrl({ url: URL_ST }));
    const other = randomWeights(TINY_VGG, 12);
    bytes = writeSafetensors(vggTensors(TINY_VGG, other));
    opts.etag = '"b"';
    const lib = replaced.open();
    const model = await lib.importFromUrl({ url: URL_ST });
    expect(replaced.ranges).toEqual([undefined, `bytes=${replaced.emitted[0]}-`, undefined]);
    const expected = await timmReference(other);
    expect(shardsOf(await lib.store.manifest(model.id))).toEqual(shardsOf(expected.manifest));
  });

  it("checks the file's published sha256 across a resume; a mismatch removes what was converted", async () => {
    const good = await sha256Hex(file);
    const ok = setup({ etag: '"a"', dropAfter: file.length - 100 });
    expect((await ok.open().importFromUrl({ url: URL_ST, sha256: good })).ready).toBe(true);
    expect(ok.ranges).toHaveLength(2);

    const bad = setup({ etag: '"a"' });
    const err = await caught(bad.open().importFromUrl({ url: URL_ST, sha256: '0'.repeat(64) }));
    expect(err.name).toBe('WeightsChecksumError');
    expect(err.message).toContain(good);
    expect(await records(bad.dbName)).toEqual({ ready: [], imports: [], shards: 0 });
  });

  it('a safetensors file of another model is refused by name, storing nothing', async () => {
    const cfg = { ...TINY_VGG, classes: 7 };
    const other = writeSafetensors(vggTensors(cfg, randomWeights(cfg, 3)));
    const { open, dbName } = setup({}, () => other);
    const err = await caught(open().importFromUrl({ url: URL_ST }));
    expect(err.name).toBe('WeightsMismatchError');
    expect(await records(dbName)).toMatchObject({ ready: [], shards: 0 });
  });
});
