/**
 * The bytes of a weight file from a URL, through a cache folder, as a stream of chunks: a complete
 * cached copy is read from disk; a partial one (`<name>.part`, left by a stopped run or a dropped
 * connection) is read from disk and the rest fetched with an HTTP Range request, appended as it
 * arrives. Beside it, `<name>.part.json` keeps what identifies the file (ETag, Last-Modified, length):
 * a resume sends it as If-Range and starts the file again, saying why on stderr, when the server
 * ignores Range (200 instead of 206), when the file changed, or when the .part has no such record.
 * A dropped connection is retried from where it stopped.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';

export class DownloadError extends Error {
  override name = 'DownloadError';
}

/** `$XDG_CACHE_HOME/convlens` or `~/.cache/convlens`. */
export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'convlens');
}

/** The cache file of a URL: its last path segment plus a hash of the whole URL (two mirrors never collide). */
export function cachePath(url: string, cache: string): string {
  const u = new URL(url);
  const name = basename(u.pathname).replace(/[^\w.-]/g, '_') || 'weights';
  const tag = createHash('sha256').update(url).digest('hex').slice(0, 12);
  return join(cache, `${tag}-${name}`);
}

/** https anywhere; plain http only to this computer (a local mirror or a test server). */
export function checkUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DownloadError(`'${url}' is not a URL`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback))
    throw new DownloadError(`${url}: weights are downloaded over https (plain http only from localhost)`);
  return u;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

async function* readFileChunks(path: string, end?: number): AsyncGenerator<Uint8Array> {
  if (end === 0) return;
  for await (const chunk of createReadStream(path, { end: end === undefined ? undefined : end - 1 }))
    yield new Uint8Array((chunk as Buffer).buffer, (chunk as Buffer).byteOffset, (chunk as Buffer).byteLength);
}

export interface Download {
  /** Where the complete file ends up. */
  path: string;
  /** The file's length, when the server or the cache says it. */
  total?: number;
  /** The file's bytes from the first; on a dropped connection it resumes with Range. */
  chunks: AsyncGenerator<Uint8Array>;
  /** Delete the cached copy (a file that turned out wrong). */
  discard(): Promise<void>;
}

/** What identifies the remote file between two runs; kept beside the .part file. */
export interface Validator {
  etag?: string;
  lastModified?: string;
  /** Total length in bytes, when the server says. */
  length?: number;
}

const CONTENT_RANGE = /^bytes (\d+)-(\d+)\/(\d+|\*)$/;

/** The validator a response carries; `from` is where its body starts in the file. */
function validatorOf(res: Response, from: number): Validator {
  const range = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
  const declared = res.headers.get('content-length');
  const length = range && range[3] !== '*' ? Number(range[3]) : declared !== null ? from + Number(declared) : NaN;
  const etag = res.headers.get('etag');
  const lastModified = res.headers.get('last-modified');
  return {
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
    ...(Number.isFinite(length) ? { length } : {}),
  };
}

/** Same file unless something both sides know differs. */
function sameFile(a: Validator, b: Validator): boolean {
  if (a.etag && b.etag && a.etag !== b.etag) return false;
  if (a.lastModified && b.lastModified && a.lastModified !== b.lastModified) return false;
  return a.length === undefined || b.length === undefined || a.length === b.length;
}

/** The If-Range value: a strong ETag, else Last-Modified (HTTP forbids a weak ETag there). */
function ifRangeOf(v: Validator): string | undefined {
  return v.etag && !v.etag.startsWith('W/') ? v.etag : v.lastModified;
}

/** The sidecar's validator; undefined when there is none or it cannot be read. */
async function readValidator(path: string): Promise<Validator | undefined> {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  return {
    ...(typeof v.etag === 'string' ? { etag: v.etag } : {}),
    ...(typeof v.lastModified === 'string' ? { lastModified: v.lastModified } : {}),
    ...(typeof v.length === 'number' ? { length: v.length } : {}),
  };
}

/** An open response: its body starts at byte `from` of the file `validator` describes. */
interface Opened {
  res: Response;
  from: number;
  validator: Validator;
}

/**
 * Open `url` through `cache`; `retries` is how many dropped connections one run resumes from, `note`
 * tells the user why a partial download starts again.
 */
