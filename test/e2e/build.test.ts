/**
 * The build's offline guarantees, read from the e2e build and from a
 * small compilation: the service worker precaches the shell, every chunk and the self-hosted ORT
 * runtime, never a model; nothing points at a CDN; and a file too big for the precache fails the
 * build instead of being silently left out (workbox #2790).
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import CopyPlugin from 'copy-webpack-plugin';
import webpack from 'webpack';
import { InjectManifest } from 'workbox-webpack-plugin';
import { describe, expect, it } from 'vitest';
import { FailOnPrecacheWarnings, ORT_DIR, ORT_RUNTIME_FILES } from '../../webpack.config';
import { DIST } from './paths';

async function files(dir: string, root = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p, root)));
    else out.push(relative(root, p));
  }
  return out;
}

/** The URLs in the precache manifest Workbox injected into sw.js. */
async function precached(): Promise<string[]> {
  const sw = await readFile(join(DIST, 'sw.js'), 'utf8');
  return [...sw.matchAll(/\{'revision':(?:null|'[0-9a-f]+'),'url':'([^']+)'\}/g)].map((m) => m[1]!);
}

describe('the production build', () => {
  it('precaches the shell, every script chunk and the self-hosted ORT runtime — and no model', async () => {
    const urls = await precached();
    expect(urls).toEqual(
      expect.arrayContaining(['index.html', 'manifest.webmanifest', 'icons/icon-192.png', 'icons/maskable-512.png']),
    );
    for (const f of ORT_RUNTIME_FILES) expect(urls).toContain(`${ORT_DIR}/${f}`);
    const built = await files(DIST);
    const scripts = built.filter((f) => /\.(m?js|css|wasm)$/.test(f) && f !== 'sw.js');
    expect(scripts.filter((f) => !urls.includes(f))).toEqual([]);
    expect(urls.filter((u) => /(^|\/)models\/|\.map$/.test(u))).toEqual([]);
  });

  it('points at no CDN: no absolute URL of a script, wasm or model file, no CDN host', async () => {
    const built = (await files(DIST)).filter((f) => /\.m?js$/.test(f));
    const offenders: string[] = [];
    const codeUrl =
      /https?:\/\/[^\s'"`)]+\.(?:m?js|wasm|onnx|bin|data|css)\b|https?:\/\/[^\s'"`)/]*(?:cdn|jsdelivr|unpkg|googleapis|gstatic)[^\s'"`)]*/gi;
    for (const f of built) {
      for (const m of (await readFile(join(DIST, f), 'utf8')).matchAll(codeUrl)) offenders.push(`${f}: ${m[0]}`);
    }
    expect(offenders).toEqual([]);
  });
});

describe('FailOnPrecacheWarnings', () => {
  /** Compiles a one-line app with a 3 MB asset under a precache limit of `limit` bytes. */
  async function compile(limit: number): Promise<webpack.Stats> {
    const dir = await mkdtemp(join(tmpdir(), 'convlens-precache-'));
    try {
      await mkdir(join(dir, 'src'));
      await writeFile(join(dir, 'src/index.js'), 'console.log("app");\n');
      await writeFile(join(dir, 'src/sw.js'), 'self.__WB_MANIFEST;\n');
      await writeFile(join(dir, 'big.wasm'), new Uint8Array(3 * 1024 * 1024));
      const compiler = webpack({
        mode: 'production',
        context: dir,
        entry: join(dir, 'src/index.js'),
        output: { path: join(dir, 'out') },
        plugins: [
          new CopyPlugin({ patterns: [{ from: join(dir, 'big.wasm'), to: 'big.wasm' }] }),
          new InjectManifest({ swSrc: join(dir, 'src/sw.js'), swDest: 'sw.js', maximumFileSizeToCacheInBytes: limit }),
          new FailOnPrecacheWarnings(),
        ],
      });
      return await new Promise<webpack.Stats>((resolve, reject) =>
        compiler.run((err, stats) => (err || !stats ? reject(err) : compiler.close(() => resolve(stats)))),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('fails the build when Workbox would leave a file out of the precache', async () => {
    const stats = await compile(1024 * 1024);
    expect(stats.hasErrors()).toBe(true);
    expect(stats.compilation.errors.map((e) => e.message).join('\n')).toMatch(
      /precache incomplete.*big\.wasm.*be precached/s,
    );
  });

  it('passes when everything fits', async () => {
    const stats = await compile(4 * 1024 * 1024);
    expect(stats.compilation.errors).toEqual([]);
  });
});
