/**
 * The bundles a server publishes: `serve` generates models/index.json from the folders in models/
 * (writeModelIndex writes it for a static host), answers Range on files, and the library lists the
 * index (none without one) and downloads a listed bundle, base part first. Loopback only.
 */
import 'fake-indexeddb/auto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../../src/core/bundle/build';
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import { parseModelIndex } from '../../../src/core/bundle/served-index';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { writeBundle } from '../../../src/cli/fs-store';
import { serve, writeModelIndex, type ServeHandle } from '../../../src/cli/serve';
import { IdbModelLibrary } from '../../../workers/engine/library/library';
import type { Progress } from '../../../workers/engine/protocol';

let dir: string;
let server: ServeHandle;
let empty: ServeHandle;
const requested: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convlens-served-'));
  const models = join(dir, 'models');
  for (const [id, pretrained] of [
    ['tiny-b', false],
    ['tiny-a', true],
  ] as const) {
    const b = await buildBundle({
      id,
      cfg: TINY_VGG,
      weights: demoWeights(TINY_VGG, 3),
      source: pretrained ? 'keras-h5' : 'demo',
      pretrained,
      preprocessing: 'caffe',
      labels: 'imagenet',
      quantization: 'int8',
      maxShardBytes: 4096,
    });
    await writeBundle(join(models, id), b.manifest, b.shards);
  }
  await mkdir(join(models, 'half-written'));
  await writeFile(join(models, 'half-written', 'manifest.json'), '{"format": "convlens-bun');
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html>');
  server = await serve({ dist: join(dir, 'dist'), models, port: 0, onRequest: (path) => requested.push(path) });
  empty = await serve({ dist: join(dir, 'dist'), models: join(dir, 'none'), port: 0 });
});

afterAll(async () => {
  await server?.close();
  await empty?.close();
  await rm(dir, { recursive: true, force: true });
});

const library = (base: string, name: string) =>
  new IdbModelLibrary({
    dbName: name,
    baseHref: base,
    fetch: (input, init) => fetch(input, init as RequestInit),
    storage: { estimate: async () => ({ quota: 1e9, usage: 0 }) },
    progressIntervalMs: 0,
  });

describe('models/index.json', () => {
  it('lists every complete bundle folder (id, source, pretrained, quantization, parts with bytes), sorted', async () => {
    const res = await fetch(`${server.url}models/index.json`);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    const index = parseModelIndex(await res.json());
    expect(index.map((m) => [m.id, m.path, m.source, m.pretrained, m.quantization])).toEqual([
      ['tiny-a', 'tiny-a/', 'keras-h5', true, 'int8'],
      ['tiny-b', 'tiny-b/', 'demo', false, 'int8'],
    ]);
    const manifest = JSON.parse(await readFile(join(dir, 'models', 'tiny-a', 'manifest.json'), 'utf8'));
    const parts = (manifest as BundleManifest).parts.map((p) => ({ name: p.name, bytes: p.bytes }));
    expect(parts.map((p) => p.name)).toEqual(['base', 'imagenet-head']);
    expect(index[0]!.parts).toEqual(parts);
  });

  it('writeModelIndex writes the same index as a file, for a static host', async () => {
    const index = await writeModelIndex(join(dir, 'models'));
    const written = JSON.parse(await readFile(join(dir, 'models', 'index.json'), 'utf8'));
    expect(written).toEqual(index);
    expect(written.models.map((m: { id: string }) => m.id)).toEqual(['tiny-a', 'tiny-b']);
    await rm(join(dir, 'models', 'index.json'));
  });

  it('never points outside its folder: entries with other paths are skipped', () => {
    const entry = {
      id: 'x',
      source: 'demo',
      pretrained: false,
      quantization: 'int8',
      parts: [{ name: 'base', bytes: 1 }],
    };
    const index = {
      format: 'convlens-models',
      version: 1,
      models: [
        { ...entry, path: '../secret/' },
        { ...entry, path: 'https://elsewhere.test/x/' },
        { ...entry, path: 'ok/' },
      ],
    };
    expect(parseModelIndex(index).map((m) => m.path)).toEqual(['ok/']);
    expect(parseModelIndex({ models: [] })).toEqual([]);
  });

  it('answers a byte range with 206 and Content-Range, and a range past the end with 416', async () => {
    const url = `${server.url}models/tiny-a/base-000.bin`;
    const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
    const part = await fetch(url, { headers: { Range: 'bytes=100-' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-${whole.length - 1}/${whole.length}`);
    expect(part.headers.get('etag')).toBeTruthy();
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(whole.subarray(100));
    expect((await fetch(url, { headers: { Range: `bytes=${whole.length}-` } })).status).toBe(416);
  });
});

describe('listServedModels', () => {
  it('gives the listed bundles with absolute folder URLs; downloading one stores it, base first', async () => {
    const lib = library(server.url, 'served-1');
    const served = await lib.listServedModels();
    expect(served.map((m) => [m.id, m.url])).toEqual([
      ['tiny-a', `${server.url}models/tiny-a/`],
      ['tiny-b', `${server.url}models/tiny-b/`],
    ]);
    const progress: Progress[] = [];
    const model = await lib.downloadModel({ id: served[0]!.id, baseUrl: served[0]!.url }, (p) => progress.push(p));
    expect(model).toMatchObject({ id: 'tiny-a', ready: true, pretrained: true });
    expect(progress.at(-1)).toMatchObject({ phase: 'download', unit: 'bytes' });
    const shards = requested.filter((p) => p.startsWith('/models/tiny-a/') && p.endsWith('.bin'));
    expect(shards.length).toBeGreaterThan(1);
    expect(shards.findIndex((p) => p.includes('imagenet-head'))).toBeGreaterThan(
      shards.findLastIndex((p) => p.includes('/base-')),
    );
    lib.conn.close();
  });

  it('a server without an index (or none at all) lists nothing, without an error', async () => {
    const lib = library(empty.url, 'served-2');
    expect(await lib.listServedModels()).toEqual([]);
    const offline = new IdbModelLibrary({
      dbName: 'served-3',
      baseHref: 'http://127.0.0.1:9/',
      fetch: () => Promise.reject(new TypeError('Failed to fetch')),
    });
    expect(await offline.listServedModels()).toEqual([]);
  });

  it('a bundle folder URL given to importFromUrl downloads the bundle', async () => {
    const lib = library(server.url, 'served-4');
    const model = await lib.importFromUrl({ url: `${server.url}models/tiny-b/manifest.json` });
    expect(model).toMatchObject({ id: 'tiny-b', ready: true, source: 'demo' });
    lib.conn.close();
  });
});
