/**
 * The engine's BundleStore over IndexedDB. A model is only visible once its `ready` record exists
 * (written after every base shard verified), and only with the parts that are complete. Every shard
 * is re-verified (length, then sha256) each time it is loaded, since storage can corrupt it: a shard corrupted
 * in storage is deleted and the model marked incomplete, so the next download re-fetches just it.
 * The bytes it returns are marked verified (markVerified), so loadBundle does not hash them twice.
 */
import type { BundleManifest, BundleStore, ShardInfo } from '../../../src/core/bundle/manifest';
import { MissingShardError } from '../../../src/core/bundle/errors';
import { markVerified } from '../../../src/core/bundle/load';
import { verifyShard } from '../../../src/core/bundle/verify';
import { ModelNotFoundError } from '../errors';
import type { PartName } from '../protocol';
import type { LibraryConnection } from './connection';
import type { LibraryDb } from './db';
import { ModelIncompleteError } from './errors';

/** The shard's manifest entry and the part it belongs to. */
export function findShard(manifest: BundleManifest, file: string): { part: PartName; shard: ShardInfo } | undefined {
  for (const part of manifest.parts) {
    const shard = part.shards.find((s) => s.file === file);
    if (shard) return { part: part.name, shard };
  }
  return undefined;
}

/** The bytes of a stored shard as a Uint8Array over exactly the stored ArrayBuffer. */
export async function readShard(db: LibraryDb, id: string, file: string): Promise<Uint8Array | undefined> {
  const buf = await db.get('shards', [id, file]);
  return buf === undefined ? undefined : new Uint8Array(buf);
}

/**
 * A stored shard failed its check: delete it and take its part out of the ready record (the whole
 * record when it is the base), in one transaction, so the model is never "ready" with bad bytes.
 */
export async function invalidateShard(db: LibraryDb, id: string, file: string, part: PartName): Promise<void> {
  const tx = db.transaction(['shards', 'ready'], 'readwrite');
  void tx.objectStore('shards').delete([id, file]);
  const ready = await tx.objectStore('ready').get(id);
  if (ready && (part === 'base' || ready.parts.includes(part))) {
    if (part === 'base') void tx.objectStore('ready').delete(id);
    else void tx.objectStore('ready').put({ ...ready, parts: ready.parts.filter((p) => p !== part) }, id);
  }
  await tx.done;
}

export class IdbBundleStore implements BundleStore {
  constructor(private readonly conn: LibraryConnection) {}

  /** The manifest, restricted to the parts whose every shard is stored and verified. */
  async manifest(id: string): Promise<BundleManifest> {
    const db = await this.conn.get();
    const [manifest, ready] = await Promise.all([db.get('manifests', id), db.get('ready', id)]);
    if (!manifest)
      throw new ModelNotFoundError(`model '${id}' is not stored in this browser: download it or import its weights`);
    if (!ready) {
      throw new ModelIncompleteError(
        `model '${id}' is not completely downloaded and verified: download it again to resume`,
      );
    }
    const parts = manifest.parts.filter((p) => ready.parts.includes(p.name));
    const names = new Set(parts.map((p) => p.name));
    return { ...manifest, parts, tensors: manifest.tensors.filter((t) => names.has(t.part)) };
  }

  async shard(id: string, file: string): Promise<Uint8Array> {
    const db = await this.conn.get();
    const manifest = await db.get('manifests', id);
    if (!manifest)
      throw new ModelNotFoundError(`model '${id}' is not stored in this browser: download it or import its weights`);
    const found = findShard(manifest, file);
    if (!found) throw new MissingShardError(`${id}/${file}`, `model '${id}' has no shard '${file}' in its manifest`);
    const bytes = await readShard(db, id, file);
    if (!bytes) {
      await invalidateShard(db, id, file, found.part);
      throw new MissingShardError(
        `${id}/${file}`,
        `shard ${file} of model '${id}' is gone from storage (the browser may have evicted it): download the model again to re-fetch it`,
      );
    }
    try {
      await verifyShard(found.shard, bytes);
    } catch (err) {
      await invalidateShard(db, id, file, found.part);
      throw err;
    }
    // Verified here against the stored manifest: loadBundle/readShards need not hash it again.
    markVerified(bytes, found.shard.sha256);
    return bytes;
  }
}
