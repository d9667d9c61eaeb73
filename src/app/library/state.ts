/**
 * The Models screen's slices of the app state: the stored models, the download in progress and the one
 * library job (verify, import, delete). Pure; the app reducer delegates 'library/*', 'download/*' and
 * 'job/*' actions here and unloads the model when a job deletes the loaded one.
 */
import type {
  PendingImport,
  Progress,
  ServedModel,
  StorageEstimate,
  StoredModel,
} from '../../../workers/engine/protocol';
import { isAbort, type AppError } from '../errors';
import { normalSha256 } from './sha256';

/** The one model the app offers for download; its bundle sits next to the app. */
export const DEMO_MODEL_ID = 'vgg16-demo';
/** Published VGG16 ImageNet weights (torchvision's, as timm publishes them), served with CORS and Range. */
export const DEFAULT_WEIGHTS_URL = 'https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors';

export type JobKind = 'verify' | 'import' | 'delete';

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
  /** That file's published SHA-256 (lower-case hex; '' when none is set), checked over the whole download. */
  weightsSha256: string;
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

/** The parts of the app state these slices read and write. */
export interface LibrarySlices {
  library: LibraryState;
  download: DownloadState;
  job?: JobState;
  error?: AppError;
  notice?: string;
}

export type LibraryAction =
  | { type: 'library/listed'; models: StoredModel[] }
  | { type: 'library/storage'; estimate: StorageEstimate }
  | { type: 'library/demo-size'; bytes: number }
  | { type: 'library/confirm-delete'; id?: string }
  | { type: 'library/weights-url'; url: string; sha256?: string }
  | { type: 'library/served'; served: ServedModel[]; pending: PendingImport[] }
  | { type: 'download/start'; id: string; source?: DownloadSource }
  | { type: 'download/progress'; progress: Progress; at?: number }
  | { type: 'download/cancel' }
  | { type: 'download/done'; model: StoredModel }
  | { type: 'download/failed'; error: AppError }
  | { type: 'job/start'; kind: JobKind; target: string }
  | { type: 'job/progress'; progress: Progress }
  | { type: 'job/done'; model?: StoredModel; removed?: string }
  | { type: 'job/failed'; error: AppError };

export function initialLibraryState(): LibraryState {
  return { models: [], listed: false, weightsUrl: DEFAULT_WEIGHTS_URL, weightsSha256: '', served: [], pending: [] };
}

export const isLibraryAction = (a: { type: string }): a is LibraryAction =>
  a.type.startsWith('library/') || a.type.startsWith('download/') || a.type.startsWith('job/');

/** Library, download and job actions; `S` is the whole app state, which passes through unchanged. */
export function libraryReducer<S extends LibrarySlices>(state: S, action: LibraryAction): S {
  switch (action.type) {
    case 'library/listed':
    case 'library/storage':
    case 'library/demo-size':
    case 'library/confirm-delete':
    case 'library/weights-url':
    case 'library/served':
      return { ...state, library: modelsReducer(state.library, action) };
    case 'download/start':
    case 'download/progress':
    case 'download/cancel':
    case 'download/done':
    case 'download/failed':
      return downloadReducer(state, action);
    case 'job/start':
    case 'job/progress':
    case 'job/done':
    case 'job/failed':
      return jobReducer(state, action);
  }
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

type Of<P extends string> = Extract<LibraryAction, { type: `${P}/${string}` }>;

/** The stored models and the storage estimate. */
function modelsReducer(library: LibraryState, action: Of<'library'>): LibraryState {
  switch (action.type) {
    case 'library/listed':
      return { ...library, models: action.models, listed: true };
    case 'library/storage':
      return { ...library, storage: action.estimate };
    case 'library/demo-size':
      return { ...library, demoBytes: action.bytes };
    case 'library/confirm-delete':
      return { ...library, confirmDelete: action.id };
    case 'library/weights-url':
      return {
        ...library,
        weightsUrl: action.url.trim() || DEFAULT_WEIGHTS_URL,
        weightsSha256: normalSha256(action.sha256 ?? ''),
      };
    case 'library/served':
      return { ...library, served: action.served, pending: action.pending };
  }
}

/** A model download: running, cancelling, stopped (resumable) or idle. */
function downloadReducer<S extends LibrarySlices>(state: S, action: Of<'download'>): S {
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
function jobReducer<S extends LibrarySlices>(state: S, action: Of<'job'>): S {
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
      let models = state.library.models;
      if (action.model) models = upsert(models, action.model);
      if (action.removed !== undefined) models = models.filter((m) => m.id !== action.removed);
      const library = models === state.library.models ? state.library : { ...state.library, models };
      return { ...state, job: undefined, library, notice: jobNotice(state.job, action) };
    }
    case 'job/failed':
      if (!state.job) return state;
      return { ...state, job: undefined, ...(isAbort(action.error) ? {} : { error: action.error }) };
  }
}

/** What a finished job announces. */
function jobNotice({ kind, target }: JobState, action: Extract<LibraryAction, { type: 'job/done' }>): string {
  if (kind === 'delete') return `${target} deleted`;
  if (kind === 'import') return `${action.model?.id ?? target} imported`;
  return action.model?.ready === false
    ? `${target}: some parts need downloading again`
    : `${target} verified: every shard matches its checksum`;
}
