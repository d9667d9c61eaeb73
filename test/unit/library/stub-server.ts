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
