/**
 * The filter gallery's cache (its own IndexedDB database, `convlens-insight`): one record per filter
 * picture, keyed by (model, layer, filter, full ascent settings) with filterCacheKey, so revisiting a
 * gallery shows it at once and any change of settings computes afresh.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { filterCacheKey, type FilterSettings } from '../../core/insight/filters';

export interface FilterImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

interface PictureRecord extends FilterImage {
  at: number;
}

interface InsightSchema extends DBSchema {
  filters: { key: string; value: PictureRecord };
}

export const INSIGHT_DB = 'convlens-insight';
const VERSION = 1;

/** What the controller needs of the cache (a Map in tests, IndexedDB in the browser). */
export interface FilterCache {
  get(
    model: string,
    layer: string,
    filters: readonly number[],
    s: FilterSettings,
  ): Promise<(FilterImage | undefined)[]>;
  put(
    model: string,
    layer: string,
    pictures: { filter: number; image: FilterImage }[],
    s: FilterSettings,
  ): Promise<void>;
}

export class IdbFilterCache implements FilterCache {
  private db: Promise<IDBPDatabase<InsightSchema>> | undefined;

  constructor(
    private readonly name = INSIGHT_DB,
    private readonly now: () => number = Date.now,
  ) {}

  private open(): Promise<IDBPDatabase<InsightSchema>> {
    this.db ??= openDB<InsightSchema>(this.name, VERSION, {
      upgrade(db) {
        db.createObjectStore('filters');
      },
      blocking: () => this.close(),
      terminated: () => (this.db = undefined),
    });
    this.db.catch(() => (this.db = undefined));
    return this.db;
  }

  /** The cached pictures of `filters`, in order (undefined where none is stored), in one transaction. */
  async get(model: string, layer: string, filters: readonly number[], s: FilterSettings) {
    const tx = (await this.open()).transaction('filters');
    const found = await Promise.all(filters.map((f) => tx.store.get(filterCacheKey(model, layer, f, s))));
    await tx.done;
    return found.map((r) => (r ? { width: r.width, height: r.height, data: r.data } : undefined));
  }

  async put(model: string, layer: string, pictures: { filter: number; image: FilterImage }[], s: FilterSettings) {
    const tx = (await this.open()).transaction('filters', 'readwrite');
    const at = this.now();
    await Promise.all([
      ...pictures.map(({ filter, image }) =>
        tx.store.put(
          { width: image.width, height: image.height, data: image.data, at },
          filterCacheKey(model, layer, filter, s),
        ),
      ),
      tx.done,
    ]);
  }

  close(): void {
    void this.db?.then((db) => db.close()).catch(() => {});
    this.db = undefined;
  }
}
