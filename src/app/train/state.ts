/** The training screen's slice of the app state. Pure; the app reducer delegates 'train/*' actions here. */
import type {
  EpochMetrics,
  HeadKind,
  TrainPhase,
  TrainProgress,
  ValidationReport,
} from '../../../workers/engine/protocol';

export interface TrainClass {
  id: string;
  name: string;
  /** CSS colour (#rrggbb). */
  colour: string;
}

export interface PhotoView {
  id: string;
  classId: string;
  /** An object URL of the stored picture (the controller owns and revokes it). */
  url: string;
}

/** A stored classifier as the UI lists it (the bytes stay in IndexedDB). */
export interface ClassifierEntry {
  id: string;
  name: string;
  created: string;
  modelId: string;
  classes: string[];
  head: HeadKind;
  fineTuned: boolean;
  /** Validation accuracy when it was trained (undefined: unknown, e.g. no photo held out). */
  valAcc?: number;
  bytes: number;
}

/** What the user can set; everything else is the engine's default. */
export interface TrainSettings {
  head: HeadKind;
  fineTune: boolean;
  /** Feature variants per training photo (the photo plus augmentations). */
  variants: number;
  /** Maximum epochs of the head. */
  epochs: number;
  /** Early stopping: epochs without a better validation loss. */
  patience: number;
  /**
   * Start from the classifier in use when it fits (same model, classes, head; not fine-tuned) instead
   * of from scratch: a retrain after adding photos then takes a few epochs (TrainRequest.from).
   */
  continueFrom: boolean;
}

export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  head: 'dense',
  fineTune: false,
  variants: 4,
  epochs: 30,
  patience: 5,
  continueFrom: true,
};

export type PhaseProgress = Partial<Record<TrainPhase, { done: number; total: number }>>;

export interface RunView {
  status: 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';
  resumed: boolean;
  phases: PhaseProgress;
  history: EpochMetrics[];
  /** Features found in the cache when extraction started (a second run extracts nothing new). */
  cached?: number;
  /** Feature rows (photo × variant) of the run. */
  features?: number;
  validation?: ValidationReport;
  chosen?: 'head' | 'fine-tuned';
  /** The new classifier became the active one, or the previous, better one was kept. */
  outcome?: 'new' | 'kept-previous';
  /** Class names the validation report's indices refer to. */
  classes?: string[];
  /** Name of the classifier the run continues from (TrainSettings.continueFrom). */
  continued?: string;
}

export interface TrainUiState {
  /** The stored classes, photos and classifiers were read. */
  loaded: boolean;
  classes: TrainClass[];
  photos: PhotoView[];
  selected?: string;
  settings: TrainSettings;
  run?: RunView;
  /** A checkpoint of an unfinished run is stored. */
  resumable: boolean;
  classifiers: ClassifierEntry[];
  /** The classifier the live view uses; undefined: ImageNet. */
  active?: string;
  /** A burst capture is running. */
  capturing: boolean;
  /** The class whose Delete waits for a second press (it takes its photos with it). */
  confirmRemove?: string;
}

export type TrainAction =
  | {
      type: 'train/loaded';
      classes: TrainClass[];
      photos: PhotoView[];
      classifiers: ClassifierEntry[];
      resumable: boolean;
      settings?: TrainSettings;
    }
  | { type: 'train/class-added'; cls: TrainClass }
  | { type: 'train/class-removed'; id: string }
  | { type: 'train/class-selected'; id: string }
  | { type: 'train/confirm-remove'; id?: string }
  | { type: 'train/photo-added'; photo: PhotoView }
  | { type: 'train/photo-removed'; id: string }
  | { type: 'train/capturing'; capturing: boolean }
  | { type: 'train/settings'; settings: Partial<TrainSettings> }
  | { type: 'train/run-start'; resumed: boolean; classes: string[]; continued?: string }
  | { type: 'train/progress'; progress: TrainProgress }
  | { type: 'train/cancel' }
  | {
      type: 'train/run-done';
      status: 'done' | 'cancelled';
      history: EpochMetrics[];
      validation?: ValidationReport;
      chosen?: 'head' | 'fine-tuned';
      outcome?: 'new' | 'kept-previous';
    }
  | { type: 'train/run-failed' }
  | { type: 'train/resumable'; resumable: boolean }
  | { type: 'train/classifier-added'; entry: ClassifierEntry }
  | { type: 'train/classifier-removed'; id: string }
  | { type: 'train/active'; id?: string };

export function initialTrainState(): TrainUiState {
  return {
    loaded: false,
    classes: [],
    photos: [],
    settings: DEFAULT_TRAIN_SETTINGS,
    resumable: false,
    classifiers: [],
    capturing: false,
  };
}

const isRunning = (s: TrainUiState) => s.run?.status === 'running' || s.run?.status === 'cancelling';

function sanitize(s: TrainSettings): TrainSettings {
  const int = (v: number, lo: number, hi: number, d: number) =>
    Number.isFinite(v) ? Math.min(Math.max(Math.round(v), lo), hi) : d;
  return {
    head: s.head === 'gap' ? 'gap' : 'dense',
    fineTune: !!s.fineTune,
    variants: int(s.variants, 1, 16, DEFAULT_TRAIN_SETTINGS.variants),
    epochs: int(s.epochs, 1, 200, DEFAULT_TRAIN_SETTINGS.epochs),
    patience: int(s.patience, 1, 200, DEFAULT_TRAIN_SETTINGS.patience),
    continueFrom: typeof s.continueFrom === 'boolean' ? s.continueFrom : DEFAULT_TRAIN_SETTINGS.continueFrom,
  };
}

