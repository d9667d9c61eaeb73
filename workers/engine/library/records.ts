/**
 * The library's records of one model, as functions over the database: describe it, mark a part complete
 * (the commit's second phase), drop what is incomplete, purge it all.
 */
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import { ModelNotFoundError } from '../errors';
import type { PartName, StoredModel } from '../protocol';
import type { LibraryDb, ReadyRecord } from './db';

/** An ArrayBuffer holding exactly these bytes (no copy when the view already covers its whole buffer). */
export function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) {
    return bytes.buffer;
  }
  return bytes.slice().buffer;
}

/** Two manifests describe the same bytes when every shard's name, length and hash agree. */
export function sameShards(a: BundleManifest, b: BundleManifest): boolean {
  const key = (m: BundleManifest) =>
    JSON.stringify(m.parts.map((p) => [p.name, p.shards.map((s) => [s.file, s.bytes, s.sha256])]));
  return key(a) === key(b);
}

/** Removes the shards of parts not yet complete; the whole model when its base is not complete. */
export async function dropIncomplete(db: LibraryDb, id: string): Promise<void> {
  const [ready, manifest] = await Promise.all([db.get('ready', id), db.get('manifests', id)]);
  if (!ready || !manifest) return purge(db, id);
  for (const part of manifest.parts) {
    if (ready.parts.includes(part.name)) continue;
    for (const s of part.shards) await db.delete('shards', [id, s.file]);
  }
}

/** Second phase of the commit: the part's every shard is stored and verified. */
export async function markComplete(db: LibraryDb, id: string, part: PartName): Promise<void> {
  const tx = db.transaction('ready', 'readwrite');
  const ready = await tx.store.get(id);
  if (!ready && part !== 'base') return void (await tx.done);
  const parts = [...new Set([...(ready?.parts ?? []), part])];
  const record: ReadyRecord = { id, parts, verifiedAt: new Date().toISOString() };
  await tx.store.put(record, id);
  await tx.done;
}

/** Removes every record of a model in one transaction (ready first, so it is never half-ready). */
export async function purge(db: LibraryDb, id: string): Promise<void> {
  const tx = db.transaction(['ready', 'manifests', 'shards'], 'readwrite');
  void tx.objectStore('ready').delete(id);
  void tx.objectStore('manifests').delete(id);
  const shards = tx.objectStore('shards');
  for (const key of await shards.getAllKeys()) if (key[0] === id) void shards.delete(key);
  await tx.done;
}

export async function describe(db: LibraryDb, id: string): Promise<StoredModel> {
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
