/**
 * The model library of the PWA (EngineApi's LibraryApi half), in the engine worker:
 * downloads bundles into IndexedDB shard by shard, verifying each before it is stored, resuming from
 * the shards already verified, and writing the `ready` record only once the base is complete
 * (a model is never half-stored or trusted unverified); converts user-supplied Keras/ONNX weights
 * into a stored int8 bundle.
 * What is fetched from the server, and how it is checked on arrival, is remote.ts. Platform pieces
 * (fetch, navigator.storage, the database name) are injected so Node tests run it against
 * fake-indexeddb and a stub fetch.
 */
import type { ShardInfo } from '../../../src/core/bundle/manifest';
import { buildBundle } from '../../../src/core/bundle/build';
import { BundleFormatError } from '../../../src/core/bundle/errors';
import { sha256Hex } from '../../../src/core/bundle/sha256';
import { verifyShard } from '../../../src/core/bundle/verify';
import { VGG16, type VggConfig } from '../../../src/core/vgg16/spec';
import { EngineStateError, ModelNotFoundError } from '../errors';
import type {
  DownloadRequest,
  LibraryApi,
  PartName,
  PendingImport,
  Progress,
  ProgressFn,
  ServedModel,
  StorageEstimate,
  StoredModel,
  UrlImportRequest,
} from '../protocol';
import { LibraryConnection } from './connection';
import { defaultConverter, type ConverterFactory } from './convert';
import type { DbEvent } from './db';
import { AbortError, QuotaError, UnsupportedWeightsError } from './errors';
import { fetchManifest, fetchServedModels, fetchShard, folderUrl, selectParts, type FetchFn } from './remote';
import { describe, dropIncomplete, exactBuffer, markComplete, purge, sameShards } from './records';
import { IdbBundleStore, readShard } from './store';
import { discardImport, FILE_CHUNK_BYTES, idFromUrl, importFromUrl, urlKind } from './url-import';

/** The parts of `navigator.storage` the library uses (persist() exists only on Window, not in workers). */
export interface StorageLike {
  estimate?(): Promise<{ usage?: number; quota?: number }>;
  persisted?(): Promise<boolean>;
  persist?(): Promise<boolean>;
}

export interface LibraryOptions {
  /** IndexedDB database name (default `convlens`); tests use a fresh one each. */
  dbName?: string;
  fetch?: FetchFn;
  storage?: StorageLike;
  /** Base for relative `baseUrl`s (the worker's location in the browser). */
  baseHref?: string;
  /** The connection changed under us (schema upgrade in another tab…); the UI should ask to reload. */
  onDbEvent?: (event: DbEvent) => void;
  /** Minimum milliseconds between two download progress reports (default 100). */
  progressIntervalMs?: number;
  /** Architecture imported weights must have (default VGG16; tests import tiny ones). */
  importConfig?: VggConfig;
  /** The streaming safetensors converter (default: the app's). */
  converter?: ConverterFactory;
  /** Automatic resumes of a URL import after a dropped connection (default 3), and the first wait (default 1 s). */
  retries?: number;
  retryDelayMs?: number;
  /** Bytes per stored chunk of a downloaded .h5/.onnx file (default FILE_CHUNK_BYTES). */
  chunkBytes?: number;
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

const isQuotaExceeded = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'QuotaExceededError';
const sum = (shards: readonly ShardInfo[]) => shards.reduce((n, s) => n + s.bytes, 0);

export class IdbModelLibrary implements LibraryApi {
  readonly conn: LibraryConnection;
  /** The BundleStore the engine loads models from (same database). */
  readonly store: IdbBundleStore;
  private readonly fetch: FetchFn;
  private readonly storage: StorageLike | undefined;
  private readonly baseHref: string | undefined;
  private readonly progressIntervalMs: number;
  private readonly importConfig: VggConfig;
  private readonly converter: ConverterFactory;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly chunkBytes: number;
  private active: { id: string; controller: AbortController } | undefined;

