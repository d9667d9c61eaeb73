/**
 * `convlens model build --weights <URL | file.safetensors>` on loopback: a generated tiny VGG in
 * timm's layout converts to the same bundle as buildBundle of its weights, from a file and from a
 * URL; a dropped connection and a partial cache resume with Range; a server without Range restarts
 * cleanly; a 404, an HTML page, another model's file and a wrong sha256 fail with clear messages.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';
import { cachePath } from '../../../src/cli/download';
import { buildBundle } from '../../../src/core/bundle/build';
import type { Bundle } from '../../../src/core/bundle/build';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { capture } from '../../helpers/cli';
import { vggTensors, writeSafetensors } from '../../helpers/safetensors';
import { randomWeights } from '../../helpers/vgg-fixtures';
import type { WeightsServer } from '../../helpers/weights-server';
import { weightsServer } from '../../helpers/weights-server';

const weights = randomWeights(TINY_VGG, 21);
const file = writeSafetensors(vggTensors(TINY_VGG, weights));
const sha = createHash('sha256').update(file).digest('hex');
const other = writeSafetensors(
  vggTensors({ ...TINY_VGG, classes: 20 }, randomWeights({ ...TINY_VGG, classes: 20 }, 3)),
);
const html = new TextEncoder().encode('<!doctype html>\n<html><head><title>Sign in</title></head><body></body></html>');

let dir: string;
let server: WeightsServer;
let want: Bundle;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convlens-dl-'));
  await writeFile(join(dir, 'local.safetensors'), file);
  server = await weightsServer({
    '/vgg.safetensors': { body: file },
    '/drop.safetensors': { body: file, dropAfter: Math.floor(file.length / 3), drops: 2 },
    '/norange.safetensors': { body: file, ranges: false },
    '/other.safetensors': { body: other },
    '/page.html': { body: html, type: 'text/html' },
  });
  want = await buildBundle({
    id: 'x',
    cfg: TINY_VGG,
    weights,
    source: 'safetensors',
    pretrained: true,
    preprocessing: 'torch',
    labels: 'imagenet',
    quantization: 'int8',
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** `model build` into `<dir>/<name>`; returns what it printed on stderr. */
async function build(name: string, weightsArg: string, ...more: string[]): Promise<string> {
  const err: string[] = [];
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((s: unknown) => (err.push(String(s)), true));
  try {
    const args = ['model', 'build', '--weights', weightsArg, '--arch', 'tiny-vgg', '--out', join(dir, name)];
    const { code } = await capture([...args, '--cache', join(dir, 'cache'), ...more]);
    expect(code).toBe(0);
  } finally {
    spy.mockRestore();
  }
  return err.join('');
}

async function expectBundle(name: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, name, 'manifest.json'), 'utf8'));
  expect({ ...manifest, id: 'x', created: '' }).toEqual({ ...want.manifest, created: '' });
  for (const [f, bytes] of want.shards) expect(Buffer.compare(await readFile(join(dir, name, f)), bytes), f).toBe(0);
  expect((await readdir(join(dir, name))).sort()).toEqual(['manifest.json', ...want.shards.keys()].sort());
}

describe('model build --weights <safetensors>', () => {
  it('converts a local file to the bundle buildBundle makes of the same weights', async () => {
    const err = await build('local', join(dir, 'local.safetensors'), '--sha256', sha);
    await expectBundle('local');
    expect(err).toMatch(/convert \[#{24}\] [\d.]+ MB of [\d.]+ MB \(100 %\), [\d.]+ MB\/s, ETA 0:00\n/);
  });

  it('downloads into the cache and converts while streaming; a second run reads the cache', async () => {
    const url = server.url('/vgg.safetensors');
    await build('url', url);
    await expectBundle('url');
    expect(Buffer.compare(await readFile(cachePath(url, join(dir, 'cache'))), file)).toBe(0);
    const before = server.log.length;
    await build('url2', url);
    await expectBundle('url2');
    expect(server.log.length).toBe(before);
  });

  it('resumes with Range after the connection drops mid-way', async () => {
    const start = server.log.length;
    await build('drop', server.url('/drop.safetensors'), '--sha256', sha);
    await expectBundle('drop');
    const ranges = server.log.slice(start).map((r) => r.range);
    expect(ranges).toEqual(['', `bytes=${Math.floor(file.length / 3)}-`, `bytes=${2 * Math.floor(file.length / 3)}-`]);
  });

  it('continues a partial download left in the cache; restarts cleanly where the server ignores Range', async () => {
    for (const path of ['/vgg.safetensors', '/norange.safetensors']) {
      const url = server.url(path);
      const part = `${cachePath(url, join(dir, 'cache'))}.part`;
      await rm(cachePath(url, join(dir, 'cache')), { force: true });
      await writeFile(part, file.subarray(0, 1000));
      const start = server.log.length;
      await build(`part${path.length}`, url, '--sha256', sha);
      await expectBundle(`part${path.length}`);
      expect(server.log.slice(start)).toEqual([{ path, range: 'bytes=1000-' }]);
    }
  });

  it.each([
    ['/missing.safetensors', /DownloadError|HTTP 404/],
    ['/page.html', /not a safetensors file: it starts with text .*an HTML page/],
    ['/other.safetensors', /'head\.fc\.weight' has shape \[20, 32\], expected \[10, 32\]/],
  ])('%s fails with a clear message and leaves nothing in the cache', async (path, message) => {
    const url = server.url(path);
    const args = [
      'model',
      'build',
      '--weights',
      url,
      '--arch',
      'tiny-vgg',
      '--out',
      join(dir, 'bad'),
      '--cache',
      join(dir, 'cache'),
    ];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(main(args)).rejects.toThrow(message);
    } finally {
      spy.mockRestore();
    }
    expect(existsSync(cachePath(url, join(dir, 'cache')))).toBe(false);
    expect(existsSync(`${cachePath(url, join(dir, 'cache'))}.part`)).toBe(false);
    expect(existsSync(join(dir, 'bad', 'manifest.json'))).toBe(false);
  });

  it('rejects a file whose sha256 is not the published one, and drops it from the cache', async () => {
    const url = server.url('/vgg.safetensors');
    const args = [
      'model',
      'build',
      '--weights',
      url,
      '--arch',
      'tiny-vgg',
      '--out',
      join(dir, 'bad'),
      '--cache',
      join(dir, 'cache2'),
    ];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(main([...args, '--sha256', 'ab'.repeat(32)])).rejects.toMatchObject({ name: 'SourceHashError' });
    } finally {
      spy.mockRestore();
    }
    expect(existsSync(cachePath(url, join(dir, 'cache2')))).toBe(false);
  });

  it('the convlens command exits 1 with the message on one stderr line', async () => {
    const args = [
      'bin/convlens.js',
      'model',
      'build',
      '--weights',
      server.url('/gone.safetensors'),
      '--out',
      join(dir, 'bad'),
    ];
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = execFile(process.execPath, [...args, '--cache', join(dir, 'cache')], (error, _out, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
      child.stdin?.end();
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^convlens: DownloadError: .*\/gone\.safetensors: the server answered HTTP 404 Not Found; check the URL\n$/,
    );
  }, 60_000);

  it('refuses plain http to another host', async () => {
    await expect(
      main(['model', 'build', '--weights', 'http://example.com/w.safetensors', '--out', join(dir, 'bad')]),
    ).rejects.toThrow(/https/);
  });
});
