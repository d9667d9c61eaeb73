/**
 * A weights file fetched by URL into a stored bundle, resumable across reloads and dropped connections.
 * safetensors streams through the converter: never the whole fp32 file in memory, each shard stored as
 * it completes, in one transaction with the converter's snapshot (with the file's hash state) and
 * validators (ImportRecord).
 * Keras .h5 and ONNX are stored in chunks first and converted at the end by the existing importers:
 * HDF5 is read by random access (h5wasm needs the whole file) and the ONNX reader parses one protobuf.
 * The model is `ready` only after every converted shard verifies against the manifest (two-phase commit).
 * A write the browser refuses (QuotaExceededError) removes all the import stored and ends in QuotaError.
 */
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import { MissingShardError, SourceHashError } from '../../../src/core/bundle/errors';
import { sha256Hex } from '../../../src/core/bundle/sha256';
import { verifyShard } from '../../../src/core/bundle/verify';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import type { Progress, StoredModel } from '../protocol';
import type { SafetensorsSnapshot } from '../../../src/core/vgg16/safetensors';
import type { ConverterFactory, StreamConverter } from './convert';
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
import { exactBuffer } from './records';
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
  /** Bytes per stored chunk of an .h5/.onnx file (FILE_CHUNK_BYTES; tests use small ones). */
  chunkBytes: number;
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
      // A stored state this converter cannot continue (an older app version's): start the file again.
      if ((err as { name?: unknown }).name === 'ConversionStateError' && attempt === 0) {
        await discardImport(db, request.id);
        continue;
      }
      // A connection dropped mid-file: go on from the last stored point, a few times, then let the user resume.
      if (!(err instanceof WeightsNetworkError) || attempt >= ctx.retries || signal.aborted) {
        // The browser refused a write (here, or the converted bundle's in importWeights): remove what is stored.
        if (isQuotaExceeded(err) || (err as { name?: unknown }).name === 'QuotaError') {
          await deleteImport(db, request.id, await db.get('imports', request.id));
          throw isQuotaExceeded(err) ? new QuotaError(space.needed, undefined) : err;
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
  let converter: StreamConverter | undefined;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  let rec: ImportRecord = record;
  ctx.report({ phase: 'download', done: pos, total, unit: 'bytes' }, true);

  for (;;) {
    const chunk = await readChunk(opened.reader, url, signal);
    if (!chunk) break;
    if (first) {
      first = false;
      kind = checkFirstBytes(chunk, url, kind);
      mode = kind === 'safetensors' ? 'stream' : 'file';
      rec = { ...rec, mode };
    }
    pos += chunk.length;
    if (mode === 'stream') {
      converter ??= await startConverter(ctx, rec, (next) => (rec = next));
      await converter.write(chunk);
    } else {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= ctx.chunkBytes) {
        const all = joined(pending);
        rec = await storeChunk(db, rec, all.slice(0, ctx.chunkBytes));
        pending = [all.subarray(ctx.chunkBytes)];
        pendingBytes = pending[0]!.length;
      }
    }
    ctx.report({ phase: 'download', done: pos, total, unit: 'bytes' });
  }
  if (total > 0 && pos !== total)
    throw new WeightsNetworkError(url, `the connection closed after ${pos} of ${total} bytes`);
  ctx.report({ phase: 'download', done: pos, total: total || pos, unit: 'bytes' }, true);

  if (mode === 'file') {
    if (pendingBytes > 0) rec = await storeChunk(db, rec, joined(pending).slice());
    return finishFile(ctx, rec, url);
  }
  if (!converter) throw new UnsupportedWeightsError(`${url} is empty`);
  let manifest: BundleManifest;
  try {
    manifest = await converter.finish();
  } catch (err) {
    // Another file than the published one: nothing of it can be kept.
    if (!(err instanceof SourceHashError)) throw err;
    await deleteImport(db, id, rec);
    throw new WeightsChecksumError(url, err.expected, err.actual);
  }
  return commit(ctx, rec, manifest);
}

