/**
 * The model library's effects (the Models screen): the demo download, importing a user's weights,
 * verifying and deleting stored models, loading one and going live. Part of the app's controller
 * (app/controller.ts), which owns the engine bridge and the camera.
 */
import { isCrash } from '../bridge/lifecycle';
import { demoBaseUrl } from '../bundle';
import type { ControllerDeps, EngineLike } from '../controller';
import { toAppError } from '../errors';
import { selectBusy } from '../selectors';
import type { Progress, StoredModel } from '../../../workers/engine/protocol';
import { normalSha256 } from './sha256';
import { DEMO_MODEL_ID, type DownloadSource } from './state';
import type { Store } from '../store';

/** The model used last: loaded again at start-up when it is still ready. */
export const LAST_MODEL_KEY = 'convlens:last-model';
/** Where "Get ImageNet weights" downloads from, when the user or an organisation set a mirror. */
export const WEIGHTS_URL_KEY = 'convlens:weights-url';
/** The published SHA-256 of that file, kept with the URL ('' or absent: none). */
export const WEIGHTS_SHA256_KEY = 'convlens:weights-sha256';

/** What the library needs from the app's controller. */
export interface LibraryHost {
  store: Store;
  dispatch: Store['dispatch'];
  bridge: EngineLike;
  deps: Pick<ControllerDeps, 'baseUri' | 'settings' | 'persistStorage' | 'now'>;
  /** A deleted model may be the live one. */
  stopCamera(): void;
  /** A loaded model goes live in the views that show the camera. */
  ensureCamera(): void;
}

export class LibraryController {
  constructor(private readonly host: LibraryHost) {
    const url = host.deps.settings.get(WEIGHTS_URL_KEY);
    const sha256 = host.deps.settings.get(WEIGHTS_SHA256_KEY);
    if (url || sha256) host.dispatch({ type: 'library/weights-url', url: url ?? '', sha256 });
  }

  private get state() {
    return this.host.store.state;
  }

  private readonly dispatch: Store['dispatch'] = (action) => this.host.dispatch(action);

  /** Ask the library for its models and the storage estimate; undefined when the engine could not say. */
  async refresh() {
    try {
      const [models, estimate] = await Promise.all([this.host.bridge.listModels(), this.host.bridge.storageEstimate()]);
      this.dispatch({ type: 'library/listed', models });
      this.dispatch({ type: 'library/storage', estimate });
      void this.refreshRemote();
      return models;
    } catch (err) {
      if (!isCrash(err)) this.dispatch({ type: 'error/raise', error: toAppError(err) });
      return undefined;
    }
  }

  /** The server's published bundles and the paused URL imports; neither is worth an error when missing. */
  private async refreshRemote(): Promise<void> {
    const [served, pending] = await Promise.all([
      this.host.bridge.listServedModels().catch(() => []),
      this.host.bridge.pendingImports().catch(() => []),
    ]);
    this.dispatch({ type: 'library/served', served, pending });
  }

  downloadDemo(): Promise<void> {
    return this.transfer('demo', DEMO_MODEL_ID, (progress) =>
      this.host.bridge.downloadModel({ id: DEMO_MODEL_ID, baseUrl: demoBaseUrl(this.host.deps.baseUri) }, progress),
    );
  }

  /** "Get ImageNet weights": the URL (and published SHA-256) of the setting, converted while it streams. */
  getImageNetWeights(): Promise<void> {
    const { weightsUrl, weightsSha256 } = this.state.library;
    return this.importUrl(weightsUrl, weightsSha256, 'imagenet');
  }

  /**
   * Any weights file or bundle folder by URL, checked against its published SHA-256 when one is given
   * (the page has validated it); resumes a paused import of the same URL.
   */
  importUrl(url: string, sha256 = '', source: 'imagenet' | 'url' = 'url'): Promise<void> {
    const trimmed = url.trim();
    if (!trimmed) return Promise.resolve();
    const sha = normalSha256(sha256);
    return this.transfer(source, trimmed, (progress) =>
      this.host.bridge.importFromUrl(
        { url: new URL(trimmed, this.host.deps.baseUri).href, ...(sha ? { sha256: sha } : {}) },
        progress,
      ),
    );
  }

