/**
 * A verified bundle → graph weights. loadBundle reads and verifies the shards of the parts asked
 * for; weightRefs declares the bundle's tensors as ONNX external-data initializers (the shard file
 * as location, plus offset and length), so onnxruntime reads the weights straight from the shard
 * buffers passed as `externalData`, and names the float value of each kernel and bias:
 *
 *   fp32, whole:  the initializer itself
 *   int8, whole:  DequantizeLinear(kernel int8, kernel_scale float32 [rows], axis = 0), no zero
 *                 point input (ONNX's default zero point 0)
 *   split:        Concat(axis = 0) of the pieces, each dequantized with its own scales when int8
 */
import type { GraphBuilder } from '../onnx/builder';
import { dequantize } from '../quant/int8';
import type { WeightRef } from '../vgg16/graph';
import type { VggWeights } from '../vgg16/spec';
import { kernelDims, layers } from '../vgg16/spec';
import { assertLittleEndian } from './build';
import { BundleFormatError } from './errors';
import type { BundleManifest, BundleStore, PartName, ShardInfo, TensorEntry } from './manifest';
import { parseManifest, verifyShard, verifyTensorValues } from './verify';

export interface LoadedBundle {
  manifest: BundleManifest;
  /** Shard file name → verified bytes, for every shard of the parts asked for. */
  files: Map<string, Uint8Array>;
}

/**
 * Shard bytes a store has just checked against the length and sha256 of its own stored manifest
 * (the PWA's IdbBundleStore verifies every read, so that it can drop a corrupt shard and mark the
 * model incomplete). Keyed by the very Uint8Array the store returns (a fresh one per read), valued
 * by the sha256 it matched: the reader hashes those bytes again only when its manifest names another
 * hash or length. A mark is used once.
 */
const verifiedReads = new WeakMap<Uint8Array, string>();

/** A store's word that `bytes` (just read, not shared) has the sha256 `sha256`: see verifiedReads. */
export function markVerified(bytes: Uint8Array, sha256: string): void {
  verifiedReads.set(bytes, sha256);
}

function takeMark(bytes: Uint8Array, shard: ShardInfo): boolean {
  const sha = verifiedReads.get(bytes);
  verifiedReads.delete(bytes);
  return sha === shard.sha256 && bytes.length === shard.bytes;
}

/**
 * Read shards of model `id` (its parsed manifest) from the store, each verified (length, sha256)
 * before it is returned: by the store itself when it marks what it verified, else here.
 */
export async function readShards(
  store: BundleStore,
  id: string,
  manifest: BundleManifest,
  files: Iterable<string>,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const file of files) {
    if (out.has(file)) continue;
    const shard = manifest.parts.flatMap((p) => p.shards).find((s) => s.file === file);
    if (!shard) throw new BundleFormatError(`model '${id}' has no shard '${file}' in its manifest`);
    const bytes = await store.shard(id, file);
    if (!takeMark(bytes, shard)) await verifyShard(shard, bytes);
    out.set(file, bytes);
  }
  return out;
}

/** Read the manifest and every shard of `parts` from the store, verifying each shard before it is used. */
export async function loadBundle(store: BundleStore, id: string, parts: readonly PartName[]): Promise<LoadedBundle> {
  const manifest = parseManifest(await store.manifest(id));
  const shards: string[] = [];
  for (const name of new Set(parts)) {
    const part = manifest.parts.find((p) => p.name === name);
    if (!part) {
      throw new BundleFormatError(
        `model '${id}' has no part '${name}' (it has ${manifest.parts.map((p) => p.name).join(', ')}): build or download a bundle that includes it`,
      );
    }
    shards.push(...part.shards.map((s) => s.file));
  }
  const files = await readShards(store, id, manifest, shards);
  verifyTensorValues(manifest, files, parts);
  return { manifest, files };
}

/** (layer, role) → its entries, pieces in order. */
function groupTensors(manifest: BundleManifest, parts: readonly PartName[]): Map<string, TensorEntry[]> {
  const groups = new Map<string, TensorEntry[]>();
  for (const t of manifest.tensors) {
    if (!parts.includes(t.part)) continue;
    const key = `${t.layer}/${t.role}`;
    const g = groups.get(key);
    if (g) g.push(t);
    else groups.set(key, [t]);
  }
  for (const g of groups.values()) g.sort((a, b) => (a.piece?.index ?? 0) - (b.piece?.index ?? 0));
  return groups;
}

/**
 * Declare the tensors of `parts` in the builder as external initializers and return the WeightRef
 * naming each layer's float kernel and bias. Declared on first use, once: a graph that never asks
 * for a layer gets none of its tensors. The caller passes the loaded files as the session's
 * `externalData` ({ path: shard file name, data: bytes }).
 */