/** Is the file what its URL says (or, without an extension, a format the app reads)? */
function checkFirstBytes(
  chunk: Uint8Array,
  url: string,
  kind: UrlImportJob['kind'],
): NonNullable<UrlImportJob['kind']> {
  if (looksLikeHtml(chunk)) throw new WeightsHtmlError(url);
  const h5 = chunk[0] === 0x89 && chunk[1] === 0x48 && chunk[2] === 0x44 && chunk[3] === 0x46;
  if (kind === undefined) kind = h5 ? 'h5' : looksLikeSafetensors(chunk) ? 'safetensors' : undefined;
  if (kind === undefined)
    throw new UnsupportedWeightsError(
      `${url} is not a weights file convlens reads: use a .safetensors (timm/torchvision VGG16), Keras .h5 ` +
        'or ONNX file, or a convlens model folder (a URL ending in /)',
    );
  if (kind === 'safetensors' && !looksLikeSafetensors(chunk))
    throw new UnsupportedWeightsError(`${url} is not a safetensors file (it does not start with a safetensors header)`);
  return kind;
}

/** The converter, fresh or from the stored snapshot; its sink stores each shard, then the point to resume from. */
async function startConverter(
  ctx: UrlImportContext,
  rec: ImportRecord,
  update: (rec: ImportRecord) => void,
): Promise<StreamConverter> {
  const { db } = ctx;
  const shards = new Set(rec.shards);
  let record = rec;
  const converter: StreamConverter = await ctx.converter(
    {
      id: rec.id,
      quantization: 'int8',
      config: ctx.cfg,
      ...(rec.converter ? { snapshot: rec.converter as SafetensorsSnapshot } : {}),
      ...(rec.sha256 ? { sha256: rec.sha256 } : {}),
    },
    async ({ file, bytes }) => {
      const snapshot = converter.snapshot();
      const next: ImportRecord = {
        ...record,
        offset: snapshot.offset,
        converter: snapshot,
        shards: [...new Set(shards).add(file)],
        updatedAt: new Date().toISOString(),
      };
      // Shard and record in one transaction: a refused write leaves no shard the record does not list.
      const tx = db.transaction(['shards', 'imports'], 'readwrite');
      await requestsAndDone(tx, [
        tx.objectStore('shards').put(exactBuffer(bytes), [rec.id, file]),
        tx.objectStore('imports').put(next, rec.id),
      ]);
      shards.add(file);
      record = next;
      update(record);
    },
  );
  return converter;
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

/**
 * Waits for a write transaction through its requests too: a refused write names its error on its request
 * (QuotaExceededError) while tx.done may say only AbortError, and no request's rejection goes unhandled.
 */
async function requestsAndDone(tx: { done: Promise<void> }, requests: Promise<unknown>[]): Promise<void> {
  await Promise.all([...requests, tx.done]);
}

/** Stores `data` (its own buffer) as the next file chunk and moves the resume point past it. */
async function storeChunk(db: LibraryDb, rec: ImportRecord, data: Uint8Array): Promise<ImportRecord> {
  const next: ImportRecord = {
    ...rec,
    offset: rec.offset + data.length,
    chunks: rec.chunks + 1,
    updatedAt: new Date().toISOString(),
  };
  const tx = db.transaction(['chunks', 'imports'], 'readwrite');
  await requestsAndDone(tx, [
    tx.objectStore('chunks').put(data.buffer as ArrayBuffer, [rec.id, rec.chunks]),
    tx.objectStore('imports').put(next, rec.id),
  ]);
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
  await requestsAndDone(tx, [
    tx.objectStore('manifests').put(manifest, id),
    tx
      .objectStore('ready')
      .put({ id, parts: manifest.parts.map((p) => p.name), verifiedAt: new Date().toISOString() }, id),
    tx.objectStore('imports').delete(id),
  ]);
  return ctx.describe(id);
}
