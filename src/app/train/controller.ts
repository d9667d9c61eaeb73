/**
 * The training screen's effects: classes and photos in IndexedDB, captures from the camera,
 * training runs in the engine worker (runs.ts: progress, checkpoints kept for resuming after a reload),
 * and the stored classifiers (classifiers.ts: which one the live view uses, export, import).
 * Platform pieces come in as TrainDeps, so tests run it in Node with fakes.
 */
import { inputError, toAppError } from '../errors';
import type { FeatureContext } from '../feature';
import { browserTrainDeps, PHOTO_SIDE } from './browser';
import { ClassifierShelf, entry } from './classifiers';
import { TrainRuns } from './runs';
import { DEFAULT_TRAIN_SETTINGS, type PhotoView, type TrainSettings } from './state';
import type { PhotoRecord, TrainStore } from './store';

export type TrainStoreLike = Pick<
  TrainStore,
  | 'classes'
  | 'putClass'
  | 'deleteClass'
  | 'photos'
  | 'photo'
  | 'putPhoto'
  | 'deletePhoto'
  | 'classifiers'
  | 'classifier'
  | 'putClassifier'
  | 'deleteClassifier'
  | 'checkpoint'
  | 'putCheckpoint'
>;

/** A bitmap as the controller uses it (ImageBitmap in the browser). */
export type Bitmap = ImageBitmap;

export interface TrainDeps {
  store: TrainStoreLike;
  /** Encode a still (and close it). */
  encode(bitmap: Bitmap): Promise<{ bytes: Uint8Array; type: string }>;
  /** A stored picture as a bitmap for the engine. */
  decode(bytes: Uint8Array, type: string): Promise<Bitmap>;
  /** A picked file as a bitmap whose short side is at most `side`. */
  decodeFile(file: Blob, side: number): Promise<Bitmap>;
  url(bytes: Uint8Array, type: string): string;
  revoke(url: string): void;
  download(bytes: Uint8Array, name: string): void;
  id(): string;
  wait(ms: number): Promise<void>;
  /** Wall-clock milliseconds (creation dates survive reloads, unlike performance.now). */
  clock(): number;
}

export const SETTINGS_KEY = 'convlens:train-settings';
/** Pause between two photos of a burst, and the most photos one burst takes. */
export const BURST_MS = 250;
export const BURST_MAX = 30;

const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6', '#bfef45'];

export class TrainController {
  private deps: TrainDeps | undefined;
  private loading: Promise<void> | undefined;
  private readonly urls = new Map<string, string>();
  private lastCreated = 0;
  private modelInfo: unknown;
  private readonly unsubscribe: () => void;
  /** The kept classifiers and which one the live view uses. */
  readonly classifiers: ClassifierShelf;
  /** Training runs: start, resume, cancel. */
  readonly runs: TrainRuns;

  constructor(
    private readonly ctx: FeatureContext,
    deps?: TrainDeps,
  ) {
    this.deps = deps;
    const host = { ctx, deps: () => this.d, open: () => this.open(), fail: (err: unknown) => this.fail(err) };
    this.classifiers = new ClassifierShelf(host);
    this.runs = new TrainRuns({ ...host, shelf: this.classifiers });
    // A model became ready (first load, another model, or a restarted worker): the engine forgot the
    // classifier, so apply the chosen one again.
    this.unsubscribe = ctx.store.subscribe((s) => {
      if (s.model.status !== 'ready' || s.model.info === this.modelInfo) return;
      this.modelInfo = s.model.info;
      void this.classifiers.reapply();
    });
  }

  private get d(): TrainDeps {
    return (this.deps ??= browserTrainDeps());
  }

  private get state() {
    return this.ctx.store.state.train;
  }

  private fail(err: unknown): void {
    this.ctx.dispatch({ type: 'error/raise', error: toAppError(err) });
  }

