/**
 * The training screen's IndexedDB (its own database, `convlens-train`): classes, photos (encoded
 * JPEG/PNG bytes), stored classifier files, and small records (the last training checkpoint). Every
 * change is written at once, so a reload loses nothing. Features live in the worker's own cache.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { TrainState } from '../../../workers/engine/protocol';
import type { ClassifierEntry, TrainSettings } from './state';

export interface ClassRecord {
  id: string;
  name: string;
  colour: string;
  created: number;
}

export interface PhotoRecord {
  id: string;
  classId: string;
  /** Encoded picture (image/jpeg or image/png). */
  bytes: Uint8Array;
  type: string;
  created: number;
}

/** A stored classifier: what the UI lists, with the file itself in place of its size. */
export interface ClassifierRecord extends Omit<ClassifierEntry, 'bytes'> {
  /** The classifier file (src/core/train/classifier.ts). */
  bytes: Uint8Array;
}

/** What a resumed run must train on again: the same photos, labels, classes and settings. */
export interface RunRequest {
  modelId: string;
  classes: string[];
  photos: { id: string; label: number }[];
  settings: TrainSettings;
  /** The stored classifier the run continues from (TrainRequest.from). */
  fromId?: string;
  inputSize?: number;
  seed?: number;
}

export interface CheckpointRecord {
  request: RunRequest;
  state: TrainState;
  at: number;
}

interface TrainSchema extends DBSchema {
  classes: { key: string; value: ClassRecord };
  photos: { key: string; value: PhotoRecord; indexes: { byClass: string } };
  classifiers: { key: string; value: ClassifierRecord };
  meta: { key: string; value: unknown };
}

export const TRAIN_DB = 'convlens-train';
const VERSION = 1;

export class TrainStore {
  private db: Promise<IDBPDatabase<TrainSchema>> | undefined;

  constructor(private readonly name = TRAIN_DB) {}

  private open(): Promise<IDBPDatabase<TrainSchema>> {
    this.db ??= openDB<TrainSchema>(this.name, VERSION, {
      upgrade(db) {
        db.createObjectStore('classes', { keyPath: 'id' });
        db.createObjectStore('photos', { keyPath: 'id' }).createIndex('byClass', 'classId');
        db.createObjectStore('classifiers', { keyPath: 'id' });
        db.createObjectStore('meta');
      },
      // Another tab upgrades, or the browser closed us: open again on the next use.
      blocking: () => this.close(),
      terminated: () => (this.db = undefined),
    });
    this.db.catch(() => (this.db = undefined));
    return this.db;
  }

  async classes(): Promise<ClassRecord[]> {
    return (await (await this.open()).getAll('classes')).sort((a, b) => a.created - b.created);
  }

  async putClass(c: ClassRecord): Promise<void> {
    await (await this.open()).put('classes', c);
  }

  /** Removes the class and its photos in one transaction. */
  async deleteClass(id: string): Promise<void> {
    const tx = (await this.open()).transaction(['classes', 'photos'], 'readwrite');
    const photos = tx.objectStore('photos');
    const keys = await photos.index('byClass').getAllKeys(id);
    await Promise.all([tx.objectStore('classes').delete(id), ...keys.map((k) => photos.delete(k)), tx.done]);
  }

  async photos(): Promise<PhotoRecord[]> {
    return (await (await this.open()).getAll('photos')).sort((a, b) => a.created - b.created);
  }

  async photo(id: string): Promise<PhotoRecord | undefined> {
    return (await this.open()).get('photos', id);
  }

  async putPhoto(p: PhotoRecord): Promise<void> {
    await (await this.open()).put('photos', p);
  }

  async deletePhoto(id: string): Promise<void> {
    await (await this.open()).delete('photos', id);
  }

  async classifiers(): Promise<ClassifierRecord[]> {
    return (await (await this.open()).getAll('classifiers')).sort((a, b) => a.created.localeCompare(b.created));
  }

  async classifier(id: string): Promise<ClassifierRecord | undefined> {
    return (await this.open()).get('classifiers', id);
  }

  async putClassifier(c: ClassifierRecord): Promise<void> {
    await (await this.open()).put('classifiers', c);
  }

  async deleteClassifier(id: string): Promise<void> {
    await (await this.open()).delete('classifiers', id);
  }

  async checkpoint(): Promise<CheckpointRecord | undefined> {
    return (await (await this.open()).get('meta', 'checkpoint')) as CheckpointRecord | undefined;
  }

  async putCheckpoint(c: CheckpointRecord | undefined): Promise<void> {
    const db = await this.open();
    if (c) await db.put('meta', c, 'checkpoint');
    else await db.delete('meta', 'checkpoint');
  }

  close(): void {
    const db = this.db;
    this.db = undefined;
    void db?.then((d) => d.close()).catch(() => undefined);
  }
}
