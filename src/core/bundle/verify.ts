/**
 * Trust nothing from a store: parseManifest checks a manifest's schema strictly (a hostile or
 * damaged file is rejected before any size it states is believed), verifyShard checks each shard's
 * length and sha256, verifyTensorValues the few values that would poison the graph (scales, biases).
 */
import type { VggConfig } from '../vgg16/spec';
import { kernelDims, layers, partOf } from '../vgg16/spec';
import { BundleFormatError, ShardHashError, ShardLengthError } from './errors';
import type { BundleManifest, PartInfo, PartName, ShardInfo, TensorEntry, TensorPiece } from './manifest';
import {
  BUNDLE_FORMAT,
  BUNDLE_VERSION,
  MAX_MODEL_ELEMENTS,
  MAX_SHARDS,
  MAX_SHARD_BYTES,
  MAX_TENSORS,
  SHARD_ALIGN,
} from './manifest';
import { PART_NAMES, tensorName } from './plan';
import { sha256Hex } from './sha256';

const ADVICE = 'the file is damaged or was not written by convlens: delete the model and download (or build) it again';

function fail(path: string, what: string): never {
  throw new BundleFormatError(`manifest.json: ${path} ${what}; ${ADVICE}`);
}

/** A short, printable rendering of a hostile value for messages. */
function show(v: unknown): string {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

type Obj = Record<string, unknown>;

function obj(v: unknown, path: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(path, `is ${show(v)}, not an object`);
  return v as Obj;
}

function arr(v: unknown, path: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) fail(path, `is ${show(v)}, not an array`);
  if (v.length < min || v.length > max)
    fail(path, `has ${v.length} items, not ${min === max ? min : `${min} to ${max}`}`);
  return v;
}

function str(v: unknown, path: string, max = 200): string {
  if (typeof v !== 'string') fail(path, `is ${show(v)}, not a string`);
  if (v.length > max) fail(path, `is longer than ${max} characters`);
  return v;
}

function int(v: unknown, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(path, `is ${show(v)}, not an integer`);
  if (v < min || v > max) fail(path, `is ${v}, outside ${min} to ${max}`);
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, options: readonly T[]): T {
  if (!options.includes(v as T)) fail(path, `is ${show(v)}, not one of ${options.join(', ')}`);
  return v as T;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `is ${show(v)}, not true or false`);
  return v;
}

/** Names that become paths: no separators, no control characters, not '.' or '..'. */
function safeId(v: unknown, path: string): string {
  const s = str(v, path);
  const bad =
    s === '' ||
    s === '.' ||
    s === '..' ||
    [...s].some((c) => c === '/' || c === '\\' || c.charCodeAt(0) < 0x20 || c === '\u007f');
  if (bad) fail(path, `${show(s)} is not a usable name`);
  return s;
}

const SHARD_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const SHA256 = /^[0-9a-f]{64}$/;

function parseArchitecture(v: unknown): VggConfig {
  const a = obj(v, 'architecture');
  const name = str(a.name, 'architecture.name', 100);
  const blocks = arr(a.blocks, 'architecture.blocks', 1, 8).map((b, i) =>
    arr(b, `architecture.blocks[${i}]`, 1, 8).map((w, j) => int(w, `architecture.blocks[${i}][${j}]`, 1, 65536)),
  );
  const fc = arr(a.fc, 'architecture.fc', 0, 8).map((w, i) => int(w, `architecture.fc[${i}]`, 1, 65536));
  const classes = int(a.classes, 'architecture.classes', 1, 100_000);
  const inputSize = int(a.inputSize, 'architecture.inputSize', 1, 8192);
  if (inputSize % 2 ** blocks.length !== 0)
    fail('architecture.inputSize', `${inputSize} does not halve ${blocks.length} times`);
  const cfg: VggConfig = { name, blocks, fc, classes, inputSize };
  let elements = 0;
  for (const l of layers(cfg)) {
    if (l.kind === 'pool') continue;
    const k = kernelDims(l);
    elements += k.reduce((p, q) => p * q, 1) + k[0]!;
  }
  if (elements > MAX_MODEL_ELEMENTS)
    fail('architecture', `has ${elements} parameters, more than the ${MAX_MODEL_ELEMENTS} allowed`);
  return cfg;
}

