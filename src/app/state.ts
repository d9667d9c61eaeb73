/**
 * All UI state in one pure reducer, so every change is a typed action a test can replay. Effects
 * (worker, camera, service worker) live in controller.ts and report here through typed actions;
 * components only read the state.
 * Time comes in with the actions (`at`), so the reducer stays pure and testable.
 */
import type {
  AnalyzeResult,
  BackendInfo,
  ModelInfo,
  PendingImport,
  Progress,
  ServedModel,
  StorageEstimate,
  StoredModel,
} from '../../workers/engine/protocol';
import type { CameraProblem } from './camera/errors';
import type { Facing } from './camera/session';
import { isAbort, type AppError } from './errors';
import { initialInsightState, insightReducer, type InsightAction, type InsightUiState } from './insight/state';
import { initialTrainState, trainReducer, type TrainAction, type TrainUiState } from './train/state';

export type View = 'models' | 'live' | 'train' | 'inside';
/** Views that need a loaded model (and the camera). */
export const MODEL_VIEWS: readonly View[] = ['live', 'train', 'inside'];
/** The class the heatmap explains: a fixed class index, or whatever is top-1 in each frame. */
export type ClassChoice = number | 'auto';
export type JobKind = 'verify' | 'import' | 'delete';

/** The one model the app offers for download; its bundle sits next to the app. */
export const DEMO_MODEL_ID = 'vgg16-demo';
/** Published VGG16 ImageNet weights (torchvision's, as timm publishes them), served with CORS and Range. */
export const DEFAULT_WEIGHTS_URL = 'https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors';

export interface EngineState {
  status: 'starting' | 'ready' | 'restarting' | 'failed';
  backend?: BackendInfo;
  /** window.crossOriginIsolated: threads need it. */
  isolated: boolean;
  restarts: number;
  /** Why the last restart happened. */
  reason?: string;
}

export interface LibraryState {
  models: StoredModel[];
  /** listModels has answered at least once. */
  listed: boolean;
  storage?: StorageEstimate;
  /** Bytes of the demo bundle, from its manifest (before any download). */
  demoBytes?: number;
  /** The model whose Delete waits for a second press. */
  confirmDelete?: string;
  /** Where "Get ImageNet weights" downloads from (a setting: a mirror may replace it). */
  weightsUrl: string;
  /** Bundles the app's server publishes (models/index.json). */
  served: ServedModel[];
  /** Imports from a URL that stopped before the end and can resume. */
  pending: PendingImport[];
}

/** What a download fetches: the demo bundle, the ImageNet weights, any URL, or a bundle the server lists. */
export type DownloadSource = 'demo' | 'imagenet' | 'url' | 'served';

export type DownloadState =
  | { status: 'idle' }
  | {
      status: 'running' | 'cancelling' | 'stopped';
      /** The model id (demo, served) or the URL (imports). */
      id: string;
      /** Absent: the demo. */
      source?: DownloadSource;
      progress?: Progress;
      /** The first progress of this run and the time of the latest (ms): the rate and time left. */
      since?: { at: number; done: number };
      at?: number;
    };

export interface JobState {
  kind: JobKind;
  /** A model id, or the imported file's name. */
  target: string;
  progress?: Progress;
}

export type ModelState =
  | { status: 'none' }
  | { status: 'loading'; id: string; progress?: Progress }
  | { status: 'ready'; id: string; info: ModelInfo };

export interface CameraState {
  status: 'off' | 'starting' | 'live' | 'error';
  facing: Facing;
  problem?: CameraProblem;
  canSwitch: boolean;
  width: number;
  height: number;
}

export interface LiveState {
  paused: boolean;
  /** Heatmap opacity, 0..1. */
  opacity: number;
  choice: ClassChoice;
  result?: AnalyzeResult;
  /** Arrival times (ms) of the last results, for the frame rate. */
  times: number[];
  snapshot?: { url: string; name: string };
}

export type UpdateState = 'none' | 'available' | 'dismissed' | 'applying';

export interface AppState {
  view: View;
  online: boolean;
  engine: EngineState;
  library: LibraryState;
  download: DownloadState;
  job?: JobState;
  model: ModelState;
  camera: CameraState;
  live: LiveState;
  /** The training screen's slice (src/app/train/state.ts). */
  train: TrainUiState;
  /** The "Inside" screen's slice (src/app/insight/state.ts). */
  insight: InsightUiState;
  update: UpdateState;
  error?: AppError;
  /** A short polite announcement ("Model verified"). */
  notice?: string;
}

