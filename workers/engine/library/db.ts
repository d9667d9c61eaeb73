/**
 * The IndexedDB schema of the model library — the one place it is defined. Database `convlens`:
 *
 *   manifests  id → BundleManifest                     (written once the download may start)
 *   shards     [id, file] → ArrayBuffer                (one record per shard, each ≤ 32 MB: Chrome caps
 *                                                       one value at 133 MB, localForage #907)
 *   ready      id → ReadyRecord                        (written ONLY after every shard of the base
 *                                                       verified: the second phase of a two-phase commit)
 *   imports    id → ImportRecord                       (a conversion from a URL in progress: where to
 *                                                       resume, rewritten after every stored shard)
 *   chunks     [id, index] → ArrayBuffer               (the raw file of an .h5/.onnx import, ≤ 16 MB each)
 *
 * A schema change bumps DB_VERSION and adds a step to `upgrade`. An open connection in another tab
 * blocks the upgrade (idb #148): the old tab closes its connection on `blocking` and tells the UI,
 * which asks the user to reload.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import type { PartName } from '../protocol';
import type { SourceIdentity } from './source';

export const DB_NAME = 'convlens';
export const DB_VERSION = 2;

export interface ReadyRecord {
  id: string;
  /** Parts whose every shard was verified when the record was written. */
  parts: PartName[];
  verifiedAt: string;
}

/** An import from a URL, persisted so a reload or a dropped connection resumes with `Range: bytes=<offset>-`. */
export interface ImportRecord {
  id: string;
  url: string;
  /** `stream`: converted while it arrives (safetensors); `file`: stored in chunks, converted at the end. */
  mode: 'stream' | 'file';
  /** The remote file's validators; a change means another file, so the import restarts. */
  identity: SourceIdentity;
  /** Source byte to request next. */
  offset: number;
  /** The converter's snapshot at `offset`, with the file's SHA-256 mid-state (stream mode). */
  converter?: unknown;
  /** The published sha256 to check, lower-case hex. */
  sha256?: string;
  /** Shard files (stream mode) or chunk count (file mode) stored so far. */
  shards: string[];
  chunks: number;
  updatedAt: string;
}

export interface LibrarySchema extends DBSchema {
  manifests: { key: string; value: BundleManifest };
  shards: { key: [string, string]; value: ArrayBuffer };
  ready: { key: string; value: ReadyRecord };
  imports: { key: string; value: ImportRecord };
  chunks: { key: [string, number]; value: ArrayBuffer };
}

export type LibraryDb = IDBPDatabase<LibrarySchema>;

/**
 * Why the library's connection changed under it:
 * - `blocking`: another tab wants a newer schema; this tab closed its connection and must reload.
 * - `blocked`: this tab wants a newer schema, and an older tab still holds the database open.
 * - `terminated`: the browser closed the connection (e.g. the database was deleted); it reopens on next use.
 */
export type DbEventKind = 'blocking' | 'blocked' | 'terminated';

/** What the engine worker posts to its page (outside Comlink) when the connection changes. */
export interface DbEvent {
  type: 'convlens:db';
  event: DbEventKind;
  message: string;
}

export const DB_EVENT_MESSAGES: Readonly<Record<DbEventKind, string>> = {
  blocking: 'convlens was updated in another tab: reload this page to keep using your models',
  blocked: 'an older convlens tab is still open: close it so this one can update its storage',
  terminated: 'the browser closed the model storage; it reopens on the next use',
};

export function openLibraryDb(name: string, onEvent: (kind: DbEventKind) => void): Promise<LibraryDb> {
  let db: LibraryDb | undefined;
  const opening = openDB<LibrarySchema>(name, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore('manifests');
        database.createObjectStore('shards');
        database.createObjectStore('ready');
      }
      if (oldVersion < 2) {
        database.createObjectStore('imports');
        database.createObjectStore('chunks');
      }
    },
    blocked: () => onEvent('blocked'),
    blocking: () => {
      // Closing at once lets the other tab's upgrade proceed instead of waiting on us for ever.
      db?.close();
      onEvent('blocking');
    },
    terminated: () => onEvent('terminated'),
  });
  return opening.then((d) => (db = d));
}
