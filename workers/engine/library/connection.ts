/**
 * The library's one IndexedDB connection, opened on first use. After `blocking` (another tab upgraded
 * the schema) it stays closed and every call fails with StorageBlockedError until the page reloads;
 * after `terminated` it reopens on the next call.
 */
import { DB_EVENT_MESSAGES, DB_NAME, openLibraryDb, type DbEvent, type DbEventKind, type LibraryDb } from './db';
import { StorageBlockedError } from './errors';

export class LibraryConnection {
  private opening: Promise<LibraryDb> | undefined;
  private closedForUpgrade = false;

  constructor(
    readonly name: string = DB_NAME,
    private readonly onEvent?: (event: DbEvent) => void,
  ) {}

  get(): Promise<LibraryDb> {
    if (this.closedForUpgrade) return Promise.reject(new StorageBlockedError(DB_EVENT_MESSAGES.blocking));
    this.opening ??= openLibraryDb(this.name, (kind) => this.changed(kind)).catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    return this.opening;
  }

  close(): void {
    void this.opening?.then((db) => db.close()).catch(() => undefined);
    this.opening = undefined;
  }

  private changed(kind: DbEventKind): void {
    if (kind === 'blocking') this.closedForUpgrade = true;
    if (kind !== 'blocked') this.opening = undefined;
    this.onEvent?.({ type: 'convlens:db', event: kind, message: DB_EVENT_MESSAGES[kind] });
  }
}
