/**
 * A stub `fetch` serving model bundles from memory, for the library tests: records every request,
 * streams bodies in small chunks (so progress and mid-shard aborts are real), honours AbortSignal
 * like fetch does, and lets a test replace any response (truncated, bit-flipped, HTML with 200…).
 */
import type { Bundle } from '../../../src/core/bundle/build';
import type { FetchInit } from '../../../workers/engine/library/remote';

export type Responder = (url: string, init?: FetchInit) => Response | Promise<Response>;

const abortError = () => new DOMException('The operation was aborted.', 'AbortError');

/** A streamed response whose body errors with AbortError when `signal` fires, as fetch's does. */
export function streamed(
  bytes: Uint8Array,
  init: ResponseInit & { signal?: AbortSignal | null; chunk?: number } = {},
): Response {
  const { signal, chunk = 1024, ...rest } = init;
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      signal?.addEventListener('abort', () => controller.error(abortError()), { once: true });
    },
    pull(controller) {
      if (signal?.aborted) return controller.error(abortError());
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
  return new Response(body, { status: 200, ...rest });
}

export class StubServer {
  /** URL → responder; URLs not here answer 404. */
  readonly routes = new Map<string, Responder>();
  readonly requests: string[] = [];

  constructor(readonly origin = 'https://models.test/') {}

  /** Serves a bundle under `<origin><folder>/`: manifest.json and every shard. */
  add(folder: string, bundle: Bundle): string {
    const base = `${this.origin}${folder}/`;
    const manifest = new TextEncoder().encode(JSON.stringify(bundle.manifest));
    this.routes.set(`${base}manifest.json`, (_u, init) =>
      streamed(manifest, { signal: init?.signal, headers: { 'content-type': 'application/json' } }),
    );
    for (const [file, bytes] of bundle.shards) {
      this.routes.set(`${base}${file}`, (_u, init) =>
        streamed(bytes, { signal: init?.signal, headers: { 'content-type': 'application/octet-stream' } }),
      );
    }
    return base;
  }

  count(suffix: string): number {
    return this.requests.filter((u) => u.endsWith(suffix)).length;
  }

  readonly fetch = async (url: string, init?: FetchInit): Promise<Response> => {
    this.requests.push(url);
    if (init?.signal?.aborted) throw abortError();
    const route = this.routes.get(url);
    if (!route) return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
    return route(url, init);
  };
}

export const HTML_PAGE =
  '<!doctype html>\n<html><head><title>convlens</title></head><body><div id="app"></div></body></html>\n';

/** How a ranged file answers: validators, Range support, a type, and a connection that drops once. */
export interface RangedFileOptions {
  etag?: string;
  /** false: a server that ignores Range and always sends the whole file with 200. */
  ranges?: boolean;
  contentType?: string;
  /** The first response's body fails with a network error after this many bytes. */
  dropAfter?: number;
  chunk?: number;
}

/**
 * A file served as a CDN does: `Range: bytes=N-` answers 206 with Content-Range, ETag and the length;
 * `log` gets each request's Range header (undefined for a whole-file request). Options may change
 * between requests (a new ETag: the file was replaced).
 */
export function rangedFile(file: () => Uint8Array, options: RangedFileOptions, log: (string | undefined)[]): Responder {
  let drops = options.dropAfter === undefined ? 0 : 1;
  return (_url, init) => {
    const bytes = file();
    const range = init?.headers?.Range;
    log.push(range);
    const m = range === undefined ? null : /^bytes=(\d+)-$/.exec(range);
    const start = m && options.ranges !== false ? Number(m[1]) : 0;
    const headers: Record<string, string> = {
      'content-type': options.contentType ?? 'application/octet-stream',
      'content-length': String(bytes.length - start),
      'accept-ranges': options.ranges === false ? 'none' : 'bytes',
      ...(options.etag ? { etag: options.etag } : {}),
      ...(start > 0 ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    };
    const body = bytes.subarray(start);
    if (drops > 0) {
      drops--;
      return dropping(body, options.dropAfter!, { status: start > 0 ? 206 : 200, headers });
    }
    return streamed(body, { signal: init?.signal, chunk: options.chunk, status: start > 0 ? 206 : 200, headers });
  };
}

/** A body that fails like a dropped connection (fetch's TypeError) after `after` bytes. */
function dropping(bytes: Uint8Array, after: number, init: ResponseInit): Response {
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= after) return controller.error(new TypeError('network error'));
      const n = Math.min(1024, after - at);
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
  return new Response(body, init);
}