  /** The view was shown: read the stored classes, photos, classifiers and checkpoint once. */
  open(): Promise<void> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      this.fail(err);
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const store = this.d.store;
    const [classes, photos, classifiers, checkpoint] = await Promise.all([
      store.classes(),
      store.photos(),
      store.classifiers(),
      store.checkpoint(),
    ]);
    this.lastCreated = Math.max(0, ...classes.map((c) => c.created), ...photos.map((p) => p.created));
    this.ctx.dispatch({
      type: 'train/loaded',
      classes: classes.map(({ id, name, colour }) => ({ id, name, colour })),
      photos: photos.map((p) => this.view(p)),
      classifiers: classifiers.map(entry),
      resumable: checkpoint !== undefined,
      settings: this.storedSettings(),
    });
  }

  private storedSettings(): TrainSettings {
    try {
      const raw = this.ctx.settings.get(SETTINGS_KEY);
      return { ...DEFAULT_TRAIN_SETTINGS, ...(raw ? (JSON.parse(raw) as Partial<TrainSettings>) : {}) };
    } catch {
      return DEFAULT_TRAIN_SETTINGS;
    }
  }

  private view(p: PhotoRecord): PhotoView {
    let url = this.urls.get(p.id);
    if (!url) {
      url = this.d.url(p.bytes, p.type);
      this.urls.set(p.id, url);
    }
    return { id: p.id, classId: p.classId, url };
  }

  private created(): number {
    this.lastCreated = Math.max(this.d.clock(), this.lastCreated + 1);
    return this.lastCreated;
  }

  // ---- classes and photos ----

  async addClass(name: string, colour?: string): Promise<void> {
    const clean = name.trim();
    if (!clean) return this.fail(inputError('give the class a name'));
    if (this.state.classes.some((c) => c.name === clean)) return this.fail(inputError(`'${clean}' already exists`));
    const cls = {
      id: this.d.id(),
      name: clean,
      colour: colour ?? PALETTE[this.state.classes.length % PALETTE.length]!,
    };
    try {
      await this.d.store.putClass({ ...cls, created: this.created() });
      this.ctx.dispatch({ type: 'train/class-added', cls });
    } catch (err) {
      this.fail(err);
    }
  }

  /** First press asks for confirmation (the photos go with the class), the second deletes. */
  async removeClass(id: string): Promise<void> {
    if (this.state.confirmRemove !== id) {
      this.ctx.dispatch({ type: 'train/confirm-remove', id });
      return;
    }
    try {
      await this.d.store.deleteClass(id);
      const gone = this.state.photos.filter((p) => p.classId === id).map((p) => p.id);
      for (const p of gone) this.drop(p);
      this.ctx.dispatch({ type: 'train/class-removed', id });
      this.forgetFeatures(gone);
    } catch (err) {
      this.fail(err);
    }
  }

  cancelRemove(): void {
    this.ctx.dispatch({ type: 'train/confirm-remove' });
  }

  selectClass(id: string): void {
    this.ctx.dispatch({ type: 'train/class-selected', id });
  }

  private drop(photoId: string): void {
    const url = this.urls.get(photoId);
    if (url) this.d.revoke(url);
    this.urls.delete(photoId);
  }

  /** The worker's cached features of deleted photos are of no further use (best effort). */
  private forgetFeatures(photoIds: string[]): void {
    if (!photoIds.length) return;
    this.ctx.engine
      .forgetFeatures(photoIds)
      .catch((err: unknown) => console.warn('could not drop cached features', err));
  }

  private async keep(classId: string, bitmap: Bitmap): Promise<void> {
    const { bytes, type } = await this.d.encode(bitmap);
    const record: PhotoRecord = { id: this.d.id(), classId, bytes, type, created: this.created() };
    await this.d.store.putPhoto(record);
    this.ctx.dispatch({ type: 'train/photo-added', photo: this.view(record) });
  }

  /** One still from the live camera into the selected class; false when there was none. */
  async capture(classId = this.state.selected): Promise<boolean> {
    if (!classId) return false;
    try {
      const still = await this.ctx.grabStill(PHOTO_SIDE);
      if (!still) {
        this.fail({ name: 'NoCameraError', message: 'the camera is not running: no photo taken' });
        return false;
      }
      await this.keep(classId, still);
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  /** Hold to burst: a photo now, then one every BURST_MS until stopBurst (at most BURST_MAX). */
  async startBurst(classId = this.state.selected): Promise<void> {
    if (!classId || this.state.capturing) return;
    this.ctx.dispatch({ type: 'train/capturing', capturing: true });
    for (let n = 0; n < BURST_MAX && this.state.capturing; n++) {
      if (!(await this.capture(classId))) break;
      await this.d.wait(BURST_MS);
    }
    this.ctx.dispatch({ type: 'train/capturing', capturing: false });
  }

  stopBurst(): void {
    this.ctx.dispatch({ type: 'train/capturing', capturing: false });
  }

  async addFiles(files: readonly Blob[], classId = this.state.selected): Promise<void> {
    if (!classId) return;
    for (const file of files) {
      try {
        await this.keep(classId, await this.d.decodeFile(file, PHOTO_SIDE));
      } catch (err) {
        this.fail(err);
      }
    }
  }

  async deletePhoto(id: string): Promise<void> {
    try {
      await this.d.store.deletePhoto(id);
      this.drop(id);
      this.ctx.dispatch({ type: 'train/photo-removed', id });
      this.forgetFeatures([id]);
    } catch (err) {
      this.fail(err);
    }
  }

  setSettings(settings: Partial<TrainSettings>): void {
    this.ctx.dispatch({ type: 'train/settings', settings });
    this.ctx.settings.set(SETTINGS_KEY, JSON.stringify(this.state.settings));
  }

  dispose(): void {
    this.unsubscribe();
    this.stopBurst();
    for (const url of this.urls.values()) this.deps?.revoke(url);
    this.urls.clear();
  }
}
