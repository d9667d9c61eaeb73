/**
 * The static server (`src/cli/serve.ts`, used by `npm start` and these tests): the headers the app
 * depends on — isolation, MIME types (application/wasm for streaming compilation, text/javascript
 * for .mjs), no-cache where the version is decided — and the failures it must not hide: a missing
 * file is a plain 404, never an HTML page with 200; nothing outside its folders is reachable.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './harness';
import { BASE, MODEL_ID } from './paths';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server?.close());

/** A raw GET (fetch would normalise away `..` segments before they reach the server). */
function get(
  path: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serve', () => {
  it.each([
    ['', 'text/html; charset=utf-8', 'no-cache'],
    ['index.html', 'text/html; charset=utf-8', 'no-cache'],
    ['sw.js', 'text/javascript; charset=utf-8', 'no-cache'],
    ['manifest.webmanifest', 'application/manifest+json; charset=utf-8', 'no-cache'],
    ['ort/ort-wasm-simd-threaded.jsep.wasm', 'application/wasm', 'no-cache'],
    ['ort/ort-wasm-simd-threaded.jsep.mjs', 'text/javascript; charset=utf-8', 'no-cache'],
    ['icons/icon-192.png', 'image/png', 'no-cache'],
    [`models/${MODEL_ID}/manifest.json`, 'application/json; charset=utf-8', 'no-cache'],
    [`models/${MODEL_ID}/base-000.bin`, 'application/octet-stream', 'no-cache'],
  ])('serves %s as %s, cross-origin isolated', async (path, type, cache) => {
    const res = await get(`${BASE}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    expect(res.headers['cache-control']).toBe(cache);
    expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(res.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(res.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('caches content-hashed files for ever', async () => {
    const index = (await get(BASE)).body;
    const script = index.match(/src="?(main\.[0-9a-f]{8}\.js)/)![1]!;
    expect((await get(`${BASE}${script}`)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('answers a missing file with a plain-text 404, never the app page', async () => {
    for (const path of [
      `${BASE}nope.js`,
      `${BASE}models/${MODEL_ID}/base-999.bin`,
      `${BASE}models/none/manifest.json`,
    ]) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.body).not.toMatch(/<html/i);
    }
  });

  it('keeps requests inside its folders', async () => {
    for (const path of [
      `${BASE}../package.json`,
      `${BASE}%2e%2e/%2e%2e/package.json`,
      `${BASE}models/../../package.json`,
      '/package.json',
    ]) {
      expect((await get(path)).status).toBe(404);
    }
  });

  it('redirects the base path without its slash, so relative URLs resolve under it', async () => {
    const res = await get(BASE.slice(0, -1));
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe(BASE);
  });

  it('can imitate a static host without isolation headers', async () => {
    const plain = await startServer({ isolation: false });
    try {
      const res = await new Promise<Record<string, unknown>>((resolve, reject) =>
        request({ host: '127.0.0.1', port: plain.port, path: BASE }, (r) => (r.resume(), resolve(r.headers)))
          .on('error', reject)
          .end(),
      );
      expect(res['cross-origin-opener-policy']).toBeUndefined();
      expect(res['cross-origin-embedder-policy']).toBeUndefined();
    } finally {
      await plain.close();
    }
  });
});
