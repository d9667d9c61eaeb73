/**
 * The app's effects: the engine bridge, the camera, the frame grabber and the service worker, turned into
 * reducer actions. Components call these methods and read the store; they never touch a Worker or a
 * MediaStream. Every platform object comes in through ControllerDeps, so tests run it in Node with fakes.
 * The Models screen's effects are in library/, the training and Inside screens' in train/ and insight/.
 */
import type { AnalyzeOptions, BackendInfo, Grid, LibraryApi, ModelInfo } from '../../workers/engine/protocol';
import type { BridgeOptions, EngineBridge } from './bridge/bridge';
import type { DbEvent } from './bridge/lifecycle';
import { featureEngine } from './bridge/features';
import { demoBaseUrl } from './bundle';
import { cameraErrorState } from './camera/errors';
import type { GrabberOptions, VideoSource } from './camera/grabber';
import type { CameraSession, Facing } from './camera/session';
import { toAppError } from './errors';
import type { FeatureContext } from './feature';
import { InsightController } from './insight/controller';
import { LAST_MODEL_KEY, LibraryController } from './library/controller';
import { pickStartupModel, selectBusy } from './selectors';
import { MODEL_VIEWS, type ClassChoice, type View } from './state';
import type { Store } from './store';
import { applyUpdate, watchForUpdate, type ContainerLike, type RegistrationLike } from './sw-update';
import { TrainController } from './train/controller';

/** The user's memory-saver choice ('on' | 'off'; absent: the engine decides from the device's memory). */
export const MEMORY_SAVER_KEY = 'convlens:memory-saver';

export type EngineLike = Pick<
  EngineBridge,
  'start' | 'idle' | 'submit' | 'loadModel' | keyof LibraryApi | 'restartNow' | 'reconfigure' | 'request' | 'dispose'
>;

export type BridgeCallbacks = Pick<
  BridgeOptions,
  'onResult' | 'onFrameError' | 'onRestart' | 'onReady' | 'onFailed' | 'onDbEvent'
>;

/** The video element as the controller uses it. */
export interface VideoLike extends VideoSource {
  srcObject: MediaProvider | null;
  play(): Promise<void>;
  pause(): void;
}

export interface ControllerDeps {
  store: Store;
  createBridge(callbacks: BridgeCallbacks): EngineLike;
  camera: Pick<CameraSession, 'open' | 'stop' | 'stream' | 'hasSeveralCameras'>;
  baseUri: string;
  settings: { get(key: string): string | undefined; set(key: string, value: string): void };
  /** navigator.storage.persist(), asked when the user starts storing a model (less eviction under pressure). */
  persistStorage(): Promise<boolean>;
  fetchBundleBytes(baseUrl: string): Promise<number | undefined>;
  now(): number;
  startGrabber(options: GrabberOptions): () => void;
  grabStill(video: VideoSource, size: number): Promise<ImageBitmap | undefined>;
  /** Encode the overlay and offer it as a download; returns the object URL and file name. */
  saveSnapshot(
    video: VideoLike,
    heat: Grid | undefined,
    opacity: number,
    label: string | undefined,
  ): Promise<{ url: string; name: string }>;
  revokeUrl(url: string): void;
  serviceWorker?: ContainerLike;
  reload(): void;
}

export class Controller {
  readonly store: Store;
  /** The training screen's effects (src/app/train). */
  readonly train: TrainController;
  /** The "Inside" screen's effects (src/app/insight). */
  readonly insight: InsightController;
  /** The Models screen's effects: download, import, verify, delete, use. */
  readonly library: LibraryController;
  private readonly bridge: EngineLike;
  private video: VideoLike | undefined;
  private stopGrabber: (() => void) | undefined;
  private waiting: ServiceWorker | undefined;
  private stopWatching: (() => void) | undefined;
  private firstReady = true;
  private disposed = false;