function parseParts(v: unknown): PartInfo[] {
  const files = new Set<string>();
  const parts = arr(v, 'parts', 1, PART_NAMES.length).map((pv, i): PartInfo => {
    const p = obj(pv, `parts[${i}]`);
    const name = oneOf(p.name, `parts[${i}].name`, PART_NAMES);
    const shards = arr(p.shards, `parts[${i}].shards`, 1, MAX_SHARDS).map((sv, j): ShardInfo => {
      const at = `parts[${i}].shards[${j}]`;
      const s = obj(sv, at);
      const file = str(s.file, `${at}.file`);
      if (!SHARD_FILE.test(file)) fail(`${at}.file`, `${show(file)} is not a plain file name`);
      if (files.has(file)) fail(`${at}.file`, `${file} is listed twice`);
      files.add(file);
      const bytes = int(s.bytes, `${at}.bytes`, 0, MAX_SHARD_BYTES);
      const sha256 = str(s.sha256, `${at}.sha256`);
      if (!SHA256.test(sha256)) fail(`${at}.sha256`, `${show(sha256)} is not a lower-case hex sha256`);
      return { file, bytes, sha256 };
    });
    const bytes = int(p.bytes, `parts[${i}].bytes`, 0, Number.MAX_SAFE_INTEGER);
    const sum = shards.reduce((a, s) => a + s.bytes, 0);
    if (bytes !== sum) fail(`parts[${i}].bytes`, `is ${bytes}, its shards add up to ${sum}`);
    return { name, bytes, shards };
  });
  if (files.size > MAX_SHARDS) fail('parts', `list ${files.size} shards, more than ${MAX_SHARDS}`);
  const names = parts.map((p) => p.name);
  if (new Set(names).size !== names.length) fail('parts', `list a part twice (${names.join(', ')})`);
  if (!names.includes('base')) fail('parts', 'lack the base part');
  return parts;
}

function parseTensor(v: unknown, i: number, shards: Map<string, { part: PartName; bytes: number }>): TensorEntry {
  const at = `tensors[${i}]`;
  const t = obj(v, at);
  const name = str(t.name, `${at}.name`);
  const layer = str(t.layer, `${at}.layer`, 100);
  const role = oneOf(t.role, `${at}.role`, ['kernel', 'bias', 'scale'] as const);
  const dtype = oneOf(t.dtype, `${at}.dtype`, ['float32', 'int8'] as const);
  const dims = arr(t.dims, `${at}.dims`, 1, 4).map((d, j) => int(d, `${at}.dims[${j}]`, 1, MAX_MODEL_ELEMENTS));
  const part = oneOf(t.part, `${at}.part`, PART_NAMES);
  const shard = str(t.shard, `${at}.shard`);
  const offset = int(t.offset, `${at}.offset`, 0, MAX_SHARD_BYTES);
  const length = int(t.length, `${at}.length`, 0, MAX_SHARD_BYTES);
  let piece: TensorPiece | undefined;
  if (t.piece !== undefined) {
    const p = obj(t.piece, `${at}.piece`);
    piece = {
      index: int(p.index, `${at}.piece.index`, 0, MAX_TENSORS),
      count: int(p.count, `${at}.piece.count`, 1, MAX_TENSORS),
      start: int(p.start, `${at}.piece.start`, 0, MAX_MODEL_ELEMENTS),
    };
  }
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel > MAX_MODEL_ELEMENTS)
    fail(`${at}.dims`, `[${dims.join(', ')}] hold ${numel} elements, more than ${MAX_MODEL_ELEMENTS}`);
  const expected = numel * (dtype === 'int8' ? 1 : 4);
  if (length !== expected)
    fail(`${at}.length`, `is ${length}, but ${dtype} [${dims.join(', ')}] takes ${expected} bytes`);
  const s = shards.get(shard);
  if (!s) fail(`${at}.shard`, `${show(shard)} is not a shard of the bundle`);
  if (s.part !== part) fail(`${at}.shard`, `${shard} belongs to part ${s.part}, not ${part}`);
  if (offset % SHARD_ALIGN !== 0) fail(`${at}.offset`, `${offset} is not a multiple of ${SHARD_ALIGN}`);
  if (offset + length > s.bytes)
    fail(`${at}.offset`, `${offset} + length ${length} runs past the end of ${shard} (${s.bytes} bytes)`);
  return { name, layer, role, dtype, dims, part, shard, offset, length, ...(piece ? { piece } : {}) };
}

/**
 * The tensors must be exactly those the architecture needs for the parts listed, each whole or as
 * complete row blocks, int8 scales split like their kernels.
 */
