/**
 * The bytes of a weight file from a URL, through a cache folder, as a stream of chunks: a complete
 * cached copy is read from disk; a partial one (`<name>.part`, left by a stopped run or a dropped
 * connection) is read from disk and the rest fetched with an HTTP Range request, appended as it
 * arrives. A server that ignores Range (200 instead of 206) restarts the file cleanly. A dropped
 * connection is retried from where it stopped.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
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

/** Open `url` through `cache`; `retries` is how many dropped connections one run resumes from. */
export async function download(url: string, cache: string, retries = 5): Promise<Download> {
  checkUrl(url);
  await mkdir(cache, { recursive: true });
  const path = cachePath(url, cache);
  const part = `${path}.part`;
  const discard = async () => {
    await rm(path, { force: true });
    await rm(part, { force: true });
  };
  const complete = await sizeOf(path);
  if (complete !== undefined) return { path, total: complete, chunks: readFileChunks(path), discard };

  const request = async (from: number) => {
    let res: Response;
    try {
      res = await fetch(url, { headers: from > 0 ? { Range: `bytes=${from}-` } : {} });
    } catch (e) {
      throw new DownloadError(`${url}: ${(e as Error).cause ?? (e as Error).message}; check the URL and the network`);
    }
    if (res.status === 416 && from > 0) return { res, from: -1 };
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      throw new DownloadError(
        `${url}: the server answered HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}; check the URL`,
      );
    }
    const ranged = res.status === 206 && from > 0;
    if (!ranged && from > 0) from = 0; // Range ignored: start the file again.
    return { res, from };
  };

  let have = (await sizeOf(part)) ?? 0;
  let first = await request(have);
  if (first.from < 0) {
    // 416: the part file is already as long as (or longer than) the file; fetch it again whole.
    await rm(part, { force: true });
    have = 0;
    first = await request(0);
  }
  const length = Number(first.res.headers.get('content-length'));
  const total =
    Number.isFinite(length) && first.res.headers.get('content-length') !== null ? first.from + length : undefined;

  async function* chunks(): AsyncGenerator<Uint8Array> {
    const from = first.from;
    let res = first.res;
    if (from === 0) await rm(part, { force: true });
    else yield* readFileChunks(part, from);
    const f = await open(part, 'a');
    let at = from;
    let left = retries;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
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
          const next = await request(at);
          if (next.from !== at)
            throw new DownloadError(
              `${url}: the server cannot resume at byte ${at} (no Range support); run the command again`,
            );
          res = next.res;
        }
      }
    } finally {
      // Stopped early (a wrong file) or failed: let the connection go.
      await reader?.cancel().catch(() => {});
      await f.close();
    }
    if (total !== undefined && at !== total)
      throw new DownloadError(`${url}: got ${at} of ${total} bytes; run the command again to resume`);
    await rename(part, path);
  }
  return { path, total, chunks: chunks(), discard };
}