  constructor(private readonly deps: ControllerDeps) {
    this.store = deps.store;
    this.bridge = deps.createBridge({
      onResult: (result) => this.dispatch({ type: 'frame/result', result, at: deps.now() }),
      onFrameError: (err) => this.dispatch({ type: 'frame/failed', error: toAppError(err) }),
      onRestart: (reason) => this.dispatch({ type: 'engine/restarting', reason }),
      onReady: (backend, model, modelError) => this.engineReady(backend, model, modelError),
      onFailed: (err) => this.dispatch({ type: 'engine/failed', error: toAppError(err) }),
      onDbEvent: (event) => this.dbEvent(event),
    });
    // The user's memory-saver choice, if any; otherwise the engine decides from the device's memory.
    const saver = deps.settings.get(MEMORY_SAVER_KEY);
    if (saver) this.bridge.reconfigure({ lowMemory: saver === 'on' });
    const feature: FeatureContext = {
      store: this.store,
      dispatch: this.dispatch,
      engine: featureEngine((fn) => this.bridge.request(fn)),
      grabStill: async (size) =>
        this.video && this.state.camera.status === 'live' ? this.deps.grabStill(this.video, size) : undefined,
      now: () => this.deps.now(),
      settings: this.deps.settings,
    };
    this.train = new TrainController(feature);
    this.insight = new InsightController(feature);
    this.library = new LibraryController({
      store: this.store,
      dispatch: this.dispatch,
      bridge: this.bridge,
      deps,
      stopCamera: () => this.stopCamera(),
      ensureCamera: () => this.ensureCamera(),
    });
  }

  private get state() {
    return this.store.state;
  }

  private dispatch: Store['dispatch'] = (action) => {
    if (!this.disposed) this.store.dispatch(action);
  };

  /** Start the engine, read the library and the demo bundle's size; watch for service-worker updates. */
  start(registration?: Promise<RegistrationLike | undefined>): void {
    void this.bridge.start();
    void this.deps
      .fetchBundleBytes(demoBaseUrl(this.deps.baseUri))
      .then((bytes) => bytes !== undefined && this.dispatch({ type: 'library/demo-size', bytes }));
    void registration
      ?.then((reg) => {
        if (!reg || !this.deps.serviceWorker || this.disposed) return;
        this.stopWatching = watchForUpdate(reg, this.deps.serviceWorker, (worker) => {
          this.waiting = worker;
          this.dispatch({ type: 'update/available' });
        });
      })
      .catch((err: unknown) => console.warn('service worker registration failed', err));
  }

  private engineReady(backend: BackendInfo, model: ModelInfo | undefined, modelError: unknown): void {
    this.dispatch({ type: 'engine/ready', backend });
    if (model) this.dispatch({ type: 'model/ready', info: model });
    if (modelError !== undefined) this.dispatch({ type: 'model/failed', error: toAppError(modelError) });
    if (!this.firstReady) return;
    this.firstReady = false;
    void this.library.refresh().then((models) => {
      const id = models && pickStartupModel(models, this.deps.settings.get(LAST_MODEL_KEY));
      if (id !== undefined && this.state.model.status === 'none') void this.library.useModel(id);
    });
  }

  /** Another tab changed the storage schema: only a reload, or closing it, helps. */
  private dbEvent(event: DbEvent): void {
    if (event.event === 'terminated') return; // the worker reopens the database on its next use
    const name = event.event === 'blocking' ? 'StorageBlockedError' : 'StorageUpgradeBlockedError';
    this.dispatch({ type: 'error/raise', error: { name, message: event.message } });
  }

  // ---- views and camera ----

  showView(view: View): void {
    this.dispatch({ type: 'view', view });
    if (this.state.view !== view) return; // refused: that view needs a model
    if (MODEL_VIEWS.includes(view)) this.ensureCamera();
    else this.stopCamera();
    if (view === 'train') this.train.open();
    if (view === 'inside') this.insight.open();
  }

  /** The camera runs in every view that shows it (live, train, inside). */
  private ensureCamera(): void {
    if (MODEL_VIEWS.includes(this.state.view) && this.state.camera.status === 'off')
      void this.openCamera(this.state.camera.facing);
  }

  /** Open the camera facing `facing` (the session stops the old tracks first). */
  async openCamera(facing: Facing, relaxed = false): Promise<void> {
    this.dispatch({ type: 'camera/starting', facing });
    try {
      const stream = await this.deps.camera.open(facing, relaxed);
      if (!stream) return; // superseded by a newer open or a stop
      this.attachStream();
      this.dispatch({ type: 'camera/live', canSwitch: await this.deps.camera.hasSeveralCameras() });
    } catch (err) {
      this.dispatch({ type: 'camera/failed', problem: cameraErrorState(err) });
    }
  }

  retryCamera(): void {
    void this.openCamera(this.state.camera.facing, this.state.camera.problem?.relax ?? false);
  }

  switchCamera(): void {
    void this.openCamera(this.state.camera.facing === 'environment' ? 'user' : 'environment');
  }