export function trainReducer(state: TrainUiState, action: TrainAction): TrainUiState {
  switch (action.type) {
    case 'train/loaded': {
      const selected = action.classes.some((c) => c.id === state.selected) ? state.selected : action.classes[0]?.id;
      return {
        ...state,
        loaded: true,
        classes: action.classes,
        photos: action.photos,
        classifiers: action.classifiers,
        resumable: action.resumable,
        selected,
        settings: action.settings ? sanitize(action.settings) : state.settings,
        active: action.classifiers.some((c) => c.id === state.active) ? state.active : undefined,
      };
    }
    case 'train/class-added':
      if (state.classes.some((c) => c.id === action.cls.id)) return state;
      return { ...state, classes: [...state.classes, action.cls], selected: action.cls.id };
    case 'train/class-removed': {
      if (!state.classes.some((c) => c.id === action.id)) return state;
      const classes = state.classes.filter((c) => c.id !== action.id);
      return {
        ...state,
        classes,
        photos: state.photos.filter((p) => p.classId !== action.id),
        selected: state.selected === action.id ? classes[0]?.id : state.selected,
        confirmRemove: undefined,
      };
    }
    case 'train/confirm-remove':
      if (action.id !== undefined && !state.classes.some((c) => c.id === action.id)) return state;
      return state.confirmRemove === action.id ? state : { ...state, confirmRemove: action.id };
    case 'train/class-selected':
      return state.classes.some((c) => c.id === action.id) ? { ...state, selected: action.id } : state;
    case 'train/photo-added':
      if (!state.classes.some((c) => c.id === action.photo.classId)) return state;
      return { ...state, photos: [...state.photos.filter((p) => p.id !== action.photo.id), action.photo] };
    case 'train/photo-removed':
      if (!state.photos.some((p) => p.id === action.id)) return state;
      return { ...state, photos: state.photos.filter((p) => p.id !== action.id) };
    case 'train/capturing':
      return state.capturing === action.capturing ? state : { ...state, capturing: action.capturing };
    case 'train/settings':
      return { ...state, settings: sanitize({ ...state.settings, ...action.settings }) };

    case 'train/run-start':
      if (isRunning(state)) return state;
      return {
        ...state,
        run: {
          status: 'running',
          resumed: action.resumed,
          phases: {},
          history: [],
          classes: action.classes,
          continued: action.continued,
        },
      };
    case 'train/progress': {
      if (!isRunning(state)) return state;
      const run = state.run!;
      const { phase, done, total, metrics } = action.progress;
      const first = phase === 'extract' && run.phases.extract === undefined;
      return {
        ...state,
        run: {
          ...run,
          phases: { ...run.phases, [phase]: { done, total } },
          history: metrics ? [...run.history, metrics] : run.history,
          // The extractor's first report counts what it found cached.
          ...(first ? { cached: done, features: total } : {}),
        },
      };
    }
    case 'train/cancel':
      return state.run?.status === 'running' ? { ...state, run: { ...state.run, status: 'cancelling' } } : state;
    case 'train/run-done': {
      if (!isRunning(state)) return state;
      const run = state.run!;
      return {
        ...state,
        run: {
          ...run,
          status: action.status,
          // The result's history is complete (a resumed run's starts before this session).
          history: action.history.length >= run.history.length ? action.history : run.history,
          validation: action.validation,
          chosen: action.chosen,
          outcome: action.outcome,
        },
      };
    }
    case 'train/run-failed':
      return isRunning(state) ? { ...state, run: { ...state.run!, status: 'failed' } } : state;
    case 'train/resumable':
      return state.resumable === action.resumable ? state : { ...state, resumable: action.resumable };

    case 'train/classifier-added':
      return {
        ...state,
        classifiers: [...state.classifiers.filter((c) => c.id !== action.entry.id), action.entry],
      };
    case 'train/classifier-removed':
      if (!state.classifiers.some((c) => c.id === action.id)) return state;
      return {
        ...state,
        classifiers: state.classifiers.filter((c) => c.id !== action.id),
        active: state.active === action.id ? undefined : state.active,
      };
    case 'train/active':
      if (action.id !== undefined && !state.classifiers.some((c) => c.id === action.id)) return state;
      return state.active === action.id ? state : { ...state, active: action.id };
  }
}

// ---- selectors ----

export function selectPhotoCounts(state: TrainUiState): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(state.classes.map((c) => [c.id, 0]));
  for (const p of state.photos) counts[p.classId] = (counts[p.classId] ?? 0) + 1;
  return counts;
}

/** Why Train cannot start yet, or undefined when it can. */
export function selectTrainBlocker(state: TrainUiState): string | undefined {
  if (isRunning(state)) return 'training is running';
  if (state.classes.length < 2) return 'add at least two classes';
  const counts = selectPhotoCounts(state);
  const empty = state.classes.filter((c) => !counts[c.id]);
  if (empty.length) return `add photos to ${empty.map((c) => c.name).join(', ')}`;
  return undefined;
}

export function selectActiveClassifier(state: TrainUiState): ClassifierEntry | undefined {
  return state.classifiers.find((c) => c.id === state.active);
}

export const selectRunning = isRunning;

/**
 * The classifier a new run continues from, when the settings ask for it: the one in use, if it was
 * trained on `modelId` for exactly the current classes (names, in order) with the chosen head, and not
 * fine-tuned (its head reads fine-tuned block5 features; headStart in the core says the same).
 */
export function selectContinueFrom(state: TrainUiState, modelId: string): ClassifierEntry | undefined {
  const c = selectActiveClassifier(state);
  if (!state.settings.continueFrom || !c || c.fineTuned || c.modelId !== modelId) return undefined;
  if (c.head !== state.settings.head || c.classes.length !== state.classes.length) return undefined;
  return c.classes.every((name, i) => name === state.classes[i]!.name) ? c : undefined;
}
