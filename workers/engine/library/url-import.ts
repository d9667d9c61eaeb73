/**
 * A weights file fetched by URL into a stored bundle, resumable across reloads and dropped connections.
 * safetensors streams through the converter: never the whole fp32 file in memory, each shard stored as
 * it completes, then the converter's snapshot, the hash state and the file's validators (ImportRecord).
 * Keras .h5 and ONNX are stored in chunks first and converted at the end by the existing importers:
 * HDF5 is read by random access (h5wasm needs the whole file) and the ONNX reader parses one protobuf.
 * The model is `ready` only after every converted shard verifies against the manifest (two-phase commit).
 */
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import { MissingShardError } from '../../../src/core/bundle/errors';
import { sha256Hex } from '../../../src/core/bundle/sha256';
import { verifyShard } from '../../../src/core/bundle/verify';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import type { Progress, StoredModel } from '../protocol';
import type { ConverterFactory, HashFactory, IncrementalHash, StreamConverter } from './convert';
import type { ImportRecord, LibraryDb } from './db';
import {
  QuotaError,
  UnsupportedWeightsError,
  WeightsChecksumError,
  WeightsHtmlError,
  WeightsNetworkError,
} from './errors';
import type { FetchFn } from './remote';
import { looksLikeHtml, openSource, readChunk, type OpenedSource } from './source';
import { readShard } from './store';

/** Raw file chunks of an .h5/.onnx import: small enough for one IndexedDB value on every browser. */
export const FILE_CHUNK_BYTES = 16 * 1024 * 1024;

export type UrlKind = 'bundle' | 'safetensors' | 'h5' | 'onnx';

export interface UrlImportContext {
  fetch: FetchFn;
  db: LibraryDb;
  cfg: VggConfig;
  signal: AbortSignal;
  converter: ConverterFactory;
  hash: HashFactory;
  /** Automatic resumes after a dropped connection before giving up (the user's Resume goes on). */
  retries: number;
  retryDelayMs: number;
  report(p: Progress, force?: boolean): void;
  /** Storage check before the first byte is stored, and the request for persistence. */
  ensureSpace(needed: number): Promise<void>;
  /** The existing Keras/ONNX importer, for whole files. */
  importWeights(file: { name: string; bytes: Uint8Array }): Promise<StoredModel>;
  /** Writes manifest and ready record together; the caller describes the model. */
  describe(id: string): Promise<StoredModel>;
}

export interface UrlImportJob {
  url: string;
  id: string;
  sha256?: string;
  /** From the URL's extension; undefined: told by the file's first bytes. */
  kind: Exclude<UrlKind, 'bundle'> | undefined;
}

const isQuotaExceeded = (err: unknown) => (err as { name?: unknown } | null)?.name === 'QuotaExceededError';
const fileName = (url: string) => decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');

/** What a URL names: a bundle folder (ends in '/' or manifest.json), or a weights file by its extension. */
export function urlKind(url: string): UrlKind | undefined {
  const path = new URL(url).pathname.toLowerCase();
  if (path.endsWith('/') || path.endsWith('/manifest.json')) return 'bundle';
  if (path.endsWith('.safetensors')) return 'safetensors';
  if (path.endsWith('.h5') || path.endsWith('.hdf5') || path.endsWith('.keras')) return 'h5';
  if (path.endsWith('.onnx')) return 'onnx';
  return undefined;
}

/** A model id from the URL: the Hugging Face repository's name, else the file's name without extension. */
export function idFromUrl(url: string): string {
  const parts = new URL(url).pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const resolve = parts.indexOf('resolve');
  const stem = resolve > 0 ? parts[resolve - 1]! : (parts.at(-1) ?? 'model').replace(/\.[^.]+$/, '');
  const id = stem.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  return id || 'model';
}

/** The safetensors header: an 8-byte little-endian length, then a JSON object. */
function looksLikeSafetensors(first: Uint8Array): boolean {
  if (first.length < 9) return true; // too short to tell; the converter decides
  const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  return n > 1 && n < 100e6 && first[8] === 0x7b;
}

/** Forgets an import from a URL and what it stored (its shards not yet committed, its file chunks). */
export async function discardImport(db: LibraryDb, id: string): Promise<void> {
  const record = await db.get('imports', id);
  if (record) await deleteImport(db, id, record);
}

async function deleteImport(db: LibraryDb, id: string, record: ImportRecord | undefined): Promise<void> {
  const tx = db.transaction(['imports', 'shards', 'chunks'], 'readwrite');
  void tx.objectStore('imports').delete(id);
  for (const file of record?.shards ?? []) void tx.objectStore('shards').delete([id, file]);
  for (let i = 0; i < (record?.chunks ?? 0); i++) void tx.objectStore('chunks').delete([id, i]);
  await tx.done;
}