/** The app's own actions; feature slices add theirs to Action. */
export type CoreAction =
  | { type: 'online'; online: boolean }
  | { type: 'engine/ready'; backend: BackendInfo }
  | { type: 'engine/restarting'; reason: string }
  | { type: 'engine/failed'; error: AppError }
  | { type: 'library/listed'; models: StoredModel[] }
  | { type: 'library/storage'; estimate: StorageEstimate }
  | { type: 'library/demo-size'; bytes: number }
  | { type: 'library/confirm-delete'; id?: string }
  | { type: 'library/weights-url'; url: string }
  | { type: 'library/served'; served: ServedModel[]; pending: PendingImport[] }
  | { type: 'download/start'; id: string; source?: DownloadSource }
  | { type: 'download/progress'; progress: Progress; at?: number }
  | { type: 'download/cancel' }
  | { type: 'download/done'; model: StoredModel }
  | { type: 'download/failed'; error: AppError }
  | { type: 'job/start'; kind: JobKind; target: string }
  | { type: 'job/progress'; progress: Progress }
  | { type: 'job/done'; model?: StoredModel; removed?: string }
  | { type: 'job/failed'; error: AppError }
  | { type: 'model/loading'; id: string }
  | { type: 'model/progress'; progress: Progress }
  | { type: 'model/ready'; info: ModelInfo }
  | { type: 'model/failed'; error: AppError }
  | { type: 'view'; view: View }
  | { type: 'camera/starting'; facing: Facing }
  | { type: 'camera/live'; canSwitch: boolean }
  | { type: 'camera/size'; width: number; height: number }
  | { type: 'camera/failed'; problem: CameraProblem }
  | { type: 'camera/stopped' }
  | { type: 'frame/result'; result: AnalyzeResult; at: number }
  | { type: 'frame/failed'; error: AppError }
  | { type: 'live/choose'; choice: ClassChoice }
  | { type: 'live/opacity'; opacity: number }
  | { type: 'live/paused'; paused: boolean }
  | { type: 'live/snapshot'; url: string; name: string }
  | { type: 'update/available' }
  | { type: 'update/accept' }
  | { type: 'update/dismiss' }
  | { type: 'error/raise'; error: AppError }
  | { type: 'error/dismiss' };

export type Action = CoreAction | TrainAction | InsightAction;

/** How many result times the frame rate averages over. */
export const FPS_WINDOW = 8;

export function initialState(options: { online?: boolean; isolated?: boolean } = {}): AppState {
  return {
    view: 'models',
    online: options.online ?? true,
    engine: { status: 'starting', isolated: options.isolated ?? false, restarts: 0 },
    library: { models: [], listed: false, weightsUrl: DEFAULT_WEIGHTS_URL, served: [], pending: [] },
    download: { status: 'idle' },
    model: { status: 'none' },
    camera: { status: 'off', facing: 'environment', canSwitch: false, width: 0, height: 0 },
    live: { paused: false, opacity: 0.5, choice: 'auto', times: [] },
    train: initialTrainState(),
    insight: initialInsightState(),
    update: 'none',
  };
}

/** Byte progress with a time: the first sample of a run (or of a phase) anchors the rate. */
function rateSample(
  d: Extract<DownloadState, { id: string }>,
  a: { progress: Progress; at?: number },
): Partial<Extract<DownloadState, { id: string }>> {
  if (a.at === undefined || a.progress.unit !== 'bytes') return {};
  const fresh = !d.since || d.progress?.phase !== a.progress.phase || a.progress.done < d.since.done;
  return { since: fresh ? { at: a.at, done: a.progress.done } : d.since, at: a.at };
}

function upsert(models: StoredModel[], model: StoredModel): StoredModel[] {
  const i = models.findIndex((m) => m.id === model.id);
  return i < 0 ? [...models, model] : models.map((m, k) => (k === i ? model : m));
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(Math.max(x, 0), 1) : 0;
}

/** The model went away (deleted, failed): back to the model screen with a clean live view. */
function withoutModel(state: AppState): AppState {
  return {
    ...state,
    model: { status: 'none' },
    view: 'models',
    live: { ...state.live, result: undefined, times: [], paused: false, choice: 'auto' },
  };
}

const isTrainAction = (a: Action): a is TrainAction => a.type.startsWith('train/');
const isInsightAction = (a: Action): a is InsightAction => a.type.startsWith('insight/');

/** The core actions whose type starts with one of `prefixes` and a slash. */
type Of<P extends string> = Extract<CoreAction, { type: `${P}/${string}` }>;
const isOf = <P extends string>(a: Action, ...prefixes: P[]): a is Of<P> =>
  prefixes.some((p) => a.type.startsWith(`${p}/`));

