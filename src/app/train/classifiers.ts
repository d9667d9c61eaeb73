/**
 * The kept classifiers: which one the live view uses (remembered across reloads and
 * applied again whenever a model becomes ready), keeping a newly trained one only when it is not
 * worse than the one in use, export to a file, import from one, delete. Part of the training screen's
 * controller (controller.ts), which owns the dependencies and the first read of the store.
 */
import { isCrash } from '../bridge/lifecycle';
import type { AppError } from '../errors';
import type { FeatureContext } from '../feature';
import type { TrainDeps } from './controller';
import { selectActiveClassifier, type ClassifierEntry } from './state';
import type { ClassifierRecord } from './store';

/** Which classifier the live view uses: an id, '' for ImageNet, absent before the first choice. */
export const ACTIVE_KEY = 'convlens:train-active';

/** What the shelf needs from the training controller. */
export interface ShelfHost {
  ctx: FeatureContext;
  deps(): TrainDeps;
  /** Resolves once the stored classes, photos and classifiers are in the state. */
  open(): Promise<void>;
  fail(err: unknown): void;
}

const notFound = (): AppError => ({ name: 'ClassifierNotFoundError', message: 'that classifier is no longer stored' });

export class ClassifierShelf {
  constructor(private readonly host: ShelfHost) {}

  private get ctx(): FeatureContext {
    return this.host.ctx;
  }

  private get state() {
    return this.ctx.store.state.train;
  }

  /** Store a newly trained classifier and use it unless the one in use is better; true when it is used. */
  async offer(record: ClassifierRecord): Promise<boolean> {
    await this.put(record);
    const better = isBetter(record, selectActiveClassifier(this.state));
    if (better) await this.activate(record);
    return better;
  }

  private async put(record: ClassifierRecord): Promise<void> {
    await this.host.deps().store.putClassifier(record);
    this.ctx.dispatch({ type: 'train/classifier-added', entry: entry(record) });
  }

  private async activate(record: ClassifierRecord): Promise<void> {
    const bytes = record.bytes.slice();
    await this.ctx.engine.useClassifier(bytes);
    this.markActive(record.id);
  }

  /** The live view shows `id`'s classes from now on, and after a reload. */
  private markActive(id: string): void {
    this.ctx.settings.set(ACTIVE_KEY, id);
    this.ctx.dispatch({ type: 'train/active', id });
    this.ctx.dispatch({ type: 'live/choose', choice: 'auto' });
  }

  /** Make the live view use a stored classifier, or ImageNet again (undefined). */
  async use(id: string | undefined): Promise<void> {
    try {
      if (id === undefined) {
        this.ctx.settings.set(ACTIVE_KEY, '');
        this.ctx.dispatch({ type: 'train/active' });
        this.ctx.dispatch({ type: 'live/choose', choice: 'auto' });
        await this.ctx.engine.useClassifier(null);
        return;
      }
      const record = await this.host.deps().store.classifier(id);
      if (!record) throw notFound();
      await this.activate(record);
    } catch (err) {
      if (!isCrash(err)) this.host.fail(err);
    }
  }

  /** A model became ready: the engine forgot the classifier, so apply the remembered one again. */
  async reapply(): Promise<void> {
    // Set once a classifier was trained, imported or switched off: the live view lists them.
    if (this.ctx.settings.get(ACTIVE_KEY) === undefined) return;
    await this.host.open();
    const id = this.ctx.settings.get(ACTIVE_KEY);
    if (!id) return;
    try {
      const record = await this.host.deps().store.classifier(id);
      const s = this.ctx.store.state;
      if (!record || s.model.status !== 'ready' || record.modelId !== s.model.id) {
        this.ctx.dispatch({ type: 'train/active' });
        return;
      }
      await this.activate(record);
    } catch (err) {
      this.ctx.dispatch({ type: 'train/active' });
      if (!isCrash(err)) this.host.fail(err);
    }
  }

  async delete(id: string): Promise<void> {
    try {
      if (this.state.active === id) await this.use(undefined);
      await this.host.deps().store.deleteClassifier(id);
      this.ctx.dispatch({ type: 'train/classifier-removed', id });
    } catch (err) {
      this.host.fail(err);
    }
  }

  async export(id: string): Promise<void> {
    try {
      const record = await this.host.deps().store.classifier(id);
      if (!record) throw notFound();
      const slug = record.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'my';
      this.host.deps().download(record.bytes, `${slug}.classifier`);
    } catch (err) {
      this.host.fail(err);
    }
  }

  /** Check a classifier file against the loaded base (the engine validates everything), keep it and use it. */
  async import(file: { name: string; arrayBuffer(): Promise<ArrayBuffer> }): Promise<void> {
    try {
      const s = this.ctx.store.state;
      if (s.model.status !== 'ready') return;
      const bytes = new Uint8Array(await file.arrayBuffer());
      const copy = bytes.slice();
      const info = await this.ctx.engine.useClassifier(copy);
      if (!info) return;
      const d = this.host.deps();
      const record: ClassifierRecord = {
        id: d.id(),
        name: file.name.replace(/\.classifier$/i, '') || 'imported',
        created: new Date(d.clock()).toISOString(),
        modelId: s.model.id,
        classes: info.classes,
        head: info.head,
        fineTuned: info.fineTuned,
        valAcc: info.metrics?.valAcc,
        bytes,
      };
      await this.put(record);
      // The engine already runs it (it validated the file by loading it): no second transfer.
      this.markActive(record.id);
    } catch (err) {
      this.host.fail(err);
    }
  }
}

/** A stored classifier as the state lists it: its size instead of its bytes. */
export function entry(r: ClassifierRecord): ClassifierEntry {
  const { bytes, ...rest } = r;
  return { ...rest, bytes: bytes.length };
}

/**
 * The last good classifier stays until a new one is better: only a previous one for the same classes,
 * with a known and higher validation accuracy, is kept over the new one.
 */
export function isBetter(next: ClassifierRecord, previous: ClassifierEntry | undefined): boolean {
  if (!previous || previous.modelId !== next.modelId) return true;
  if (previous.classes.join('\n') !== next.classes.join('\n')) return true;
  if (previous.valAcc === undefined || next.valAcc === undefined) return true;
  return next.valAcc >= previous.valAcc;
}