function checkTensorSet(
  cfg: VggConfig,
  quantization: BundleManifest['quantization'],
  parts: PartInfo[],
  tensors: TensorEntry[],
): void {
  const groups = new Map<string, TensorEntry[]>();
  for (const t of tensors) {
    const key = `${t.layer}\u0000${t.role}`;
    const g = groups.get(key);
    if (g) g.push(t);
    else groups.set(key, [t]);
  }
  const present = new Set(parts.map((p) => p.name));
  const roles: TensorEntry['role'][] = quantization === 'int8' ? ['kernel', 'scale', 'bias'] : ['kernel', 'bias'];
  const expected = new Set<string>();
  for (const l of layers(cfg)) {
    if (l.kind === 'pool' || !present.has(partOf(l))) continue;
    const kd = kernelDims(l);
    let kernelBlocks = '';
    for (const role of roles) {
      const key = `${l.name}\u0000${role}`;
      expected.add(key);
      const full = role === 'kernel' ? kd : [kd[0]!];
      const dtype = role === 'kernel' && quantization === 'int8' ? 'int8' : 'float32';
      const what = tensorName(l.name, role);
      const g = groups.get(key);
      if (!g) fail('tensors', `lack ${what}`);
      for (const t of g) {
        if (t.dtype !== dtype)
          fail('tensors', `hold ${t.name} as ${t.dtype}, a ${quantization} bundle stores it as ${dtype}`);
        if (t.part !== partOf(l)) fail('tensors', `put ${t.name} in part ${t.part}, not ${partOf(l)}`);
        if (t.dims.length !== full.length || t.dims.some((d, j) => j > 0 && d !== full[j])) {
          fail('tensors', `give ${t.name} dims [${t.dims.join(', ')}], the architecture needs [${full.join(', ')}]`);
        }
      }
      const blocks: string[] = [];
      if (g.length === 1 && !g[0]!.piece) {
        const t = g[0]!;
        if (t.name !== what) fail('tensors', `name ${show(t.name)} where ${what} belongs`);
        if (t.dims[0] !== full[0])
          fail('tensors', `give ${t.name} ${t.dims[0]} rows, the architecture needs ${full[0]}`);
      } else {
        const sorted = [...g].sort((a, b) => (a.piece?.index ?? -1) - (b.piece?.index ?? -1));
        let row = 0;
        sorted.forEach((t, i) => {
          if (!t.piece || t.piece.index !== i || t.piece.count !== g.length)
            fail('tensors', `split ${what} into inconsistent pieces`);
          if (t.name !== tensorName(l.name, role, i))
            fail('tensors', `name ${show(t.name)} where ${tensorName(l.name, role, i)} belongs`);
          if (t.piece.start !== row) fail('tensors', `start ${t.name} at row ${t.piece.start}, not ${row}`);
          row += t.dims[0]!;
          blocks.push(`${t.piece.start}+${t.dims[0]}`);
        });
        if (row !== full[0]) fail('tensors', `give ${what} ${row} rows in all, the architecture needs ${full[0]}`);
      }
      if (role === 'kernel') kernelBlocks = blocks.join();
      if (role === 'scale' && blocks.join() !== kernelBlocks)
        fail('tensors', `split ${what} differently from ${tensorName(l.name, 'kernel')}`);
    }
  }
  for (const [key, g] of groups)
    if (!expected.has(key)) fail('tensors', `hold ${g[0]!.name}, which the architecture and parts do not use`);
}