function fresh(id: string, url: string, mode: ImportRecord['mode'], o: OpenedSource, sha256?: string): ImportRecord {
  return {
    id,
    url,
    mode,
    identity: o.identity,
    offset: 0,
    hashedTo: 0,
    ...(sha256 ? { sha256 } : {}),
    shards: [],
    chunks: 0,
    updatedAt: new Date().toISOString(),
  };
}

const delay = (ms: number, signal: AbortSignal) =>
  new Promise<void>((ok) => {
    const t = setTimeout(ok, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), ok()), { once: true });
  });

/** Imports `url` as model `id`; the stored ImportRecord (if any) says where to resume. */
export async function importFromUrl(ctx: UrlImportContext, request: UrlImportJob): Promise<StoredModel> {
  const { db, signal } = ctx;
  const space = { needed: 0 };
  for (let attempt = 0; ; attempt++) {
    try {
      return await attemptImport(ctx, request, space);
    } catch (err) {
      // A connection dropped mid-file: go on from the last stored point, a few times, then let the user resume.
      if (!(err instanceof WeightsNetworkError) || attempt >= ctx.retries || signal.aborted) {
        if (isQuotaExceeded(err)) {
          await deleteImport(db, request.id, await db.get('imports', request.id));
          throw new QuotaError(space.needed, undefined);
        }
        throw err;
      }
      await delay(ctx.retryDelayMs * (attempt + 1), signal);
    }
  }
}

async function attemptImport(
  ctx: UrlImportContext,
  request: UrlImportJob,
  space: { needed: number },
): Promise<StoredModel> {
  const { db, signal } = ctx;
  const { url, id } = request;
  let record = await db.get('imports', id);
  if (record && (record.url !== url || (request.sha256 && record.sha256 !== request.sha256))) {
    await deleteImport(db, id, record);
    record = undefined;
  }
  const opened = await openSource(ctx.fetch, url, record?.offset ?? 0, record?.identity, signal);
  let kind = request.kind;
  let mode: ImportRecord['mode'] = kind === 'safetensors' ? 'stream' : 'file';
  if (!record || opened.restarted) {
    if (record) await deleteImport(db, id, record);
    record = fresh(id, url, mode, opened, request.sha256);
  } else {
    mode = record.mode;
  }
  const total = opened.identity.length ?? record.identity.length ?? 0;
  let pos = opened.start;
  let first = pos === 0;
  // Stream mode keeps ~a quarter of the fp32 file (int8); file mode holds the file, then its bundle.
  space.needed = Math.round(total > 0 ? (mode === 'stream' ? total / 4 : total * 1.25) : 0);
  if (first) await ctx.ensureSpace(space.needed);
  const hasher: IncrementalHash | undefined = record.sha256 ? ctx.hash(record.hash) : undefined;
  let converter: StreamConverter | undefined;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let rec: ImportRecord = record;
  const stored: string[] = [...rec.shards];
  ctx.report({ phase: 'download', done: pos, total, unit: 'bytes' }, true);

  for (;;) {
    const chunk = await readChunk(opened.reader, url, signal);
    if (!chunk) break;
    if (first) {
      first = false;
      if (looksLikeHtml(chunk)) throw new WeightsHtmlError(url);
      if (kind === undefined) kind = looksLikeSafetensors(chunk) ? 'safetensors' : undefined;
      if (kind === undefined && chunk[0] === 0x89 && chunk[1] === 0x48) kind = 'h5';
      if (kind === undefined)
        throw new UnsupportedWeightsError(
          `${url} is not a weights file convlens reads: use a .safetensors (timm/torchvision VGG16), Keras .h5 ` +
            'or ONNX file, or a convlens bundle folder (a URL ending in /)',
        );
      if (kind === 'safetensors' && !looksLikeSafetensors(chunk))
        throw new UnsupportedWeightsError(`${url} is not a safetensors file (its header is not one)`);
      if (mode !== (kind === 'safetensors' ? 'stream' : 'file')) {
        mode = kind === 'safetensors' ? 'stream' : 'file';
        rec = { ...rec, mode };
      }
    }
    if (hasher && pos + chunk.length > rec.hashedTo) hasher.update(chunk.subarray(Math.max(0, rec.hashedTo - pos)));
    const hashedTo = Math.max(rec.hashedTo, pos + chunk.length);
    pos += chunk.length;
    if (mode === 'stream') {
      converter ??= await ctx.converter({
        id,
        cfg: ctx.cfg,
        sink: async (file, bytes) => {
          await db.put('shards', bytes.slice().buffer as ArrayBuffer, [id, file]);
          if (!stored.includes(file)) stored.push(file);
        },
        ...(rec.converter ? { resume: rec.converter as { offset: number } } : {}),
      });
      const before = stored.length;
      await converter.push(chunk);
      if (stored.length !== before) {
        rec = { ...rec, offset: converter.snapshot().offset, converter: converter.snapshot(), shards: [...stored] };
        rec = { ...rec, hashedTo, ...(hasher ? { hash: hasher.state() } : {}), updatedAt: new Date().toISOString() };
        await db.put('imports', rec, id);
      }
    } else {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= FILE_CHUNK_BYTES) {
        const all = joined(pending);
        rec = await storeChunk(db, rec, all.slice(0, FILE_CHUNK_BYTES), hasher, hashedTo);
        pending = [all.subarray(FILE_CHUNK_BYTES)];
        pendingBytes = pending[0]!.length;
      }
    }
    ctx.report({ phase: 'download', done: pos, total, unit: 'bytes' });
  }
  if (total > 0 && pos !== total)
    throw new WeightsNetworkError(url, `the connection closed after ${pos} of ${total} bytes`);
  ctx.report({ phase: 'download', done: pos, total: total || pos, unit: 'bytes' }, true);

  if (mode === 'file') {
    if (pendingBytes > 0) rec = await storeChunk(db, rec, joined(pending).slice(), hasher, pos);
    return finishFile(ctx, rec, url);
  }
  if (!converter) throw new UnsupportedWeightsError(`${url} is empty`);
  const manifest = await converter.finish();
  rec = { ...rec, shards: [...stored] };
  await db.put('imports', rec, id);
  if (hasher && rec.sha256) {
    const actual = hasher.hex();
    if (actual !== rec.sha256) {
      await deleteImport(db, id, rec);
      throw new WeightsChecksumError(url, rec.sha256, actual);
    }
  }
  return commit(ctx, rec, manifest);
}

