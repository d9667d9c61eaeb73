/**
 * The Inside screen is this `insight` feature; this is its slice of the app state: the activation
 * explorer, the filter gallery and the CAM panel with its deletion curve. Pure; the app reducer
 * delegates 'insight/*' actions here. Results (activation maps, filter pictures, heatmaps) are kept as the worker transferred them; nothing is copied.
 */
import type { AppError } from '../errors';
import type {
  ActivationMaps,
  CamMethod,
  DeletionResult,
  Explanation,
  FilterSettings,
  InsightLayer,
  RgbaFrame,
} from '../../../workers/engine/protocol';

export type InsightTab = 'explorer' | 'filters' | 'cam';
export type MapNormalisation = 'map' | 'layer';
/** Channel tiles per page of the explorer. */
export const PAGE_SIZE = 64;
/** The most filters the gallery computes at once. */
export const MAX_FILTERS = 64;

/** What the gallery lets the user change; the rest of FilterSettings keeps the engine's defaults. */
export type GallerySettings = Pick<FilterSettings, 'steps' | 'jitter' | 'tv'>;

export interface FilterTile {
  filter: number;
  image: { width: number; height: number; data: Uint8ClampedArray };
  /** Read from IndexedDB instead of computed. */
  cached: boolean;
}

export interface ExplorerState {
  layer?: string;
  norm: MapNormalisation;
  page: number;
  /** The enlarged channel, if any. */
  enlarged?: number;
  /** Re-run on every new frame, one request in flight. */
  follow: boolean;
  busy: boolean;
  maps?: ActivationMaps;
  /** Milliseconds of the last run (grab to result). */
  ms?: number;
  /** Results shown so far (follow mode counts up). */
  runs: number;
  error?: AppError;
}

export interface GalleryState {
  layer?: string;
  count: number;
  settings: GallerySettings;
  status: 'idle' | 'running' | 'cancelling' | 'done' | 'cancelled' | 'failed';
  /** Ascent steps done / to do in this run (the progress bar). */
  done: number;
  total: number;
  tiles: FilterTile[];
  /** The (layer, count, settings) the tiles were made for. */
  shown?: string;
  error?: AppError;
}

export interface CamState {
  method: CamMethod;
  layer?: string;
  busy: boolean;
  /** The still the heatmap explains (centre square). */
  frame?: RgbaFrame;
  explanation?: Explanation;
  error?: AppError;
  deletion: { status: 'idle' | 'running' | 'done' | 'failed'; result?: DeletionResult; error?: AppError };
}

export interface InsightUiState {
  tab: InsightTab;
  /** Conv and pool layers of the loaded model, and that model's id. */
  layers: InsightLayer[];
  modelId?: string;
  explorer: ExplorerState;
  gallery: GalleryState;
  cam: CamState;
}

export type InsightAction =
  | { type: 'insight/layers'; modelId: string; layers: InsightLayer[] }
  | { type: 'insight/tab'; tab: InsightTab }
  | { type: 'insight/explorer-layer'; layer: string }
  | { type: 'insight/norm'; norm: MapNormalisation }
  | { type: 'insight/page'; page: number }
  | { type: 'insight/enlarge'; channel?: number }
  | { type: 'insight/follow'; follow: boolean }
  | { type: 'insight/activations-start' }
  | { type: 'insight/activations'; maps: ActivationMaps; ms: number }
  | { type: 'insight/activations-failed'; error: AppError }
  | { type: 'insight/gallery-layer'; layer: string }
  | { type: 'insight/gallery-count'; count: number }
  | { type: 'insight/gallery-settings'; settings: Partial<GallerySettings> }
  | { type: 'insight/gallery-start'; key: string; cached: FilterTile[]; total: number }
  | { type: 'insight/gallery-progress'; done: number }
  | { type: 'insight/gallery-tiles'; tiles: FilterTile[] }
  | { type: 'insight/gallery-cancel' }
  | { type: 'insight/gallery-end'; error?: AppError }
  | { type: 'insight/cam-method'; method: CamMethod }
  | { type: 'insight/cam-layer'; layer: string }
  | { type: 'insight/explain-start' }
  | { type: 'insight/explained'; frame: RgbaFrame; explanation: Explanation }
  | { type: 'insight/explain-failed'; error: AppError }
  | { type: 'insight/deletion-start' }
  | { type: 'insight/deletion'; result: DeletionResult }
  | { type: 'insight/deletion-failed'; error: AppError };

/** The settings the gallery starts with: the engine's defaults (DEFAULT_FILTER_SETTINGS). */
export const DEFAULT_GALLERY: GallerySettings = { steps: 40, jitter: 4, tv: 0.6 };