export function reducer(state: AppState, action: Action): AppState {
  // Feature slices own their actions; the app state only changes identity when the slice did.
  if (isTrainAction(action)) {
    const train = trainReducer(state.train, action);
    return train === state.train ? state : { ...state, train };
  }
  if (isInsightAction(action)) {
    const insight = insightReducer(state.insight, action);
    return insight === state.insight ? state : { ...state, insight };
  }
  if (isOf(action, 'engine')) return engineReducer(state, action);
  if (isOf(action, 'library')) return libraryReducer(state, action);
  if (isOf(action, 'download')) return downloadReducer(state, action);
  if (isOf(action, 'job')) return jobReducer(state, action);
  if (isOf(action, 'model')) return modelReducer(state, action);
  if (isOf(action, 'camera')) return cameraReducer(state, action);
  if (isOf(action, 'frame', 'live')) return liveReducer(state, action);
  return shellReducer(state, action);
}

/** The engine worker: ready, restarting with the model it had, or failed. */
function engineReducer(state: AppState, action: Of<'engine'>): AppState {
  switch (action.type) {
    case 'engine/ready':
      return { ...state, engine: { ...state.engine, status: 'ready', backend: action.backend } };
    case 'engine/restarting': {
      // The bridge reloads the model it had: show it as loading again, not as gone.
      const model: ModelState =
        state.model.status === 'ready' ? { status: 'loading', id: state.model.id } : state.model;
      return {
        ...state,
        model,
        engine: { ...state.engine, status: 'restarting', restarts: state.engine.restarts + 1, reason: action.reason },
      };
    }
    case 'engine/failed': {
      // Nothing runs without the engine: back to the model screen, which offers the restart.
      const next = state.model.status === 'none' ? state : withoutModel(state);
      return { ...next, engine: { ...state.engine, status: 'failed' }, error: action.error };
    }
  }
}

/** The stored models and the storage estimate. */
function libraryReducer(state: AppState, action: Of<'library'>): AppState {
  switch (action.type) {
    case 'library/listed':
      return { ...state, library: { ...state.library, models: action.models, listed: true } };
    case 'library/storage':
      return { ...state, library: { ...state.library, storage: action.estimate } };
    case 'library/demo-size':
      return { ...state, library: { ...state.library, demoBytes: action.bytes } };
    case 'library/confirm-delete':
      return { ...state, library: { ...state.library, confirmDelete: action.id } };
    case 'library/weights-url':
      return { ...state, library: { ...state.library, weightsUrl: action.url.trim() || DEFAULT_WEIGHTS_URL } };
    case 'library/served':
      return { ...state, library: { ...state.library, served: action.served, pending: action.pending } };
  }
}

/** A model download: running, cancelling, stopped (resumable) or idle. */
function downloadReducer(state: AppState, action: Of<'download'>): AppState {
  switch (action.type) {
    case 'download/start':
      if (state.download.status === 'running' || state.download.status === 'cancelling') return state;
      return {
        ...state,
        error: undefined,
        download: {
          status: 'running',
          id: action.id,
          ...(action.source && action.source !== 'demo' ? { source: action.source } : {}),
          // Resuming keeps the last progress so the bar does not jump back to zero.
          ...(state.download.status === 'stopped' && state.download.id === action.id && state.download.progress
            ? { progress: state.download.progress }
            : {}),
        },
      };
    case 'download/progress':
      if (state.download.status !== 'running' && state.download.status !== 'cancelling') return state;
      return {
        ...state,
        download: { ...state.download, progress: action.progress, ...rateSample(state.download, action) },
      };
    case 'download/cancel':
      if (state.download.status !== 'running') return state;
      return { ...state, download: { ...state.download, status: 'cancelling' } };
    case 'download/done':
      return {
        ...state,
        download: { status: 'idle' },
        library: { ...state.library, models: upsert(state.library.models, action.model) },
        notice: action.model.ready ? `${action.model.id} downloaded and verified` : `${action.model.id} downloaded`,
      };
    case 'download/failed': {
      if (state.download.status === 'idle') return state;
      const stopped: DownloadState = { ...state.download, status: 'stopped' };
      // Cancelling is not failing: the verified shards stay for a resume.
      if (isAbort(action.error) || state.download.status === 'cancelling') {
        return { ...state, download: stopped, notice: 'Download paused; verified parts are kept' };
      }
      return { ...state, download: stopped, error: action.error };
    }
  }
}