  /** A bundle the server publishes, base part first. */
  downloadServed(model: { id: string; url: string }): Promise<void> {
    return this.transfer('served', model.id, (progress) =>
      this.host.bridge.downloadModel({ id: model.id, baseUrl: model.url }, progress),
    );
  }

  /** Remembers where "Get ImageNet weights" downloads from and its SHA-256; empty URL: the published default. */
  setWeightsUrl(url: string, sha256 = ''): void {
    this.host.deps.settings.set(WEIGHTS_URL_KEY, url.trim());
    this.host.deps.settings.set(WEIGHTS_SHA256_KEY, normalSha256(sha256));
    this.dispatch({ type: 'library/weights-url', url, sha256 });
  }

  private async transfer(
    source: DownloadSource,
    id: string,
    run: (progress: (p: Progress) => void) => Promise<StoredModel>,
  ): Promise<void> {
    const before = this.state;
    if (selectBusy(before) || !before.online) return;
    this.dispatch({ type: 'download/start', id, source });
    void this.host.deps.persistStorage().catch(() => false);
    try {
      const model = await run((progress) =>
        this.dispatch({ type: 'download/progress', progress, at: this.host.deps.now() }),
      );
      this.dispatch({ type: 'download/done', model });
      if (model.ready && this.state.model.status === 'none') void this.useModel(model.id);
    } catch (err) {
      this.dispatch({ type: 'download/failed', error: toAppError(err) });
    }
    void this.refresh();
  }

  cancelDownload(): void {
    if (this.state.download.status !== 'running') return;
    this.dispatch({ type: 'download/cancel' });
    this.host.bridge
      .cancelDownload()
      .catch((err: unknown) => this.dispatch({ type: 'error/raise', error: toAppError(err) }));
  }

  /** First press asks for confirmation, the second deletes. */
  async deleteModel(id: string): Promise<void> {
    if (this.state.library.confirmDelete !== id) {
      this.dispatch({ type: 'library/confirm-delete', id });
      return;
    }
    await this.job('delete', id, async () => {
      const active = this.state.model.status !== 'none' && this.state.model.id === id;
      if (active) this.host.stopCamera();
      await this.host.bridge.deleteModel(id);
      return { removed: id };
    });
  }

  cancelDelete(): void {
    this.dispatch({ type: 'library/confirm-delete' });
  }

  verifyModel(id: string): Promise<void> {
    return this.job('verify', id, async () => ({ model: await this.host.bridge.verifyModel(id, this.jobProgress) }));
  }

  /** Hand a user's weights file to the engine; its bytes are transferred, not copied. */
  importFile(file: { name: string; arrayBuffer(): Promise<ArrayBuffer> }): Promise<void> {
    void this.host.deps.persistStorage().catch(() => false);
    return this.job('import', file.name, async () => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      return { model: await this.host.bridge.importWeights({ name: file.name, bytes }, this.jobProgress) };
    });
  }

  private readonly jobProgress = (progress: { phase: string; done: number; total: number }): void =>
    this.dispatch({ type: 'job/progress', progress });

  private async job(
    kind: 'verify' | 'import' | 'delete',
    target: string,
    run: () => Promise<{ model?: Awaited<ReturnType<EngineLike['verifyModel']>>; removed?: string }>,
  ): Promise<void> {
    if (this.state.job) return;
    this.dispatch({ type: 'job/start', kind, target });
    try {
      this.dispatch({ type: 'job/done', ...(await run()) });
    } catch (err) {
      this.dispatch({ type: 'job/failed', error: toAppError(err) });
    }
    void this.refresh();
  }

  /** Load a stored model and go live. */
  async useModel(id: string): Promise<void> {
    this.dispatch({ type: 'model/loading', id });
    this.host.deps.settings.set(LAST_MODEL_KEY, id);
    try {
      const info = await this.host.bridge.loadModel(id, (progress) =>
        this.dispatch({ type: 'model/progress', progress }),
      );
      if (this.state.model.status === 'loading' && this.state.model.id === id) {
        this.dispatch({ type: 'model/ready', info });
        this.host.ensureCamera();
      }
    } catch (err) {
      // A crash restarts the worker, which reloads this model and reports through onReady.
      if (!isCrash(err)) this.dispatch({ type: 'model/failed', error: toAppError(err) });
    }
  }
}
