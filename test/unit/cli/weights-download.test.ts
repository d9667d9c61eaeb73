/**
 * `convlens model build --weights <URL | file.safetensors>` on loopback: a generated tiny VGG in
 * timm's layout converts to the same bundle as buildBundle of its weights, from a file and from a
 * URL; a dropped connection resumes with Range; a partial download left by a stopped run resumes with
 * If-Range, and starts again (saying why) when the file changed, the server ignores Range or the
 * partial file has no record of its version; a 404, an HTML page, another model's file and a wrong
 * sha256 fail with clear messages.
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
import type { Route, WeightsServer } from '../../helpers/weights-server';
import { weightsServer } from '../../helpers/weights-server';

const weights = randomWeights(TINY_VGG, 21);
const file = writeSafetensors(vggTensors(TINY_VGG, weights));
const sha = createHash('sha256').update(file).digest('hex');
/** A new version of the file: other weights, the same length; and the same under torchvision's names (another length). */
const weights2 = randomWeights(TINY_VGG, 22);
const file2 = writeSafetensors(vggTensors(TINY_VGG, weights2));
const file2tv = writeSafetensors(vggTensors(TINY_VGG, weights2, 'torchvision'));
const other = writeSafetensors(
  vggTensors({ ...TINY_VGG, classes: 20 }, randomWeights({ ...TINY_VGG, classes: 20 }, 3)),
);
const html = new TextEncoder().encode('<!doctype html>\n<html><head><title>Sign in</title></head><body></body></html>');

let dir: string;
let server: WeightsServer;
let want: Bundle;
let want2: Bundle;

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
  const common = { id: 'x', cfg: TINY_VGG, source: 'safetensors', pretrained: true, preprocessing: 'torch' } as const;
  want = await buildBundle({ ...common, weights, labels: 'imagenet', quantization: 'int8' });
  want2 = await buildBundle({ ...common, weights: weights2, labels: 'imagenet', quantization: 'int8' });
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

