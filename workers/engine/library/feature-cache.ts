/**
 * The training feature cache of the PWA: conv-base outputs per (photo, variant, layer, model, recipe)
 * in their own IndexedDB database, so a reload or a second training run does not run the base again
 * on photos it has seen. Keys are featureKeyString; values are the Float32Arrays (structured clone).
 * A failed write (quota) only costs a recomputation later, so it is logged, not thrown.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { FeatureCache, FeatureKey } from '../../../src/core/train/features';
import { featureKeyString } from '../../../src/core/train/features';

interface FeatureSchema extends DBSchema {
  features: { key: string; value: Float32Array };
}

export const FEATURE_DB = 'convlens-features';

export class IdbFeatureCache implements FeatureCache {
  private db: Promise<IDBPDatabase<FeatureSchema>> | undefined;

  constructor(private readonly name = FEATURE_DB) {}

  private open(): Promise<IDBPDatabase<FeatureSchema>> {
    this.db ??= openDB<FeatureSchema>(this.name, 1, {
      upgrade: (db) => void db.createObjectStore('features'),
      blocking: () => this.close(),
      terminated: () => (this.db = undefined),
    });
    this.db.catch(() => (this.db = undefined));
    return this.db;
  }

  async get(key: FeatureKey): Promise<Float32Array | undefined> {
    try {
      return await (await this.open()).get('features', featureKeyString(key));
    } catch (err) {
      console.warn('feature cache read failed', err);
      return undefined;
    }
  }

  async put(key: FeatureKey, data: Float32Array): Promise<void> {
    try {
      await (await this.open()).put('features', data, featureKeyString(key));
    } catch (err) {
      console.warn('feature cache write failed', err);
    }
  }

  /** How many feature arrays are stored. */
  async count(): Promise<number> {
    return (await this.open()).count('features');
  }

  /** Drop every feature of these photos (keys end with the encoded photo id); returns how many went. */
  async forget(photoIds: readonly string[]): Promise<number> {
    if (!photoIds.length) return 0;
    const ends = photoIds.map((id) => `|${encodeURIComponent(id)}`);
    const tx = (await this.open()).transaction('features', 'readwrite');
    const keys = (await tx.store.getAllKeys()).filter((k) => ends.some((e) => k.endsWith(e)));
    await Promise.all([...keys.map((k) => tx.store.delete(k)), tx.done]);
    return keys.length;
  }

  close(): void {
    const db = this.db;
    this.db = undefined;
    void db?.then((d) => d.close()).catch(() => undefined);
  }
}
