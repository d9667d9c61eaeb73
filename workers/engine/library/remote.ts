/**
 * The server side of a download: the bundle folder's URL, the parts to fetch, the manifest and the shards,
 * each checked as it arrives (an HTML page in place of a file, a manifest for another model, more bytes
 * than declared) with an error that says what to do. Storing and resuming are the library's (library.ts).
 */
import type { BundleManifest, PartInfo, ShardInfo } from '../../../src/core/bundle/manifest';
import { BundleFormatError, MissingShardError, ShardLengthError } from '../../../src/core/bundle/errors';
import { MODEL_INDEX_FILE, parseModelIndex } from '../../../src/core/bundle/served-index';
import { parseManifest } from '../../../src/core/bundle/verify';
import type { PartName, ServedModel } from '../protocol';

/** The fetch options the library uses (RequestInit's shape differs between the DOM and Node's types). */
export interface FetchInit {
  signal?: AbortSignal;
  cache?: 'no-cache' | 'no-store';
  credentials?: 'same-origin';
  headers?: Record<string, string>;
}
export type FetchFn = (input: string, init?: FetchInit) => Promise<Response>;

/** A manifest bigger than this is not one of ours (VGG16's is ~10 kB). */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The bundle folder's absolute URL, ending in '/'. */
export function folderUrl(baseUrl: string, baseHref: string | undefined): string {
  const folder = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  try {
    return new URL(folder, baseHref).href;
  } catch {
    throw new BundleFormatError(`'${baseUrl}' is not a valid model URL`);
  }
}

/** The requested parts in manifest order; the base always, since nothing works without it. */
export function selectParts(manifest: BundleManifest, requested: PartName[] | undefined, folder: string): PartInfo[] {
  const wanted = new Set<PartName>(['base', ...(requested ?? manifest.parts.map((p) => p.name))]);
  for (const name of wanted) {
    if (!manifest.parts.some((p) => p.name === name))
      throw new BundleFormatError(`the bundle at ${folder} has no '${name}' part`);
  }
  const parts = manifest.parts.filter((p) => wanted.has(p.name));
  for (const shard of parts.flatMap((p) => p.shards)) {
    if (!SAFE_FILE.test(shard.file))
      throw new BundleFormatError(`the bundle at ${folder} names an unsafe shard file '${shard.file}'`);
  }
  return [...parts.filter((p) => p.name === 'base'), ...parts.filter((p) => p.name !== 'base')];
}

export async function fetchManifest(
  fetch: FetchFn,
  folder: string,
  id: string,
  signal: AbortSignal,
): Promise<BundleManifest> {
  const url = `${folder}manifest.json`;
  const res = await fetch(url, { signal, cache: 'no-cache', credentials: 'same-origin' });
  if (!res.ok) {
    throw new BundleFormatError(
      `no model bundle at ${folder}: manifest.json answered HTTP ${res.status} ${res.statusText}`.trim(),
    );
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > MAX_MANIFEST_BYTES)
    throw new BundleFormatError(`${url} is ${declared} bytes: too big to be a model manifest`);
  const text = await res.text();
  if (text.length > MAX_MANIFEST_BYTES) throw new BundleFormatError(`${url} is too big to be a model manifest`);
  // A server that answers every path with its index page (transformers.js #1187) gives HTML with 200.
  if (/html/i.test(res.headers.get('content-type') ?? '') || /^\s*</.test(text)) {
    throw new BundleFormatError(`${url} is an HTML page, not a model manifest: no model is deployed at ${folder}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BundleFormatError(`${url} is not a model manifest (not valid JSON): the model at ${folder} is damaged`);
  }
  const manifest = parseManifest(json);
  if (manifest.id !== id) throw new BundleFormatError(`${url} describes model '${manifest.id}', not '${id}'`);
  return manifest;
}

/** Streams one shard into a buffer of exactly its declared size; more or fewer bytes fail at once. */
export async function fetchShard(
  fetch: FetchFn,
  folder: string,
  shard: ShardInfo,
  signal: AbortSignal,
  onBytes: (n: number) => void,
): Promise<Uint8Array> {
  const url = folder + shard.file;
  const res = await fetch(url, { signal, cache: 'no-store', credentials: 'same-origin' });
  if (res.status === 404)
    throw new MissingShardError(
      url,
      `shard ${shard.file} is missing on the server (${url}: 404): the model is not fully deployed`,
    );
  if (!res.ok)
    throw new BundleFormatError(`shard ${shard.file} could not be downloaded: ${url} answered HTTP ${res.status}`);
  const out = new Uint8Array(shard.bytes);
  let got = 0;
  const reader = res.body?.getReader();
  if (!reader) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    onBytes(bytes.length);
    return bytes;
  }
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (got + value.length > shard.bytes) {
      // Never buffer more than the manifest promised (a hostile or misconfigured server).
      await reader.cancel().catch(() => undefined);
      const html = /^\s*</.test(new TextDecoder().decode((got ? out : value).subarray(0, 64)));
      throw new ShardLengthError(
        shard.file,
        shard.bytes,
        got + value.length,
        `shard ${shard.file} is more than the ${shard.bytes} bytes the manifest says: ` +
          (html
            ? `${url} is a web page, not model data; check the model URL`
            : 'it is not the file the manifest describes') +
          ', then download again',
      );
    }
    out.set(value, got);
    got += value.length;
    onBytes(got);
  }
  // Too short (a cut-off download, or an HTML page served in its place): verifyShard names which.
  return got === shard.bytes ? out : out.subarray(0, got);
}

/** The bundles in `models/index.json` next to the app; none when there is no index, or it cannot be read. */
export async function fetchServedModels(fetch: FetchFn, baseHref: string | undefined): Promise<ServedModel[]> {
  try {
    const url = new URL(`models/${MODEL_INDEX_FILE}`, baseHref).href;
    const res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin' });
    if (!res.ok || /html/i.test(res.headers.get('content-type') ?? '')) return [];
    return parseModelIndex(await res.json()).map(({ path, ...model }) => ({ ...model, url: new URL(path, url).href }));
  } catch {
    // Offline, or a static host without an index: nothing is served, which is not an error.
    return [];
  }
}