async function expectBundle(name: string, bundle = want): Promise<void> {
  const manifest = JSON.parse(await readFile(join(dir, name, 'manifest.json'), 'utf8'));
  expect({ ...manifest, id: 'x', created: '' }).toEqual({ ...bundle.manifest, created: '' });
  for (const [f, bytes] of bundle.shards) expect(Buffer.compare(await readFile(join(dir, name, f)), bytes), f).toBe(0);
  expect((await readdir(join(dir, name))).sort()).toEqual(['manifest.json', ...bundle.shards.keys()].sort());
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

describe('model build --weights <URL> after a stopped run', () => {
  /** A run that stops for good: every response drops after a tenth of the file, more often than a run retries. */
  const cut = Math.floor(file.length / 10);
  const kept = 6 * cut;

  /** Serves `file` at `path` (with `route`'s validators) and runs `model build` until it fails, leaving a partial download. */
  async function stoppedRun(path: string, route: Omit<Route, 'body'>): Promise<Route> {
    const r: Route = { ...route, body: file, dropAfter: cut, drops: 6 };
    server.routes[path] = r;
    const args = ['model', 'build', '--weights', server.url(path), '--arch', 'tiny-vgg', '--out', join(dir, 'stopped')];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(main([...args, '--cache', join(dir, 'cache')])).rejects.toThrow(/connection dropped after/);
    } finally {
      spy.mockRestore();
    }
    expect((await readFile(`${cachePath(server.url(path), join(dir, 'cache'))}.part`)).length).toBe(kept);
    return r;
  }

  it.each([
    ['an ETag', { etag: '"v1"' }, '"v1"'],
    ['a Last-Modified date', { lastModified: 'Sun, 06 Dec 2026 05:00:00 GMT' }, 'Sun, 06 Dec 2026 05:00:00 GMT'],
  ])('resumes an unchanged file with If-Range (%s), fetching only the rest', async (_, validators, ifRange) => {
    const name = `same-${Object.keys(validators)[0]}`;
    const path = `/${name}.safetensors`;
    await stoppedRun(path, validators);
    const start = server.log.length;
    const err = await build(name, server.url(path), '--sha256', sha);
    await expectBundle(name);
    expect(server.log.slice(start)).toEqual([
      { path, range: `bytes=${kept}-`, ifRange, status: 206, bytes: file.length - kept },
    ]);
    expect(err).not.toMatch(/from the start/);
    const cached = cachePath(server.url(path), join(dir, 'cache'));
    expect([existsSync(`${cached}.part`), existsSync(`${cached}.part.json`)]).toEqual([false, false]);
  });

  it('starts again from zero when the file changed on the server (new ETag), and builds the new file', async () => {
    const r = await stoppedRun('/changed.safetensors', { etag: '"v1"' });
    Object.assign(r, { body: file2, etag: '"v2"' });
    const start = server.log.length;
    const err = await build('changed', server.url('/changed.safetensors'));
    await expectBundle('changed', want2);
    expect(server.log.slice(start)).toEqual([
      { path: '/changed.safetensors', range: `bytes=${kept}-`, ifRange: '"v1"', status: 200, bytes: file2.length },
    ]);
    expect(err).toMatch(/the file changed on the server since the download began; downloading it again from the start/);
  });

  it('starts again when a server ignoring If-Range sends the rest of a file with another ETag', async () => {
    const r = await stoppedRun('/changed206.safetensors', { etag: '"v1"', ifRange: false });
    Object.assign(r, { body: file2, etag: '"v2"' });
    const start = server.log.length;
    const err = await build('changed206', server.url('/changed206.safetensors'));
    await expectBundle('changed206', want2);
    expect(server.log.slice(start).map((e) => [e.range, e.status])).toEqual([
      [`bytes=${kept}-`, 206],
      ['', 200],
    ]);
    expect(err).toMatch(/the file changed on the server/);
  });

  it('starts again when a server without validators sends the rest of a file of another length', async () => {
    expect(file2tv.length).not.toBe(file.length);
    const r = await stoppedRun('/longer.safetensors', {});
    r.body = file2tv;
    const start = server.log.length;
    const err = await build('longer', server.url('/longer.safetensors'));
    await expectBundle('longer', want2);
    expect(server.log.slice(start).map((e) => [e.range, e.ifRange, e.status])).toEqual([
      [`bytes=${kept}-`, '', 206],
      ['', '', 200],
    ]);
    expect(err).toMatch(/the file changed on the server/);
  });

  it('starts again from zero, saying so, when the server ignores Range', async () => {
    const r = await stoppedRun('/norange2.safetensors', { etag: '"v1"' });
    r.ranges = false;
    const start = server.log.length;
    const err = await build('norange2', server.url('/norange2.safetensors'), '--sha256', sha);
    await expectBundle('norange2');
    expect(server.log.slice(start)).toEqual([
      { path: '/norange2.safetensors', range: `bytes=${kept}-`, ifRange: '"v1"', status: 200, bytes: file.length },
    ]);
    expect(err).toMatch(/the server does not resume downloads .*; downloading it again from the start/);
  });

  it('starts again from zero when a partial download has no record of its version (an older convlens)', async () => {
    const url = server.url('/vgg.safetensors');
    await rm(cachePath(url, join(dir, 'cache')), { force: true });
    await writeFile(`${cachePath(url, join(dir, 'cache'))}.part`, file2.subarray(0, kept));
    const start = server.log.length;
    const err = await build('nosidecar', url);
    await expectBundle('nosidecar');
    expect(server.log.slice(start)).toEqual([
      { path: '/vgg.safetensors', range: '', ifRange: '', status: 200, bytes: file.length },
    ]);
    expect(err).toMatch(/has no record of which version of the file it holds; downloading it again from the start/);
  });

  it('stops, keeping nothing, when the file changes on the server during a download; the next run gets the new file', async () => {
    const path = '/replaced.safetensors';
    server.routes[path] = { body: file, etag: '"v1"', dropAfter: cut, drops: 1, then: { body: file2, etag: '"v2"' } };
    const url = server.url(path);
    const args = ['model', 'build', '--weights', url, '--arch', 'tiny-vgg', '--out', join(dir, 'replaced')];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      await expect(main([...args, '--cache', join(dir, 'cache')])).rejects.toThrow(
        /the file changed on the server since the download began; run the command again to download it from the start/,
      );
    } finally {
      spy.mockRestore();
    }
    expect(server.log.filter((e) => e.path === path).map((e) => [e.range, e.ifRange, e.status])).toEqual([
      ['', '', 200],
      [`bytes=${cut}-`, '"v1"', 200],
    ]);
    expect(existsSync(`${cachePath(url, join(dir, 'cache'))}.part`)).toBe(false);
    await build('replaced', url);
    await expectBundle('replaced', want2);
  });
});
