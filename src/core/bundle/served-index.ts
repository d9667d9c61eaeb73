/**
 * `models/index.json`: the bundles a server publishes, so the app can list them for download. Written by
 * `npm start` (and `writeModelIndex` for any static host); read by the library's listServedModels.
 *
 *   { "format": "convlens-models", "version": 1,
 *     "models": [{ "id", "path": "<folder>/", "source", "pretrained", "quantization", "parts": [{ "name", "bytes" }] }] }
 */
import type { BundleManifest, PartName, Quantization } from './manifest';

export const MODEL_INDEX_FORMAT = 'convlens-models';
export const MODEL_INDEX_FILE = 'index.json';

export interface ModelIndexEntry {
  id: string;
  /** The bundle's folder relative to the index, ending in '/'. */
  path: string;
  source: string;
  pretrained: boolean;
  quantization: Quantization;
  parts: { name: PartName; bytes: number }[];
}

export interface ModelIndex {
  format: typeof MODEL_INDEX_FORMAT;
  version: 1;
  models: ModelIndexEntry[];
}

/** The index of bundles found in folders (folder name → its manifest), sorted by id. */
export function modelIndex(bundles: { folder: string; manifest: BundleManifest }[]): ModelIndex {
  const models = bundles
    .map(({ folder, manifest: m }) => ({
      id: m.id,
      path: `${encodeURIComponent(folder)}/`,
      source: m.source,
      pretrained: m.pretrained,
      quantization: m.quantization,
      parts: m.parts.map((p) => ({ name: p.name, bytes: p.bytes })),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { format: MODEL_INDEX_FORMAT, version: 1, models };
}

const PARTS: readonly string[] = ['base', 'imagenet-head'];
/** One folder name (percent-encoded) and a slash: an index never points outside its folder. */
const SAFE_PATH = /^[A-Za-z0-9%][A-Za-z0-9._%-]*\/$/;

/** The well-formed entries of an index (folders inside the index's own folder); anything else is skipped. */
export function parseModelIndex(json: unknown): ModelIndexEntry[] {
  const index = json as Partial<ModelIndex> | null;
  if (!index || index.format !== MODEL_INDEX_FORMAT || !Array.isArray(index.models)) return [];
  const out: ModelIndexEntry[] = [];
  for (const e of index.models as Partial<ModelIndexEntry>[]) {
    if (!e || typeof e.id !== 'string' || typeof e.path !== 'string' || !SAFE_PATH.test(e.path)) continue;
    if (!Array.isArray(e.parts) || e.parts.some((p) => !PARTS.includes(p?.name) || !(p.bytes >= 0))) continue;
    out.push({
      id: e.id,
      path: e.path,
      source: String(e.source),
      pretrained: e.pretrained === true,
      quantization: e.quantization === 'fp32' ? 'fp32' : 'int8',
      parts: e.parts.map((p) => ({ name: p.name, bytes: p.bytes })),
    });
  }
  return out;
}