function joined(list: Uint8Array[]): Uint8Array {
  if (list.length === 1) return list[0]!;
  const out = new Uint8Array(list.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of list) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Stores `data` (its own buffer) as the next file chunk and moves the resume point past it. */
async function storeChunk(
  db: LibraryDb,
  rec: ImportRecord,
  data: Uint8Array,
  hasher: IncrementalHash | undefined,
  hashedTo: number,
): Promise<ImportRecord> {
  const next: ImportRecord = {
    ...rec,
    offset: rec.offset + data.length,
    chunks: rec.chunks + 1,
    hashedTo,
    ...(hasher ? { hash: hasher.state() } : {}),
    updatedAt: new Date().toISOString(),
  };
  const tx = db.transaction(['chunks', 'imports'], 'readwrite');
  void tx.objectStore('chunks').put(data.buffer as ArrayBuffer, [rec.id, rec.chunks]);
  void tx.objectStore('imports').put(next, rec.id);
  await tx.done;
  return next;
}

/** Reads the stored chunks back as one file, checks its sha256 and hands it to the Keras/ONNX importer. */
async function finishFile(ctx: UrlImportContext, rec: ImportRecord, url: string): Promise<StoredModel> {
  const { db } = ctx;
  const bytes = new Uint8Array(rec.offset);
  let at = 0;
  for (let i = 0; i < rec.chunks; i++) {
    const chunk = await db.get('chunks', [rec.id, i]);
    if (!chunk) {
      await deleteImport(db, rec.id, rec);
      throw new WeightsNetworkError(url, 'part of the stored download is gone; it starts again from the beginning');
    }
    bytes.set(new Uint8Array(chunk), at);
    at += chunk.byteLength;
  }
  if (rec.sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== rec.sha256) {
      await deleteImport(db, rec.id, rec);
      throw new WeightsChecksumError(url, rec.sha256, actual);
    }
  }
  const model = await ctx.importWeights({ name: fileName(url), bytes });
  await deleteImport(db, rec.id, rec);
  return model;
}

/** Second phase: every converted shard verifies against the manifest, then manifest and ready commit together. */
async function commit(ctx: UrlImportContext, rec: ImportRecord, manifest: BundleManifest): Promise<StoredModel> {
  const { db } = ctx;
  const { id } = rec;
  if (manifest.id !== id) throw new Error(`internal: the converter built '${manifest.id}', not '${id}'`);
  const all = manifest.parts.flatMap((p) => p.shards);
  let done = 0;
  ctx.report({ phase: 'verify', done, total: all.length }, true);
  for (const shard of all) {
    const bytes = await readShard(db, id, shard.file);
    try {
      if (!bytes) throw new MissingShardError(`${id}/${shard.file}`, `converted shard ${shard.file} is not stored`);
      await verifyShard(shard, bytes);
    } catch (err) {
      // Storage lost or damaged a converted shard: nothing of this import can be trusted; convert again.
      await deleteImport(db, id, rec);
      throw new WeightsNetworkError(rec.url, `${(err as Error).message}; the download starts again`);
    }
    ctx.report({ phase: 'verify', done: ++done, total: all.length });
  }
  const tx = db.transaction(['manifests', 'ready', 'imports'], 'readwrite');
  void tx.objectStore('manifests').put(manifest, id);
  void tx
    .objectStore('ready')
    .put({ id, parts: manifest.parts.map((p) => p.name), verifiedAt: new Date().toISOString() }, id);
  void tx.objectStore('imports').delete(id);
  await tx.done;
  return ctx.describe(id);
}