export function weightRefs(
  b: GraphBuilder,
  manifest: BundleManifest,
  parts: readonly PartName[],
  files?: ReadonlyMap<string, Uint8Array>,
): WeightRef {
  const groups = groupTensors(manifest, parts);
  /** Float value → the stored piece (and int8 scale) it is made from. */
  const stored = new Map<string, { t: TensorEntry; scale?: TensorEntry }>();
  const int8 = manifest.quantization === 'int8';
  const declared = new Map<string, string>();
  const declare = (t: TensorEntry) =>
    b.initializer({
      name: t.name,
      dtype: t.dtype,
      dims: t.dims,
      external: { location: t.shard, offset: t.offset, length: t.length },
    });
  /** The float value of each stored piece of (layer, which), declared once. */
  const pieces = new Map<string, string[]>();
  const floatPieces = (layer: string, which: 'kernel' | 'bias'): string[] => {
    const key = `${layer}/${which}`;
    const known = pieces.get(key);
    if (known) return known;
    const entries = groups.get(key);
    if (!entries) {
      throw new BundleFormatError(
        `the graph needs ${key}, which the loaded parts (${parts.join(', ')}) of model '${manifest.id}' do not hold`,
      );
    }
    let values = entries.map(declare);
    const scaleEntries = which === 'kernel' && int8 ? groups.get(`${layer}/scale`)! : undefined;
    if (scaleEntries) {
      const scales = scaleEntries.map(declare);
      values = values.map((q, i) => b.dequantizeLinear(q, scales[i]!, undefined, 0, `${layer}/kernel_dq`));
    }
    values.forEach((v, i) => stored.set(v, { t: entries[i]!, scale: scaleEntries?.[i] }));
    pieces.set(key, values);
    return values;
  };
  const ref: WeightRef = (layer, which) => {
    const key = `${layer}/${which}`;
    const known = declared.get(key);
    if (known) return known;
    const values = floatPieces(layer, which);
    const value = values.length === 1 ? values[0]! : b.concat(values, 0);
    declared.set(key, value);
    return value;
  };
  ref.blocks = (layer) => floatPieces(layer, 'kernel');
  if (files) {
    ref.rowSums = (value, groups) => {
      const piece = stored.get(value);
      return piece && piece.t.dims.length === 2 ? rowSums(piece.t, piece.scale, groups, files) : undefined;
    };
  }
  return ref;
}

/**
 * Sums of `groups` equal runs of each row of a stored 2-D kernel, in float64, rounded once to
 * float32. int8: the exact integer sum times the row's scale (what summing the dequantized row
 * gives, less its per-element rounding).
 */
function rowSums(
  t: TensorEntry,
  scale: TensorEntry | undefined,
  groups: number,
  files: ReadonlyMap<string, Uint8Array>,
): Float32Array | undefined {
  const [rows, cols] = t.dims as [number, number];
  if (cols % groups !== 0) return undefined;
  const run = cols / groups;
  const file = files.get(t.shard);
  if (!file) return undefined;
  const bytes = file.subarray(t.offset, t.offset + t.length);
  const values =
    t.dtype === 'int8'
      ? new Int8Array(bytes.buffer, bytes.byteOffset, rows * cols)
      : bytes.byteOffset % 4 === 0
        ? new Float32Array(bytes.buffer, bytes.byteOffset, rows * cols)
        : new Float32Array(tensorBytes(t, files));
  const scales = scale ? new Float32Array(tensorBytes(scale, files)) : undefined;
  const out = new Float32Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    const s = scales ? scales[r]! : 1;
    for (let g = 0; g < groups; g++) {
      let sum = 0;
      const from = r * cols + g * run;
      for (let i = from; i < from + run; i++) sum += values[i]!;
      out[r * groups + g] = sum * s;
    }
  }
  return out;
}

/** A tensor's bytes, copied out of its shard (so typed views are aligned). */
function tensorBytes(t: TensorEntry, files: ReadonlyMap<string, Uint8Array>): ArrayBuffer {
  const file = files.get(t.shard);
  if (!file) throw new BundleFormatError(`shard ${t.shard} of tensor ${t.name} was not loaded`);
  if (t.offset + t.length > file.length)
    throw new BundleFormatError(`tensor ${t.name} runs past the end of shard ${t.shard}`);
  const copy = new Uint8Array(t.length);
  copy.set(file.subarray(t.offset, t.offset + t.length));
  return copy.buffer;
}

/**
 * The bundle's weights as floats in the internal layout (int8 kernels dequantized exactly as the
 * graph does), for export and tests. Reads the layers of `parts` (default: every part whose
 * shards are all in `files`).
 */
export function readWeights(
  manifest: BundleManifest,
  files: ReadonlyMap<string, Uint8Array>,
  parts?: readonly PartName[],
  /** Only these layers (default: every layer the parts hold). */
  only?: ReadonlySet<string>,
): VggWeights {
  assertLittleEndian();
  const use = parts ?? manifest.parts.filter((p) => p.shards.every((s) => files.has(s.file))).map((p) => p.name);
  const groups = groupTensors(manifest, use);
  const int8 = manifest.quantization === 'int8';
  const w: VggWeights = new Map();
  for (const l of layers(manifest.architecture)) {
    if (l.kind === 'pool' || !groups.has(`${l.name}/kernel`) || (only && !only.has(l.name))) continue;
    const dims = kernelDims(l);
    const rowElems = dims.slice(1).reduce((a, b) => a * b, 1);
    const kernel = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const kernels = groups.get(`${l.name}/kernel`)!;
    const scales = groups.get(`${l.name}/scale`);
    kernels.forEach((t, i) => {
      const at = (t.piece?.start ?? 0) * rowElems;
      if (!int8) kernel.set(new Float32Array(tensorBytes(t, files)), at);
      else
        kernel.set(
          dequantize(new Int8Array(tensorBytes(t, files)), new Float32Array(tensorBytes(scales![i]!, files)), t.dims),
          at,
        );
    });
    const bias = new Float32Array(dims[0]!);
    for (const t of groups.get(`${l.name}/bias`) ?? [])
      bias.set(new Float32Array(tensorBytes(t, files)), t.piece?.start ?? 0);
    w.set(l.name, { kernel, bias });
  }
  return w;
}
