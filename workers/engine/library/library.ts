/**
 * The model library of the PWA (the `ModelLibrary` half of EngineApi), in the engine worker:
 * downloads bundles into IndexedDB shard by shard, verifying each before it is stored, resuming from
 * the shards already verified, and writing the `ready` record only once the base is complete
 * (a model is never half-stored or trusted unverified); converts user-supplied Keras/ONNX weights
 * into a stored int8 bundle.
 * What is fetched from the server, and how it is checked on arrival, is remote.ts. Platform pieces
 * (fetch, navigator.storage, the database name) are injected so Node tests run it against
 * fake-indexeddb and a stub fetch.
 */
import type { BundleManifest, ShardInfo } from '../../../src/core/bundle/manifest';
import { buildBundle } from '../../../src/core/bundle/build';
import { BundleFormatError } from '../../../src/core/bundle/errors';
import { sha256Hex } from '../../../src/core/bundle/sha256';
import { verifyShard } from '../../../src/core/bundle/verify';
import { VGG16, type VggConfig } from '../../../src/core/vgg16/spec';
import type { ModelLibrary } from '../engine';
import { EngineStateError, ModelNotFoundError } from '../errors';
import type { DownloadRequest, PartName, ProgressFn, StorageEstimate, StoredModel } from '../protocol';
import { LibraryConnection } from './connection';
import type { DbEvent, LibraryDb, ReadyRecord } from './db';
import { AbortError, QuotaError } from './errors';
import { fetchManifest, fetchShard, folderUrl, selectParts, type FetchFn } from './remote';
import { IdbBundleStore, readShard } from './store';

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
}

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

const isQuotaExceeded = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'QuotaExceededError';
const sum = (shards: readonly ShardInfo[]) => shards.reduce((n, s) => n + s.bytes, 0);

/** An ArrayBuffer holding exactly these bytes (no copy when the view already covers its whole buffer). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}

/** Two manifests describe the same bytes when every shard's name, length and hash agree. */
function sameShards(a: BundleManifest, b: BundleManifest): boolean {
  const key = (m: BundleManifest) =>
    JSON.stringify(m.parts.map((p) => [p.name, p.shards.map((s) => [s.file, s.bytes, s.sha256])]));
  return key(a) === key(b);
}