export async function download(
  url: string,
  cache: string,
  { retries = 5, note = (s: string) => void process.stderr.write(`${s}\n`) } = {},
): Promise<Download> {
  checkUrl(url);
  await mkdir(cache, { recursive: true });
  const path = cachePath(url, cache);
  const part = `${path}.part`;
  const sidecar = `${part}.json`;
  const discard = async () => {
    await rm(path, { force: true });
    await rm(part, { force: true });
    await rm(sidecar, { force: true });
  };
  const complete = await sizeOf(path);
  if (complete !== undefined) return { path, total: complete, chunks: readFileChunks(path), discard };

  const get = async (from: number, known?: Validator): Promise<Response> => {
    const headers: Record<string, string> = {};
    if (from > 0) headers.Range = `bytes=${from}-`;
    const ifRange = from > 0 && known ? ifRangeOf(known) : undefined;
    if (ifRange) headers['If-Range'] = ifRange;
    let res: Response;
    try {
      res = await fetch(url, { headers });
    } catch (e) {
      throw new DownloadError(`${url}: ${(e as Error).cause ?? (e as Error).message}; check the URL and the network`);
    }
    if (res.status === 200 || res.status === 206 || (res.status === 416 && from > 0)) return res;
    await res.body?.cancel();
    throw new DownloadError(
      `${url}: the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}; check the URL`,
    );
  };

  /**
   * The file from byte `from` on, when the server sends that part of the file `known` describes;
   * otherwise why not, with the whole file when the server sent it anyway (a 200).
   */
  const resume = async (from: number, known: Validator): Promise<Opened & { why?: string }> => {
    const res = await get(from, known);
    if (res.status === 416)
      return { res, from, validator: {}, why: 'the partial download is as long as the file on the server or longer' };
    const range = CONTENT_RANGE.exec(res.headers.get('content-range') ?? '');
    const start = res.status === 206 ? (range ? Number(range[1]) : from) : 0;
    const validator = validatorOf(res, start);
    let why: string | undefined;
    if (!sameFile(known, validator)) why = 'the file changed on the server since the download began';
    else if (res.status === 200) why = 'the server does not resume downloads (it sent the whole file again)';
    else if (start !== from) why = `the server sent the file from byte ${start} instead of ${from}`;
    return { res, from: start, validator, ...(why ? { why } : {}) };
  };

  /** Where this run starts: the rest of a partial download of the same file, else the whole file. */
  const openFirst = async (): Promise<Opened> => {
    const have = (await sizeOf(part)) ?? 0;
    const known = have > 0 ? await readValidator(sidecar) : undefined;
    if (known) {
      const opened = await resume(have, known);
      if (!opened.why) return opened;
      note(`${url}: ${opened.why}; downloading it again from the start`);
      if (opened.res.status === 200) return opened;
      await opened.res.body?.cancel().catch(() => {});
    } else if (have > 0) {
      const why = 'the partial download has no record of which version of the file it holds';
      note(`${url}: ${why}; downloading it again from the start`);
    }
    const res = await get(0);
    return { res, from: 0, validator: validatorOf(res, 0) };
  };

  const first = await openFirst();
  const { validator } = first;
  const total = validator.length;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const from = first.from;
    let res = first.res;
    if (from === 0) {
      // A new download: record which file it is before its first byte is kept.
      await rm(part, { force: true });
      await writeFile(sidecar, `${JSON.stringify(validator)}\n`);
    } else yield* readFileChunks(part, from);
    const f = await open(part, 'a');
    let at = from;
    let left = retries;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    let cannotResume: string | undefined;
    try {
      for (;;) {
        try {
          reader = res.body!.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            await f.write(value);
            at += value.length;
            yield value;
          }
          break;
        } catch (e) {
          if (left-- <= 0 || e instanceof DownloadError)
            throw new DownloadError(
              `${url}: the connection dropped after ${at} bytes (${(e as Error).message}); run the command again to resume`,
            );
          const next = await resume(at, validator);
          if (next.why) {
            await next.res.body?.cancel().catch(() => {});
            cannotResume = next.why;
            break;
          }
          res = next.res;
        }
      }
    } finally {
      // Stopped early (a wrong file) or failed: let the connection go.
      await reader?.cancel().catch(() => {});
      await f.close();
    }
    if (cannotResume !== undefined) {
      // What arrived so far is of another version of the file, or cannot be continued: the next run starts anew.
      await discard();
      throw new DownloadError(`${url}: ${cannotResume}; run the command again to download it from the start`);
    }
    if (total !== undefined && at !== total)
      throw new DownloadError(`${url}: got ${at} of ${total} bytes; run the command again to resume`);
    await rename(part, path);
    await rm(sidecar, { force: true });
  }
  return { path, total, chunks: chunks(), discard };
}
