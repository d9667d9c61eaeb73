/**
 * A small static server for the built PWA (`dist/`) and the model bundles (`models/`), with the headers
 * the app needs: COOP/COEP/CORP so the page is cross-origin isolated (WASM threads), the right MIME
 * types (`application/wasm` for streaming compilation, `text/javascript` for .mjs), and no-cache for
 * the files that decide which version runs (index.html, sw.js). A missing file is a plain 404, never
 * an HTML page with 200 (transformers.js #1187). Binds 127.0.0.1 only.
 *
 *   node --import tsx src/cli/serve.ts [--port N] [--dist dir] [--models dir]     (PORT env, default 8080)
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BundleManifest } from '../core/bundle/manifest';
import { MODEL_INDEX_FILE, modelIndex, type ModelIndex } from '../core/bundle/served-index';

export const MIME_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.bin': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.safetensors': 'application/octet-stream',
  '.h5': 'application/octet-stream',
};

/** Names webpack gives with a content hash (`main.1a2b3c4d.js`): safe to cache for ever. */
const HASHED = /\.[0-9a-f]{8,}\.(js|css|png|svg|wasm)$/;
/** Files that decide which version of the app runs must always be revalidated. */
const NO_CACHE = new Set(['index.html', 'sw.js', 'manifest.webmanifest']);

export interface ServeOptions {
  /** The built app; default `dist`. */
  dist?: string;
  /** Model bundles, served under `<base>models/`; default `models`. */
  models?: string;
  /** 0 picks a free port (tests). Default: `PORT` env, else 8080. */
  port?: number;
  host?: string;
  /** URL path the app lives under, e.g. `/convlens/` to check sub-path hosting. Default `/`. */
  base?: string;
  /** Send COOP/COEP (default true); false imitates a static host that cannot set headers. */
  isolation?: boolean;
  /** Test hook: sees every request first and may answer it itself (return true when it did). */
  intercept?: (req: IncomingMessage, res: ServerResponse, path: string) => boolean | Promise<boolean>;
  /** Called for every request (tests record them). */
  onRequest?: (path: string, req: IncomingMessage) => void;
}

export interface ServeHandle {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

function headersFor(file: string, isolation: boolean): Record<string, string> {
  const name = file.slice(file.lastIndexOf(sep) + 1);
  const h: Record<string, string> = {
    'Content-Type': MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': NO_CACHE.has(name)
      ? 'no-cache'
      : HASHED.test(name)
        ? 'public, max-age=31536000, immutable'
        : 'no-cache',
  };
  if (isolation) {
    h['Cross-Origin-Opener-Policy'] = 'same-origin';
    h['Cross-Origin-Embedder-Policy'] = 'require-corp';
    h['Cross-Origin-Resource-Policy'] = 'same-origin';
  }
  return h;
}

/** The file under `root` for a URL path, or undefined if it would escape `root`. */
function within(root: string, rel: string): string | undefined {
  const file = resolve(root, '.' + sep + rel);
  return file === root || file.startsWith(root + sep) ? file : undefined;
}

function notFound(res: ServerResponse, status = 404, text = 'not found'): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  });
  res.end(text);
}

/** The index of the bundles in `dir` (each sub-folder with a manifest.json); unreadable folders are skipped. */
export async function readModelIndex(dir: string): Promise<ModelIndex> {
  const bundles: { folder: string; manifest: BundleManifest }[] = [];
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    try {
      const manifest = JSON.parse(await readFile(join(dir, e.name, 'manifest.json'), 'utf8')) as BundleManifest;
      if (manifest.format === 'convlens-bundle' && Array.isArray(manifest.parts))
        bundles.push({ folder: e.name, manifest });
    } catch {
      // Not a bundle (or one being written): not published.
    }
  }
  return modelIndex(bundles);
}

/** Writes `<dir>/index.json` for a static host, which cannot generate it per request as `serve` does. */
export async function writeModelIndex(dir: string): Promise<ModelIndex> {
  const index = await readModelIndex(dir);
  await writeFile(join(dir, MODEL_INDEX_FILE), `${JSON.stringify(index, null, 2)}\n`);
  return index;
}

/** `bytes=N-` or `bytes=N-M` within `size`, else undefined (a 416). */
function byteRange(header: string, size: number): { start: number; end: number } | undefined {
  const m = /^bytes=(\d+)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  return start < size && start <= end ? { start, end } : undefined;
}

export async function serve(options: ServeOptions = {}): Promise<ServeHandle> {
  const dist = resolve(options.dist ?? 'dist');
  const models = resolve(options.models ?? 'models');
  const base = (options.base ?? '/').replace(/\/?$/, '/');
  const isolation = options.isolation ?? true;
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? Number(process.env.PORT ?? 8080);

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return notFound(res, 400, 'bad request');
    }
    options.onRequest?.(path, req);
    if (options.intercept && (await options.intercept(req, res, path))) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return notFound(res, 405, 'method not allowed');
    if (path === base.slice(0, -1)) {
      res.writeHead(301, { Location: base });
      res.end();
      return;
    }
    if (!path.startsWith(base) || path.includes('\0')) return notFound(res);
    let rel = path.slice(base.length);
    const root = rel.startsWith('models/') ? models : dist;
    if (root === models) rel = rel.slice('models/'.length);
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    const file = within(root, rel);
    if (!file) return notFound(res);
    let size: number;
    let mtime: number;
    try {
      const st = await stat(file);
      if (!st.isFile()) return notFound(res);
      size = st.size;
      mtime = st.mtimeMs;
    } catch {
      // The models' index is generated per request unless a file was written (writeModelIndex).
      if (root === models && rel === MODEL_INDEX_FILE) {
        const body = JSON.stringify(await readModelIndex(models));
        res.writeHead(200, { ...headersFor(file, isolation), 'Content-Length': String(Buffer.byteLength(body)) });
        return void res.end(req.method === 'HEAD' ? undefined : body);
      }
      return notFound(res);
    }
    // Validators and byte ranges, so a large weights file resumes where a download stopped.
    const head = {
      ...headersFor(file, isolation),
      'Accept-Ranges': 'bytes',
      ETag: `"${size.toString(16)}-${Math.floor(mtime).toString(16)}"`,
      'Last-Modified': new Date(mtime).toUTCString(),
    };
    const ranged = req.headers.range;
    const range = ranged === undefined ? undefined : byteRange(ranged, size);
    if (ranged !== undefined && !range) {
      res.writeHead(416, { ...head, 'Content-Range': `bytes */${size}` });
      return void res.end();
    }
    res.writeHead(range ? 206 : 200, {
      ...head,
      'Content-Length': String(range ? range.end - range.start + 1 : size),
      ...(range ? { 'Content-Range': `bytes ${range.start}-${range.end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') return void res.end();
    const stream = createReadStream(file, range);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const server = createServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) notFound(res, 500, 'internal error');
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actual}${base}`,
    port: actual,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        // Keep-alive and stalled connections (tests hang some on purpose) must not hold close() open.
        server.closeAllConnections();
      }),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      dist: { type: 'string' },
      models: { type: 'string' },
      base: { type: 'string' },
    },
  });
  const handle = await serve({
    port: values.port === undefined ? undefined : Number(values.port),
    dist: values.dist,
    models: values.models,
    base: values.base,
  });
  console.log(`convlens: serving on ${handle.url}`);
  process.once('SIGINT', () => void handle.close().then(() => process.exit(0)));
}
