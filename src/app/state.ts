/**
 * All UI state in one pure reducer, so every change is a typed action a test can replay. Effects
 * (worker, camera, service worker) live in controller.ts and report here through typed actions;
 * components only read the state.
 * Time comes in with the actions (`at`), so the reducer stays pure and testable.
 */
import type { AnalyzeResult, BackendInfo, ModelInfo, Progress } from '../../workers/engine/protocol';
import type { CameraProblem } from './camera/errors';
import type { Facing } from './camera/session';
import type { AppError } from './errors';
import { initialInsightState, insightReducer, type InsightAction, type InsightUiState } from './insight/state';
import {
  initialLibraryState,
  isLibraryAction,
  libraryReducer,
  type DownloadState,
  type JobState,
  type LibraryAction,
  type LibraryState,
} from './library/state';
import { initialTrainState, trainReducer, type TrainAction, type TrainUiState } from './train/state';

export type View = 'models' | 'live' | 'train' | 'inside';
/** Views that need a loaded model (and the camera). */
export const MODEL_VIEWS: readonly View[] = ['live', 'train', 'inside'];
/** The class the heatmap explains: a fixed class index, or whatever is top-1 in each frame. */
export type ClassChoice = number | 'auto';

export interface EngineState {
  status: 'starting' | 'ready' | 'restarting' | 'failed';
  backend?: BackendInfo;
  /** window.crossOriginIsolated: threads need it. */
  isolated: boolean;
  restarts: number;
  /** Why the last restart happened. */
  reason?: string;
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
  /** The Models screen's slices (src/app/library/state.ts). */
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

export type Action = CoreAction | LibraryAction | TrainAction | InsightAction;

/** How many result times the frame rate averages over. */
export const FPS_WINDOW = 8;

export function initialState(options: { online?: boolean; isolated?: boolean } = {}): AppState {
  return {
    view: 'models',
    online: options.online ?? true,
    engine: { status: 'starting', isolated: options.isolated ?? false, restarts: 0 },
    library: initialLibraryState(),
    download: { status: 'idle' },
    model: { status: 'none' },
    camera: { status: 'off', facing: 'environment', canSwitch: false, width: 0, height: 0 },
    live: { paused: false, opacity: 0.5, choice: 'auto', times: [] },
    train: initialTrainState(),
    insight: initialInsightState(),
    update: 'none',
  };
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
  if (isLibraryAction(action)) {
    const next = libraryReducer(state, action);
    // Deleting the loaded model unloads it.
    const removed = next !== state && action.type === 'job/done' ? action.removed : undefined;
    return removed !== undefined && state.model.status !== 'none' && state.model.id === removed
      ? withoutModel(next)
      : next;
  }
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
  action: Exclude<CoreAction, Of<'engine' | 'model' | 'camera' | 'frame' | 'live'>>,
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