export class IdbModelLibrary implements ModelLibrary {
  readonly conn: LibraryConnection;
  /** The BundleStore the engine loads models from (same database). */
  readonly store: IdbBundleStore;
  private readonly fetch: FetchFn;
  private readonly storage: StorageLike | undefined;
  private readonly baseHref: string | undefined;
  private readonly progressIntervalMs: number;
  private readonly importConfig: VggConfig;
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
  }

  // ---------------------------------------------------------------- queries

  async listModels(): Promise<StoredModel[]> {
    const db = await this.conn.get();
    const ids = await db.getAllKeys('manifests');
    return Promise.all(ids.map((id) => this.describe(db, id)));
  }

  async storageEstimate(): Promise<StorageEstimate> {
    const est = (await this.storage?.estimate?.()) ?? {};
    const persisted = (await this.storage?.persisted?.().catch(() => false)) ?? false;
    return { usage: est.usage ?? 0, quota: est.quota ?? 0, persisted };
  }

  // ---------------------------------------------------------------- download

  async downloadModel(request: DownloadRequest, onProgress?: ProgressFn): Promise<StoredModel> {
    if (this.active)
      throw new EngineStateError(`a download of '${this.active.id}' is running: cancel it or wait for it to finish`);
    const controller = new AbortController();
    this.active = { id: request.id, controller };
    try {
      return await this.download(request, controller.signal, onProgress);
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

    if (needed > 0) {
      // Check before the first byte is stored (no half-stored model), and ask for persistence now, while
      // the user is waiting for this download (WebKit evicts non-persistent data under pressure).
      const est = await this.storage?.estimate?.().catch(() => undefined);
      if (est?.quota !== undefined) {
        const available = est.quota - (est.usage ?? 0);
        if (needed > available) throw new QuotaError(needed, available);
      }
      await this.storage?.persist?.().catch(() => false);
    }
    if (replacing) await this.purge(db, id);
    let done = total - needed;
    let last = 0;
    const report = (bytes: number, force = false) => {
      const t = Date.now();
      if (!force && t - last < this.progressIntervalMs) return;
      last = t;
      onProgress?.({ phase: 'download', done: bytes, total });
    };
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
        await this.markComplete(db, id, part.name);
      }
    } catch (err) {
      if (!isQuotaExceeded(err)) throw err;
      // The browser refused a write although the estimate said it fits: drop what
      // this download stored, keep any complete part, and say how much is needed.
      await this.dropIncomplete(db, id);
      throw new QuotaError(needed, undefined);
    }
    return this.describe(db, id);
  }

  /** Removes the shards of parts not yet complete; the whole model when its base is not complete. */
  private async dropIncomplete(db: LibraryDb, id: string): Promise<void> {
    const [ready, manifest] = await Promise.all([db.get('ready', id), db.get('manifests', id)]);
    if (!ready || !manifest) return this.purge(db, id);
    for (const part of manifest.parts) {
      if (ready.parts.includes(part.name)) continue;
      for (const s of part.shards) await db.delete('shards', [id, s.file]);
    }
  }

  /** Second phase of the commit: the part's every shard is stored and verified. */
  private async markComplete(db: LibraryDb, id: string, part: PartName): Promise<void> {
    const tx = db.transaction('ready', 'readwrite');
    const ready = await tx.store.get(id);
    if (!ready && part !== 'base') return void (await tx.done);
    const parts = [...new Set([...(ready?.parts ?? []), part])];
    const record: ReadyRecord = { id, parts, verifiedAt: new Date().toISOString() };
    await tx.store.put(record, id);
    await tx.done;
  }

  // ---------------------------------------------------------------- maintenance

  async deleteModel(id: string): Promise<void> {
    if (this.active?.id === id) this.active.controller.abort();
    const db = await this.conn.get();
    await this.purge(db, id);
  }

  /** Removes every record of a model in one transaction (ready first, so it is never half-ready). */
  private async purge(db: LibraryDb, id: string): Promise<void> {
    const tx = db.transaction(['ready', 'manifests', 'shards'], 'readwrite');
    void tx.objectStore('ready').delete(id);
    void tx.objectStore('manifests').delete(id);
    const shards = tx.objectStore('shards');
    for (const key of await shards.getAllKeys()) if (key[0] === id) void shards.delete(key);
    await tx.done;
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
    return this.describe(db, id);
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
    const est = await this.storage?.estimate?.().catch(() => undefined);
    if (est?.quota !== undefined && needed > est.quota - (est.usage ?? 0))
      throw new QuotaError(needed, est.quota - (est.usage ?? 0));
    await this.storage?.persist?.().catch(() => false);

    const db = await this.conn.get();
    await this.purge(db, id);
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
    return this.describe(db, id);
  }

  // ---------------------------------------------------------------- helpers

  private async describe(db: LibraryDb, id: string): Promise<StoredModel> {
    const [manifest, ready] = await Promise.all([db.get('manifests', id), db.get('ready', id)]);
    if (!manifest) throw new ModelNotFoundError(`model '${id}' is not stored in this browser`);
    const parts = [];
    for (const p of manifest.parts) {
      let stored = 0;
      for (const s of p.shards) if ((await db.getKey('shards', [id, s.file])) !== undefined) stored += s.bytes;
      parts.push({
        name: p.name,
        bytes: p.bytes,
        stored,
        complete: !!ready?.parts.includes(p.name) && stored === p.bytes,
      });
    }
    return {
      id,
      source: manifest.source,
      pretrained: manifest.pretrained,
      quantization: manifest.quantization,
      parts,
      ready: !!ready,
    };
  }
}