  constructor(options: LibraryOptions = {}) {
    this.conn = new LibraryConnection(options.dbName, options.onDbEvent);
    this.store = new IdbBundleStore(this.conn);
    // Called through an arrow: a bare `fetch` stored on an object throws "Illegal invocation" in browsers.
    this.fetch = options.fetch ?? ((input, init) => fetch(input, init as RequestInit));
    this.storage = options.storage ?? (globalThis as { navigator?: { storage?: StorageLike } }).navigator?.storage;
    this.baseHref = options.baseHref ?? (globalThis as { location?: { href?: string } }).location?.href;
    this.progressIntervalMs = options.progressIntervalMs ?? 100;
    this.importConfig = options.importConfig ?? VGG16;
    this.converter = options.converter ?? defaultConverter;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
    this.chunkBytes = options.chunkBytes ?? FILE_CHUNK_BYTES;
  }

  // ---------------------------------------------------------------- queries

  async listModels(): Promise<StoredModel[]> {
    const db = await this.conn.get();
    const ids = await db.getAllKeys('manifests');
    return Promise.all(ids.map((id) => describe(db, id)));
  }

  async storageEstimate(): Promise<StorageEstimate> {
    const est = (await this.storage?.estimate?.()) ?? {};
    const persisted = (await this.storage?.persisted?.().catch(() => false)) ?? false;
    return { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
  }

  // ---------------------------------------------------------------- download

  downloadModel(request: DownloadRequest, onProgress?: ProgressFn): Promise<StoredModel> {
    return this.exclusive(request.id, (signal) => this.download(request, signal, onProgress));
  }

  importFromUrl(request: UrlImportRequest, onProgress?: ProgressFn): Promise<StoredModel> {
    let url: string;
    try {
      url = new URL(request.url.trim(), this.baseHref).href;
    } catch {
      throw new UnsupportedWeightsError(`'${request.url}' is not a URL: paste the address of a weights file`);
    }
    const kind = urlKind(url);
    if (kind === 'bundle') {
      const folder = url.replace(/manifest\.json$/i, '');
      const id = request.id ?? decodeURIComponent(folder.split('/').at(-2) ?? '');
      return this.downloadModel({ id, baseUrl: folder }, onProgress);
    }
    const id = request.id ?? idFromUrl(url);
    return this.exclusive(id, async (signal) => {
      const db = await this.conn.get();
      if (await db.get('ready', id)) return describe(db, id);
      return importFromUrl(
        {
          fetch: this.fetch,
          db,
          cfg: this.importConfig,
          signal,
          converter: this.converter,
          retries: this.retries,
          retryDelayMs: this.retryDelayMs,
          chunkBytes: this.chunkBytes,
          report: this.reporter(onProgress),
          ensureSpace: (needed) => this.ensureSpace(needed),
          importWeights: (file) => this.importWeights(file, onProgress),
          describe: (model) => describe(db, model),
        },
        { url, id, kind, ...(request.sha256 ? { sha256: request.sha256.trim().toLowerCase() } : {}) },
      );
    });
  }

  async pendingImports(): Promise<PendingImport[]> {
    const db = await this.conn.get();
    return (await db.getAll('imports')).map((r) => ({
      id: r.id,
      url: r.url,
      done: r.offset,
      total: r.identity.length ?? 0,
    }));
  }

  async listServedModels(): Promise<ServedModel[]> {
    return fetchServedModels(this.fetch, this.baseHref);
  }

  /** Runs one download or import at a time; cancelDownload aborts it, keeping what is stored. */
  private async exclusive(id: string, run: (signal: AbortSignal) => Promise<StoredModel>): Promise<StoredModel> {
    if (this.active)
      throw new EngineStateError(`a download of '${this.active.id}' is running: cancel it or wait for it to finish`);
    const controller = new AbortController();
    this.active = { id, controller };
    try {
      return await run(controller.signal);
    } catch (err) {
      if (controller.signal.aborted) throw new AbortError();
      throw err;
    } finally {
      this.active = undefined;
    }
  }

  async cancelDownload(): Promise<void> {
    this.active?.controller.abort();
  }

  private async download(request: DownloadRequest, signal: AbortSignal, onProgress?: ProgressFn): Promise<StoredModel> {
    const { id } = request;
    const folder = folderUrl(request.baseUrl, this.baseHref);
    const manifest = await fetchManifest(this.fetch, folder, id, signal);
    const parts = selectParts(manifest, request.parts, folder);
    const db = await this.conn.get();

    // A different bundle under the same id (a new build on the server) replaces the old one, once it fits.
    const previous = await db.get('manifests', id);
    const replacing = previous !== undefined && !sameShards(previous, manifest);

    // Resume: a stored shard counts only if it still verifies against this manifest.
    const have = new Set<string>();
    for (const part of replacing ? [] : parts) {
      for (const shard of part.shards) {
        const bytes = await readShard(db, id, shard.file);
        if (!bytes) continue;
        try {
          await verifyShard(shard, bytes);
          have.add(shard.file);
        } catch {
          await db.delete('shards', [id, shard.file]);
        }
      }
    }
    const all = parts.flatMap((p) => p.shards);
    const total = sum(all);
    const needed = sum(all.filter((s) => !have.has(s.file)));

    if (needed > 0) await this.ensureSpace(needed);
    if (replacing) await purge(db, id);
    let done = total - needed;
    const progress = this.reporter(onProgress);
    const report = (bytes: number, force = false) =>
      progress({ phase: 'download', done: bytes, total, unit: 'bytes' }, force);
    try {
      await db.put('manifests', manifest, id);
      report(done, true);
      for (const part of parts) {
        for (const shard of part.shards) {
          if (have.has(shard.file)) continue;
          const bytes = await fetchShard(this.fetch, folder, shard, signal, (n) => report(done + n));
          await verifyShard(shard, bytes);
          await db.put('shards', exactBuffer(bytes), [id, shard.file]);
          done += shard.bytes;
          report(done, true);
        }
        await markComplete(db, id, part.name);
      }
    } catch (err) {
      if (!isQuotaExceeded(err)) throw err;
      // The browser refused a write although the estimate said it fits: drop what
      // this download stored, keep any complete part, and say how much is needed.
      await dropIncomplete(db, id);
      throw new QuotaError(needed, undefined);
    }
    return describe(db, id);
  }

  /**
   * Checks the estimate before the first byte is stored (no half-stored model), and asks for persistence now,
   * while the user is waiting for this download (WebKit evicts non-persistent data under pressure).
   */
  private async ensureSpace(needed: number): Promise<void> {
    const est = await this.storage?.estimate?.().catch(() => undefined);
    if (est?.quota !== undefined) {
      const available = est.quota - (est.usage ?? 0);
      if (needed > available) throw new QuotaError(needed, available);
    }
    await this.storage?.persist?.().catch(() => false);
  }

  /** Progress at most every progressIntervalMs, except the reports that must arrive (`force`). */
  private reporter(onProgress: ProgressFn | undefined): (p: Progress, force?: boolean) => void {
    let last = 0;
    return (p, force = false) => {
      const t = Date.now();
      if (!force && t - last < this.progressIntervalMs) return;
      last = t;
      onProgress?.(p);
    };
  }

  // ---------------------------------------------------------------- maintenance

  async deleteModel(id: string): Promise<void> {
    if (this.active?.id === id) this.active.controller.abort();
    const db = await this.conn.get();
    await purge(db, id);
    await discardImport(db, id);
  }

  async verifyModel(id: string, onProgress?: ProgressFn): Promise<StoredModel> {
    const db = await this.conn.get();
    const manifest = await db.get('manifests', id);
    if (!manifest) throw new ModelNotFoundError(`model '${id}' is not stored in this browser`);
    const all = manifest.parts.flatMap((p) => p.shards.map((shard) => ({ part: p.name, shard })));
    const broken = new Set<PartName>();
    let done = 0;
    onProgress?.({ phase: 'verify', done, total: all.length });
    for (const { part, shard } of all) {
      const bytes = await readShard(db, id, shard.file);
      if (!bytes) {
        broken.add(part);
      } else {
        try {
          await verifyShard(shard, bytes);
        } catch {
          broken.add(part);
          await db.delete('shards', [id, shard.file]);
        }
      }
      onProgress?.({ phase: 'verify', done: ++done, total: all.length });
    }
    const tx = db.transaction('ready', 'readwrite');
    const ready = await tx.store.get(id);
    if (ready && broken.has('base')) await tx.store.delete(id);
    else if (ready) await tx.store.put({ ...ready, parts: ready.parts.filter((p) => !broken.has(p)) }, id);
    await tx.done;
    return describe(db, id);
  }

  // ---------------------------------------------------------------- import

  async importWeights(file: { name: string; bytes: Uint8Array }, onProgress?: ProgressFn): Promise<StoredModel> {
    const { bytes } = file;
    const cfg = this.importConfig;
    onProgress?.({ phase: 'parse', done: 0, total: 1 });
    const isH5 = HDF5_MAGIC.every((b, i) => bytes[i] === b);
    // Loaded on demand: the HDF5 reader (h5wasm) is large and only this path needs it.
    const imported = isH5
      ? await import('../../../src/core/vgg16/keras-h5').then(async (m) => ({
          weights: (await m.readKerasH5(bytes, cfg)).weights,
          source: 'keras-h5' as const,
          preprocessing: m.KERAS_H5_PREPROCESSING,
        }))
      : await import('../../../src/core/vgg16/onnx-zoo').then((m) => ({
          weights: m.readOnnxZoo(bytes, cfg).weights,
          source: 'onnx-zoo' as const,
          preprocessing: m.ONNX_ZOO_PREPROCESSING,
        }));
    onProgress?.({ phase: 'parse', done: 1, total: 1 });
    const id = `${cfg.name}-${isH5 ? 'keras' : 'onnx'}-${(await sha256Hex(bytes)).slice(0, 8)}`;
    onProgress?.({ phase: 'quantize', done: 0, total: 1 });
    const { manifest, shards } = await buildBundle({
      id,
      cfg,
      weights: imported.weights,
      source: imported.source,
      pretrained: true,
      preprocessing: imported.preprocessing,
      labels: 'imagenet',
      quantization: 'int8',
    });
    onProgress?.({ phase: 'quantize', done: 1, total: 1 });

    const all = manifest.parts.flatMap((p) => p.shards);
    const needed = sum(all);
    await this.ensureSpace(needed);

    const db = await this.conn.get();
    await purge(db, id);
    // One transaction: shards, manifest and the ready record commit together or not at all.
    let done = 0;
    onProgress?.({ phase: 'store', done, total: all.length });
    const tx = db.transaction(['manifests', 'shards', 'ready'], 'readwrite');
    try {
      for (const shard of all) {
        const data = shards.get(shard.file);
        if (!data) throw new BundleFormatError(`the built bundle lacks shard ${shard.file}`);
        await tx.objectStore('shards').put(exactBuffer(data), [id, shard.file]);
        onProgress?.({ phase: 'store', done: ++done, total: all.length });
      }
      await tx.objectStore('manifests').put(manifest, id);
      await tx
        .objectStore('ready')
        .put({ id, parts: manifest.parts.map((p) => p.name), verifiedAt: new Date().toISOString() }, id);
      await tx.done;
    } catch (err) {
      try {
        tx.abort();
      } catch {
        // Already aborted by the failed request.
      }
      await tx.done.catch(() => undefined);
      if (isQuotaExceeded(err)) throw new QuotaError(needed, undefined);
      throw err;
    }
    return describe(db, id);
  }

  // ---------------------------------------------------------------- helpers
}