/** One library job at a time: verify, import or delete. */
function jobReducer(state: AppState, action: Of<'job'>): AppState {
  switch (action.type) {
    case 'job/start':
      if (state.job) return state;
      return {
        ...state,
        job: { kind: action.kind, target: action.target },
        error: undefined,
        library: { ...state.library, confirmDelete: undefined },
      };
    case 'job/progress':
      if (!state.job) return state;
      return { ...state, job: { ...state.job, progress: action.progress } };
    case 'job/done': {
      if (!state.job) return state;
      const { kind, target } = state.job;
      let next: AppState = { ...state, job: undefined };
      if (action.model)
        next = { ...next, library: { ...next.library, models: upsert(next.library.models, action.model) } };
      if (action.removed !== undefined) {
        const removed = action.removed;
        next = { ...next, library: { ...next.library, models: next.library.models.filter((m) => m.id !== removed) } };
        if (state.model.status !== 'none' && state.model.id === removed) next = withoutModel(next);
      }
      const notice =
        kind === 'delete'
          ? `${target} deleted`
          : kind === 'import'
            ? `${action.model?.id ?? target} imported`
            : action.model?.ready === false
              ? `${target}: some parts need downloading again`
              : `${target} verified: every shard matches its checksum`;
      return { ...next, notice };
    }
    case 'job/failed':
      if (!state.job) return state;
      return { ...state, job: undefined, ...(isAbort(action.error) ? {} : { error: action.error }) };
  }
}

/** The loaded model. */
function modelReducer(state: AppState, action: Of<'model'>): AppState {
  switch (action.type) {
    case 'model/loading':
      return {
        ...state,
        model: { status: 'loading', id: action.id },
        error: undefined,
        live: { ...state.live, result: undefined, times: [], choice: 'auto' },
      };
    case 'model/progress':
      if (state.model.status !== 'loading') return state;
      return { ...state, model: { ...state.model, progress: action.progress } };
    case 'model/ready':
      return { ...state, model: { status: 'ready', id: action.info.id, info: action.info }, view: 'live' };
    case 'model/failed':
      return { ...withoutModel(state), error: action.error };
  }
}

/** The camera's state and size. */
function cameraReducer(state: AppState, action: Of<'camera'>): AppState {
  switch (action.type) {
    case 'camera/starting':
      return { ...state, camera: { ...state.camera, status: 'starting', facing: action.facing, problem: undefined } };
    case 'camera/live':
      return { ...state, camera: { ...state.camera, status: 'live', canSwitch: action.canSwitch, problem: undefined } };
    case 'camera/size':
      return { ...state, camera: { ...state.camera, width: action.width, height: action.height } };
    case 'camera/failed':
      return { ...state, camera: { ...state.camera, status: 'error', problem: action.problem } };
    case 'camera/stopped':
      return { ...state, camera: { ...state.camera, status: 'off', width: 0, height: 0 } };
  }
}

/** The live view: results, frame times and the user's choices. */
function liveReducer(state: AppState, action: Of<'frame' | 'live'>): AppState {
  switch (action.type) {
    case 'frame/result': {
      if (state.model.status !== 'ready') return state; // a late answer for a model that is gone
      const times = [...state.live.times, action.at].slice(-FPS_WINDOW);
      return { ...state, live: { ...state.live, result: action.result, times } };
    }
    case 'frame/failed':
      return { ...state, error: action.error };

    case 'live/choose':
      return { ...state, live: { ...state.live, choice: action.choice } };
    case 'live/opacity':
      return { ...state, live: { ...state.live, opacity: clamp01(action.opacity) } };
    case 'live/paused':
      // Frame times restart on resume so the rate does not count the pause.
      return { ...state, live: { ...state.live, paused: action.paused, times: [] } };
    case 'live/snapshot':
      return { ...state, live: { ...state.live, snapshot: { url: action.url, name: action.name } } };
  }
}

/** Connectivity, the screen shown, the version update and the error or notice. */
function shellReducer(
  state: AppState,
  action: Exclude<CoreAction, Of<'engine' | 'library' | 'download' | 'job' | 'model' | 'camera' | 'frame' | 'live'>>,
): AppState {
  switch (action.type) {
    case 'online':
      return { ...state, online: action.online };

    case 'view':
      if (state.model.status === 'none' && MODEL_VIEWS.includes(action.view)) return state;
      return { ...state, view: action.view };

    case 'update/available':
      return state.update === 'none' ? { ...state, update: 'available' } : state;
    case 'update/accept':
      return state.update === 'available' ? { ...state, update: 'applying' } : state;
    case 'update/dismiss':
      return state.update === 'available' ? { ...state, update: 'dismissed' } : state;

    case 'error/raise':
      return { ...state, error: action.error };
    case 'error/dismiss':
      return { ...state, error: undefined, notice: undefined };

    default: {
      const never: never = action;
      return never;
    }
  }
}