/** Validate a parsed manifest.json strictly; returns a clean copy holding only the known fields. */
export function parseManifest(json: unknown): BundleManifest {
  const m = obj(json, 'the manifest');
  if (m.format !== BUNDLE_FORMAT) {
    throw new BundleFormatError(
      `manifest.json is not a convlens bundle manifest (format ${show(m.format)}); ${ADVICE}`,
    );
  }
  if (m.version !== BUNDLE_VERSION) {
    if (typeof m.version === 'number' && m.version > BUNDLE_VERSION) {
      throw new BundleFormatError(
        `manifest.json is bundle version ${m.version}, this convlens reads version ${BUNDLE_VERSION}: update convlens, or build the model again with this one`,
      );
    }
    fail('version', `is ${show(m.version)}, not ${BUNDLE_VERSION}`);
  }
  const id = safeId(m.id, 'id');
  const architecture = parseArchitecture(m.architecture);
  const source = oneOf(m.source, 'source', ['demo', 'keras-h5', 'onnx-zoo', 'safetensors'] as const);
  const pretrained = bool(m.pretrained, 'pretrained');
  const seed = m.seed === undefined ? undefined : int(m.seed, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const preprocessing = oneOf(m.preprocessing, 'preprocessing', ['caffe', 'torch'] as const);
  const labels =
    m.labels === 'imagenet'
      ? 'imagenet'
      : arr(m.labels, 'labels', architecture.classes, architecture.classes).map((s, i) => str(s, `labels[${i}]`, 1000));
  const quantization = oneOf(m.quantization, 'quantization', ['int8', 'fp32'] as const);
  const parts = parseParts(m.parts);
  const shards = new Map<string, { part: PartName; bytes: number }>();
  for (const p of parts) for (const s of p.shards) shards.set(s.file, { part: p.name, bytes: s.bytes });
  const tensors = arr(m.tensors, 'tensors', 1, MAX_TENSORS).map((t, i) => parseTensor(t, i, shards));
  const names = new Set<string>();
  for (const t of tensors) {
    if (names.has(t.name)) fail('tensors', `list ${t.name} twice`);
    names.add(t.name);
  }
  checkTensorSet(architecture, quantization, parts, tensors);
  // No two tensors share bytes, and every shard holds something.
  const byShard = new Map<string, TensorEntry[]>();
  for (const t of tensors) {
    const list = byShard.get(t.shard);
    if (list) list.push(t);
    else byShard.set(t.shard, [t]);
  }
  for (const [file] of shards) {
    const list = (byShard.get(file) ?? []).sort((a, b) => a.offset - b.offset);
    if (!list.length) fail('parts', `list shard ${file}, which holds no tensor`);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      if (list[i]!.offset < prev.offset + prev.length)
        fail('tensors', `${prev.name} and ${list[i]!.name} overlap in ${file}`);
    }
  }
  const created = str(m.created, 'created', 100);
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    id,
    architecture,
    source,
    pretrained,
    ...(seed === undefined ? {} : { seed }),
    preprocessing,
    labels,
    quantization,
    parts,
    tensors,
    created,
  };
}

/** Whether bytes look like a web page (a server's error or login page served in place of a file). */
function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 512)).trimStart().toLowerCase();
  return (
    head.startsWith('<!doctype html') ||
    head.startsWith('<html') ||
    head.startsWith('<?xml') ||
    head.startsWith('<head')
  );
}

const HTML_ADVICE =
  'it is a web page, not model data: the server answered with a page (a wrong URL, a login or an error page) instead of the file; check the model URL, delete the model and download it again';

/** Check a shard's bytes against the manifest: length first (cheap, and names a cut-short download), then sha256. */
export async function verifyShard(info: ShardInfo, bytes: Uint8Array): Promise<void> {
  if (bytes.length !== info.bytes) {
    const why = looksLikeHtml(bytes)
      ? HTML_ADVICE
      : bytes.length < info.bytes
        ? 'the download was cut short; delete the model and download it again'
        : 'it is not the file the manifest describes; delete the model and download it again';
    throw new ShardLengthError(
      info.file,
      info.bytes,
      bytes.length,
      `shard ${info.file} is ${bytes.length} bytes, the manifest says ${info.bytes}: ${why}`,
    );
  }
  const actual = await sha256Hex(bytes);
  if (actual !== info.sha256) {
    const why = looksLikeHtml(bytes)
      ? HTML_ADVICE
      : 'its bytes are corrupt or were altered; delete the model and download (or build) it again';
    throw new ShardHashError(
      info.file,
      info.sha256,
      actual,
      `shard ${info.file} has sha256 ${actual}, the manifest says ${info.sha256}: ${why}`,
    );
  }
}

/**
 * Check the values that would silently poison every output: int8 scales must be finite and > 0,
 * biases finite. (Shards are already hash-verified; this guards a consistent but hostile bundle.)
 */
export function verifyTensorValues(
  manifest: BundleManifest,
  files: ReadonlyMap<string, Uint8Array>,
  parts?: readonly PartName[],
): void {
  for (const t of manifest.tensors) {
    if (t.role === 'kernel' || (parts && !parts.includes(t.part))) continue;
    const file = files.get(t.shard);
    if (!file) continue;
    if (t.offset + t.length > file.length)
      throw new BundleFormatError(`tensor ${t.name} runs past the end of shard ${t.shard}; ${ADVICE}`);
    const view = new DataView(file.buffer, file.byteOffset + t.offset, t.length);
    for (let i = 0; i < t.length; i += 4) {
      const v = view.getFloat32(i, true);
      if (!Number.isFinite(v) || (t.role === 'scale' && !(v > 0))) {
        const need = t.role === 'scale' ? 'scales must be finite and > 0' : 'biases must be finite';
        throw new BundleFormatError(`tensor ${t.name} holds ${v} at index ${i / 4}: ${need}; ${ADVICE}`);
      }
    }
  }
}