export function initialInsightState(): InsightUiState {
  return {
    tab: 'explorer',
    layers: [],
    explorer: { norm: 'map', page: 0, follow: false, busy: false, runs: 0 },
    gallery: { count: 16, settings: DEFAULT_GALLERY, status: 'idle', done: 0, total: 0, tiles: [] },
    cam: { method: 'gradcam', busy: false, deletion: { status: 'idle' } },
  };
}

/** The identity of a gallery request: changing any part shows different pictures. */
export function galleryKey(g: Pick<GalleryState, 'layer' | 'count' | 'settings'>): string {
  return [g.layer, g.count, g.settings.steps, g.settings.jitter, g.settings.tv].join('|');
}

/** The channel count of the explorer's current maps (0 without maps). */
export function channelCount(e: ExplorerState): number {
  return e.maps?.dims[0] ?? 0;
}

export function pageCount(e: ExplorerState): number {
  return Math.max(1, Math.ceil(channelCount(e) / PAGE_SIZE));
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

/** Defaults per model: explorer and gallery on the first conv layer, CAM on the last conv (the seed's recipe). */
function layerDefaults(layers: InsightLayer[]) {
  const convs = layers.filter((l) => l.kind === 'conv');
  return { first: convs[0]?.name, last: convs.at(-1)?.name };
}

const hasLayer = (s: InsightUiState, name: string) => s.layers.some((l) => l.name === name);

function explorer(s: InsightUiState, e: Partial<ExplorerState>): InsightUiState {
  return { ...s, explorer: { ...s.explorer, ...e } };
}
function gallery(s: InsightUiState, g: Partial<GalleryState>): InsightUiState {
  return { ...s, gallery: { ...s.gallery, ...g } };
}
function cam(s: InsightUiState, c: Partial<CamState>): InsightUiState {
  return { ...s, cam: { ...s.cam, ...c } };
}
const running = (g: GalleryState) => g.status === 'running' || g.status === 'cancelling';

type GalleryAction = Extract<InsightAction, { type: `insight/gallery-${string}` }>;
type CamAction = Extract<InsightAction, { type: `insight/${'cam-' | 'explain' | 'deletion'}${string}` }>;
const isGallery = (a: InsightAction): a is GalleryAction => a.type.startsWith('insight/gallery-');
const isCam = (a: InsightAction): a is CamAction => /^insight\/(cam-|explain|deletion)/.test(a.type);

export function insightReducer(state: InsightUiState, action: InsightAction): InsightUiState {
  if (isGallery(action)) return galleryReducer(state, action);
  if (isCam(action)) return camReducer(state, action);
  switch (action.type) {
    case 'insight/layers': {
      if (state.modelId === action.modelId) return state;
      // A different model: its layers, fresh results (old maps and pictures belong to other weights).
      const fresh = initialInsightState();
      const { first, last } = layerDefaults(action.layers);
      return {
        ...fresh,
        tab: state.tab,
        modelId: action.modelId,
        layers: action.layers,
        explorer: { ...fresh.explorer, norm: state.explorer.norm, layer: first },
        gallery: { ...fresh.gallery, count: state.gallery.count, settings: state.gallery.settings, layer: first },
        cam: { ...fresh.cam, method: state.cam.method, layer: last },
      };
    }
    case 'insight/tab':
      return state.tab === action.tab ? state : { ...state, tab: action.tab };
    default:
      return explorerReducer(state, action);
  }
}

/** The activation explorer: layer, normalisation, page, enlarged map, follow mode and its maps. */
function explorerReducer(
  state: InsightUiState,
  action: Exclude<InsightAction, GalleryAction | CamAction | { type: 'insight/layers' | 'insight/tab' }>,
): InsightUiState {
  switch (action.type) {
    case 'insight/explorer-layer':
      if (!hasLayer(state, action.layer) || state.explorer.layer === action.layer) return state;
      return explorer(state, { layer: action.layer, page: 0, enlarged: undefined, maps: undefined, error: undefined });
    case 'insight/norm':
      return state.explorer.norm === action.norm ? state : explorer(state, { norm: action.norm });
    case 'insight/page': {
      const page = clamp(Math.floor(action.page), 0, pageCount(state.explorer) - 1);
      return page === state.explorer.page ? state : explorer(state, { page });
    }
    case 'insight/enlarge': {
      const c = action.channel;
      if (c !== undefined && !(c >= 0 && c < channelCount(state.explorer))) return state;
      return explorer(state, { enlarged: c });
    }
    case 'insight/follow':
      return state.explorer.follow === action.follow ? state : explorer(state, { follow: action.follow });
    case 'insight/activations-start':
      return explorer(state, { busy: true, error: undefined });
    case 'insight/activations': {
      if (action.maps.layer !== state.explorer.layer) return explorer(state, { busy: false }); // layer changed meanwhile
      const channels = action.maps.dims[0] ?? 0;
      const e = state.explorer;
      return explorer(state, {
        busy: false,
        maps: action.maps,
        ms: action.ms,
        runs: e.runs + 1,
        page: clamp(e.page, 0, Math.max(0, Math.ceil(channels / PAGE_SIZE) - 1)),
        enlarged: e.enlarged !== undefined && e.enlarged < channels ? e.enlarged : undefined,
      });
    }
    case 'insight/activations-failed':
      return explorer(state, { busy: false, follow: false, error: action.error });
  }
}

/** The filter gallery: layer, count and settings, and a run's tiles and progress. */
function galleryReducer(state: InsightUiState, action: GalleryAction): InsightUiState {
  switch (action.type) {
    case 'insight/gallery-layer':
      if (running(state.gallery) || !hasLayer(state, action.layer)) return state;
      return gallery(state, { layer: action.layer });
    case 'insight/gallery-count': {
      const count = clamp(Math.round(action.count), 1, MAX_FILTERS);
      return running(state.gallery) || !Number.isFinite(count) ? state : gallery(state, { count });
    }
    case 'insight/gallery-settings': {
      if (running(state.gallery)) return state;
      const s = { ...state.gallery.settings, ...action.settings };
      const settings: GallerySettings = {
        steps: clamp(Math.round(s.steps), 1, 400),
        jitter: clamp(Math.round(s.jitter), 0, 16),
        tv: clamp(s.tv, 0, 4),
      };
      if (Object.values(settings).some((v) => !Number.isFinite(v))) return state;
      return gallery(state, { settings });
    }
    case 'insight/gallery-start':
      if (running(state.gallery)) return state;
      return gallery(state, {
        status: 'running',
        shown: action.key,
        tiles: action.cached,
        done: 0,
        total: action.total,
        error: undefined,
      });
    case 'insight/gallery-progress':
      if (!running(state.gallery)) return state;
      return gallery(state, { done: clamp(action.done, 0, state.gallery.total) });
    case 'insight/gallery-tiles': {
      if (!running(state.gallery)) return state;
      const fresh = new Set(action.tiles.map((t) => t.filter));
      const tiles = [...state.gallery.tiles.filter((t) => !fresh.has(t.filter)), ...action.tiles];
      return gallery(state, { tiles: tiles.sort((a, b) => a.filter - b.filter) });
    }
    case 'insight/gallery-cancel':
      return state.gallery.status === 'running' ? gallery(state, { status: 'cancelling' }) : state;
    case 'insight/gallery-end': {
      if (!running(state.gallery)) return state;
      if (action.error) return gallery(state, { status: 'failed', error: action.error });
      const status = state.gallery.status === 'cancelling' ? 'cancelled' : 'done';
      return gallery(state, { status, done: status === 'done' ? state.gallery.total : state.gallery.done });
    }
  }
}

/** The CAM panel: method, layer, the explanation and its deletion curve. */
function camReducer(state: InsightUiState, action: CamAction): InsightUiState {
  switch (action.type) {
    case 'insight/cam-method':
      return state.cam.method === action.method ? state : cam(state, { method: action.method });
    case 'insight/cam-layer':
      if (!hasLayer(state, action.layer) || state.cam.layer === action.layer) return state;
      return cam(state, { layer: action.layer });
    case 'insight/explain-start':
      return cam(state, { busy: true, error: undefined });
    case 'insight/explained':
      return cam(state, {
        busy: false,
        frame: action.frame,
        explanation: action.explanation,
        deletion: { status: 'idle' }, // a curve belongs to the heatmap it scored
      });
    case 'insight/explain-failed':
      return cam(state, { busy: false, error: action.error });
    case 'insight/deletion-start':
      if (state.cam.deletion.status === 'running') return state;
      return cam(state, { deletion: { status: 'running' } });
    case 'insight/deletion':
      if (state.cam.deletion.status !== 'running') return state;
      return cam(state, {
        deletion: { status: 'done', result: action.result },
        frame: state.cam.frame,
        explanation: action.result.explanation,
      });
    case 'insight/deletion-failed':
      if (state.cam.deletion.status !== 'running') return state;
      return cam(state, { deletion: { status: 'failed', error: action.error } });
  }
}
