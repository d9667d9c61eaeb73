/**
 * One remote weights file read from a byte offset on: `Range: bytes=<offset>-`, checked on arrival.
 * A 206 must start where asked (Content-Range); a 200 is the whole file, so the reader restarts from
 * zero; a different ETag, Last-Modified or length than the stored one means another file, so it restarts
 * too. 404, an HTML page and an unreachable server (or CORS) fail by name with what to do.
 */
import type { FetchFn } from './remote';
import { WeightsHtmlError, WeightsNetworkError, WeightsNotFoundError } from './errors';

/** What identifies the remote file between two sessions (kept with the import's progress). */
export interface SourceIdentity {
  etag?: string;
  lastModified?: string;
  /** Total length in bytes, when the server says. */
  length?: number;
}

export interface OpenedSource {
  identity: SourceIdentity;
  /** Offset of the body's first byte: the one asked for, or 0 when the reader must restart. */
  start: number;
  /** True when the stored progress no longer applies (no Range support, or a changed file). */
  restarted: boolean;
  reader: ReadableStreamDefaultReader<Uint8Array>;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** Same file unless a validator both sides know differs. */
export function sameFile(a: SourceIdentity, b: SourceIdentity): boolean {
  if (a.etag && b.etag && a.etag !== b.etag) return false;
  if (a.lastModified && b.lastModified && a.lastModified !== b.lastModified) return false;
  if (a.length !== undefined && b.length !== undefined && a.length !== b.length) return false;
  return true;
}

const isAbort = (err: unknown) => (err as { name?: unknown } | null)?.name === 'AbortError';

async function request(fetch: FetchFn, url: string, from: number, signal: AbortSignal): Promise<Response> {
  try {
    // A plain `bytes=N-` Range is CORS-safelisted: no preflight, so any host that serves the file can resume.
    return await fetch(url, {
      signal,
      cache: 'no-store',
      ...(from > 0 ? { headers: { Range: `bytes=${from}-` } } : {}),
    });
  } catch (err) {
    if (isAbort(err) || signal.aborted) throw err;
    throw new WeightsNetworkError(url, err instanceof Error ? err.message : String(err));
  }
}

function identityOf(res: Response, start: number): SourceIdentity {
  const range = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
  const declared = res.headers.get('content-length');
  const length =
    range && range[3] !== '*' ? Number(range[3]) : declared !== null ? start + Number(declared) : undefined;
  return {
    ...(res.headers.get('etag') ? { etag: res.headers.get('etag')! } : {}),
    ...(res.headers.get('last-modified') ? { lastModified: res.headers.get('last-modified')! } : {}),
    ...(length !== undefined && Number.isFinite(length) ? { length } : {}),
  };
}

/** A response that is a web page (by type, or by its first bytes on a restart from zero). */
function isHtml(res: Response): boolean {
  return /text\/html|application\/xhtml/i.test(res.headers.get('content-type') ?? '');
}

/**
 * Opens `url` at `from` (0: the whole file). `known` is the identity stored with the progress; when it
 * no longer matches, or the server ignores Range, the body starts at 0 and `restarted` is set.
 */
export async function openSource(
  fetch: FetchFn,
  url: string,
  from: number,
  known: SourceIdentity | undefined,
  signal: AbortSignal,
): Promise<OpenedSource> {
  let res = await request(fetch, url, from, signal);
  if (res.status === 416 && from > 0) {
    // Asked past the end: the file got shorter, so it is another file.
    await res.body?.cancel().catch(() => undefined);
    return openSource(fetch, url, 0, undefined, signal).then((o) => ({ ...o, restarted: true }));
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new WeightsNotFoundError(url, res.status);
  }
  if (isHtml(res)) {
    await res.body?.cancel().catch(() => undefined);
    throw new WeightsHtmlError(url);
  }
  let start = 0;
  if (res.status === 206) {
    const range = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
    // Without an exposed Content-Range (CORS), a 206 to `bytes=N-` starts at N by definition.
    start = range ? Number(range[1]) : from;
  }
  const identity = identityOf(res, start);
  const changed = known !== undefined && !sameFile(known, identity);
  if ((start !== from || changed) && start !== 0) {
    // A partial body of another file, or at the wrong offset: read the whole file again.
    await res.body?.cancel().catch(() => undefined);
    res = await request(fetch, url, 0, signal);
    if (!res.ok) throw new WeightsNotFoundError(url, res.status);
    if (isHtml(res)) throw new WeightsHtmlError(url);
    return { identity: identityOf(res, 0), start: 0, restarted: true, reader: bodyOf(res, url) };
  }
  return { identity, start, restarted: start !== from || changed, reader: bodyOf(res, url) };
}

function bodyOf(res: Response, url: string): ReadableStreamDefaultReader<Uint8Array> {
  if (!res.body) throw new WeightsNetworkError(url, 'the response has no body');
  return res.body.getReader();
}

/** Reads the next chunk, turning a dropped connection into WeightsNetworkError (aborts stay AbortError). */
export async function readChunk(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  url: string,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  try {
    const { done, value } = await reader.read();
    return done ? undefined : value;
  } catch (err) {
    if (isAbort(err) || signal.aborted) throw err;
    throw new WeightsNetworkError(url, err instanceof Error ? err.message : String(err));
  }
}

/** The first bytes look like an HTML page (servers that send pages as octet-stream or without a type). */
export function looksLikeHtml(first: Uint8Array): boolean {
  const text = new TextDecoder().decode(first.subarray(0, 64)).trimStart().toLowerCase();
  return (
    text.startsWith('<!doctype') || text.startsWith('<html') || text.startsWith('<?xml') || text.startsWith('<head')
  );
}