  stopCamera(): void {
    this.deps.camera.stop();
    if (this.video) this.video.srcObject = null;
    if (this.state.camera.status !== 'off') this.dispatch({ type: 'camera/stopped' });
  }

  /** The live view's <video> mounted (or unmounted, with null). */
  attachVideo(video: VideoLike | null): void {
    this.stopGrabber?.();
    this.stopGrabber = undefined;
    this.video = video ?? undefined;
    if (!video) return;
    this.attachStream();
    this.stopGrabber = this.deps.startGrabber({
      video,
      wanted: () => this.wantsFrame(),
      inputSize: () => this.inputSize(),
      send: (frame) => this.bridge.submit(frame, this.frameOptions()),
      onError: (err) => console.warn('frame grab failed', err),
    });
  }

  /** The video's frame size changed (loadedmetadata / resize). */
  videoSize(width: number, height: number): void {
    this.dispatch({ type: 'camera/size', width, height });
  }

  private attachStream(): void {
    const stream = this.deps.camera.stream;
    if (!this.video || !stream || this.video.srcObject === stream) return;
    this.video.srcObject = stream;
    this.video.play().catch(() => {}); // `autoplay muted` plays anyway; a rejected play() is not an error
  }

  private wantsFrame(): boolean {
    const s = this.state;
    return (
      s.view === 'live' &&
      s.model.status === 'ready' &&
      s.camera.status === 'live' &&
      !s.live.paused &&
      this.bridge.idle
    );
  }

  private inputSize(): number {
    return this.state.model.status === 'ready' ? this.state.model.info.inputSize : 224;
  }

  private frameOptions(): AnalyzeOptions {
    const choice = this.state.live.choice;
    return choice === 'auto' ? {} : { classIndex: choice };
  }

  // ---- live controls ----

  choose(choice: ClassChoice): void {
    this.dispatch({ type: 'live/choose', choice });
    if (this.state.live.paused) void this.analyzeStill();
  }

  setOpacity(opacity: number): void {
    this.dispatch({ type: 'live/opacity', opacity });
  }

  /** Freeze the frame (and explain exactly that frame), or go live again. */
  togglePause(): void {
    const paused = !this.state.live.paused;
    this.dispatch({ type: 'live/paused', paused });
    if (paused) {
      this.video?.pause();
      void this.analyzeStill();
    } else {
      this.video?.play().catch(() => {});
    }
  }

  private async analyzeStill(): Promise<void> {
    if (!this.video || this.state.model.status !== 'ready') return;
    const frame = await this.deps.grabStill(this.video, this.inputSize());
    if (frame) this.bridge.submit(frame, this.frameOptions());
  }

  async saveOverlay(): Promise<void> {
    if (!this.video) return;
    const { live } = this.state;
    try {
      const old = live.snapshot?.url;
      const saved = await this.deps.saveSnapshot(
        this.video,
        live.result?.heatmap,
        live.opacity,
        live.result?.target.label,
      );
      if (old) this.deps.revokeUrl(old);
      this.dispatch({ type: 'live/snapshot', ...saved });
    } catch (err) {
      this.dispatch({ type: 'error/raise', error: toAppError(err) });
    }
  }

  // ---- engine, updates, connectivity ----

  restartEngine(): void {
    this.bridge.restartNow();
  }

  /** Turn the memory saver on or off (remembered): the engine restarts with it and reloads the model. */
  setMemorySaver(on: boolean): void {
    this.deps.settings.set(MEMORY_SAVER_KEY, on ? 'on' : 'off');
    this.bridge.reconfigure({ lowMemory: on });
  }

  setOnline(online: boolean): void {
    this.dispatch({ type: 'online', online });
  }

  /** Activate the waiting version; refused while a download or job would be cut off. */
  acceptUpdate(): void {
    if (!this.waiting || !this.deps.serviceWorker || selectBusy(this.state)) return;
    this.dispatch({ type: 'update/accept' });
    applyUpdate(this.waiting, this.deps.serviceWorker, this.deps.reload);
  }

  dismissUpdate(): void {
    this.dispatch({ type: 'update/dismiss' });
  }

  dismissError(): void {
    this.dispatch({ type: 'error/dismiss' });
  }

  dispose(): void {
    this.train.dispose();
    this.insight.dispose();
    this.stopGrabber?.();
    this.stopWatching?.();
    this.deps.camera.stop();
    this.bridge.dispose();
    const url = this.state.live.snapshot?.url;
    if (url) this.deps.revokeUrl(url);
    this.disposed = true;
  }
}
