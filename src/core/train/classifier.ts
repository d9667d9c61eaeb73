/**
 * The classifier file: a trained head (and fine-tuned block5, if any) for one base model.
 *
 *   bytes 0–7    magic "CLNSCLF\n"
 *   bytes 8–11   format version, uint32 little-endian (1)
 *   bytes 12–15  manifest length M, uint32 little-endian
 *   bytes 16…    manifest: M bytes of UTF-8 JSON (ClassifierManifest)
 *   then         zero padding to a multiple of 4
 *   then         the weights: every tensor of `tensors`, in order, contiguous, float32 little-endian
 *
 * The manifest names the base model by a hash of its base-part shards' sha256s (baseModelHash):
 * features of another base mean nothing to this head. parseClassifier trusts nothing: sizes are
 * capped before anything is allocated, the schema is checked field by field, the tensor list must be
 * exactly the one the head kind, class count and base architecture imply, byte lengths must add up,
 * and every weight must be finite.
 */
import { sha256Hex } from '../bundle/sha256';
import type { BundleManifest } from '../bundle/manifest';
import type { PreprocessMode, VggConfig } from '../vgg16/spec';
import { ClassifierFormatError, ClassifierMismatchError, TrainingInputError } from './errors';
import { featureShape } from './features';
import type { ModelSpec } from './graphs';
import { lastBlockTrunk, modelTensors } from './graphs';
import type { HeadKind, HeadSpec } from './heads';
import { HEAD_PARAM, headConstants, headParams, headSpec } from './heads';

export const CLASSIFIER_FORMAT = 'convlens-classifier';
export const CLASSIFIER_VERSION = 1;
const MAGIC = [0x43, 0x4c, 0x4e, 0x53, 0x43, 0x4c, 0x46, 0x0a]; // "CLNSCLF\n"
const HEADER = 16;

/** Caps for hostile files (the largest real file, dense head + block5 at 224 px, is ≈ 54 MB). */
export const MAX_CLASSIFIER_BYTES = 256 * 1024 * 1024;
export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const MAX_CLASSES = 1000;
export const MAX_CLASS_NAME = 100;
export const MAX_HIDDEN = 4096;
export const MAX_INPUT_SIZE = 1024;

export interface TensorRecord {
  name: string;
  dims: number[];
  /** Byte offset from the start of the weights section. */
  offset: number;
  length: number;
}

export interface ClassifierManifest {
  format: typeof CLASSIFIER_FORMAT;
  version: typeof CLASSIFIER_VERSION;
  base: {
    /** baseModelHash of the bundle it was trained on. */
    hash: string;
    /** Informational: the bundle's id and architecture name. */
    id: string;
    architecture: string;
    preprocessing: PreprocessMode;
    /** Input size the classifier was trained at (the live graph runs at this size). */
    inputSize: number;
  };
  classes: string[];
  head: { kind: HeadKind; hidden: number; dropout: number };
  /** block5_conv1..3 were fine-tuned: their weights are in the file and replace the base's. */
  fineTuned: boolean;
  tensors: TensorRecord[];
  /** What training measured (informational). */
  metrics?: { valLoss: number; valAcc: number; epochs: number; trainedOn: number };
  created: string;
}

export interface Classifier {
  manifest: ClassifierManifest;
  weights: Record<string, Float32Array>;
}

/** The base a classifier must match: the loaded bundle's hash and architecture. */
export interface BaseModel {
  hash: string;
  cfg: VggConfig;
}

/** sha256 of the base part's shard sha256s, one per line, in shard order: the base model's identity. */
export async function baseModelHash(manifest: BundleManifest): Promise<string> {
  const base = manifest.parts.find((p) => p.name === 'base');
  if (!base) throw new ClassifierMismatchError(`model '${manifest.id}' has no base part`);
  return sha256Hex(new TextEncoder().encode(base.shards.map((s) => s.sha256).join('\n')));
}

/** The ModelSpec a manifest describes, against a base architecture. */
export function classifierModel(m: ClassifierManifest, cfg: VggConfig): ModelSpec {
  const head = headSpec(m.head.kind, m.classes.length, featureShape(cfg, 'block5_pool', m.base.inputSize), {
    hidden: m.head.hidden,
    dropout: m.head.dropout,
  });
  return { head, trunk: m.fineTuned ? lastBlockTrunk(cfg, m.base.inputSize) : undefined };
}

function assertLittleEndian(): void {
  if (new Uint8Array(Uint32Array.of(1).buffer)[0] !== 1)
    throw new Error('this platform is big-endian; classifier files are little-endian');
}

/** Serialise. `manifest.tensors` is (re)computed from the model's parameter list. */
export function encodeClassifier(
  c: { manifest: Omit<ClassifierManifest, 'tensors'>; weights: Record<string, Float32Array> },
  cfg: VggConfig,
): Uint8Array {
  assertLittleEndian();
  const specs = modelTensors(classifierModel({ ...c.manifest, tensors: [] }, cfg));
  let offset = 0;
  const tensors: TensorRecord[] = specs.map((p) => {
    const w = c.weights[p.name];
    const n = p.dims.reduce((a, b) => a * b, 1);
    if (!w || w.length !== n) throw new RangeError(`classifier tensor '${p.name}' needs ${n} values, got ${w?.length}`);
    const t = { name: p.name, dims: p.dims, offset, length: n * 4 };
    offset += n * 4;
    return t;
  });
  const json = new TextEncoder().encode(JSON.stringify({ ...c.manifest, tensors }));
  const start = align4(HEADER + json.length);
  const out = new Uint8Array(start + offset);
  out.set(MAGIC, 0);
  const dv = new DataView(out.buffer);
  dv.setUint32(8, CLASSIFIER_VERSION, true);
  dv.setUint32(12, json.length, true);
  out.set(json, HEADER);
  for (const [i, p] of specs.entries()) {
    const w = c.weights[p.name]!;
    out.set(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), start + tensors[i]!.offset);
  }
  return out;
}

const align4 = (n: number) => (n + 3) & ~3;

const fail = (msg: string): never => {
  throw new ClassifierFormatError(`not a valid classifier file: ${msg}`);
};

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isIntIn = (v: unknown, lo: number, hi: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;

/** Validate bytes against the loaded base; returns the classifier or throws a named error. */
export function parseClassifier(bytes: Uint8Array, base: BaseModel): Classifier {
  assertLittleEndian();
  if (!(bytes instanceof Uint8Array)) fail('expected bytes');
  if (bytes.length > MAX_CLASSIFIER_BYTES) fail(`${bytes.length} bytes is over the ${MAX_CLASSIFIER_BYTES}-byte limit`);
  if (bytes.length < HEADER || !MAGIC.every((b, i) => bytes[i] === b))
    fail('it does not start with the convlens classifier signature (wrong or truncated file)');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== CLASSIFIER_VERSION)
    fail(
      `format version ${version}; this convlens reads version ${CLASSIFIER_VERSION} (update the app if the file is newer)`,
    );
  const mlen = dv.getUint32(12, true);
  if (mlen > MAX_MANIFEST_BYTES) fail(`its manifest claims ${mlen} bytes (limit ${MAX_MANIFEST_BYTES})`);
  if (HEADER + mlen > bytes.length) fail(`the file is truncated inside its manifest (${bytes.length} bytes)`);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER, HEADER + mlen)));
  } catch {
    fail('its manifest is not UTF-8 JSON');
  }
  const m = checkManifest(json);

  // The base: same bundle, same architecture.
  if (m.base.architecture !== base.cfg.name)
    throw new ClassifierMismatchError(
      `this classifier was trained on a ${m.base.architecture} base, the loaded model is ${base.cfg.name}: load the model '${m.base.id}' it was trained on`,
    );
  if (m.base.hash !== base.hash)
    throw new ClassifierMismatchError(
      `this classifier was trained on another base model ('${m.base.id}', base hash ${m.base.hash.slice(0, 12)}…) than the one loaded (${base.hash.slice(0, 12)}…): load that model, or train again on this one`,
    );
  const size = m.base.inputSize;
  if (size % 2 ** base.cfg.blocks.length !== 0)
    fail(`input size ${size} is not a multiple of ${2 ** base.cfg.blocks.length}`);

  // Tensors: exactly the ones the head (and trunk) imply, contiguous, in order.
  const expected = modelTensors(classifierModel(m, base.cfg));
  if (m.tensors.length !== expected.length)
    fail(
      `it lists ${m.tensors.length} tensors, a ${m.head.kind} head${m.fineTuned ? ' with block5' : ''} has ${expected.length}`,
    );
  const start = align4(HEADER + mlen);
  let offset = 0;
  const weights: Record<string, Float32Array> = {};
  for (const [i, e] of expected.entries()) {
    const t = m.tensors[i]!;
    const n = e.dims.reduce((a, b) => a * b, 1);
    if (t.name !== e.name) fail(`tensor ${i} is '${t.name}', expected '${e.name}'`);
    if (t.dims.length !== e.dims.length || t.dims.some((d, k) => d !== e.dims[k]))
      fail(
        `tensor '${t.name}' has dims [${t.dims}], expected [${e.dims}] for ${m.classes.length} classes on ${base.cfg.name} at ${size} px`,
      );
    if (t.offset !== offset || t.length !== n * 4)
      fail(`tensor '${t.name}' is at ${t.offset} (+${t.length} bytes), expected ${offset} (+${n * 4})`);
    if (start + offset + t.length > bytes.length)
      fail(`the file is truncated: tensor '${t.name}' ends past its ${bytes.length} bytes`);
    const w = new Float32Array(n);
    new Uint8Array(w.buffer).set(bytes.subarray(start + offset, start + offset + t.length));
    for (let k = 0; k < n; k++)
      if (!Number.isFinite(w[k]!)) fail(`tensor '${t.name}' holds a NaN or infinite value at ${k}`);
    // The live graph standardises before max-pooling, which equals the training order only for s > 0.
    if (t.name === HEAD_PARAM.normScale && w.some((v) => !(v > 0))) fail(`tensor '${t.name}' must be positive`);
    weights[t.name] = w;
    offset += t.length;
  }
  if (start + offset !== bytes.length)
    fail(`it has ${bytes.length - start - offset} bytes after its last tensor (damaged or concatenated file)`);
  return { manifest: m, weights };
}

/**
 * Where a retrain continues from (TrainRequest.from): the classifier `bytes`, checked against the base
 * (parseClassifier) and against the run (the same classes in the same order, the same head and input
 * size; not fine-tuned, whose head was trained on fine-tuned block5 features, not the frozen base's),
 * split into the head's weights and the feature statistics they were trained with.
 */
export function headStart(
  bytes: Uint8Array,
  base: BaseModel,
  run: { spec: HeadSpec; classes: readonly string[]; inputSize: number },
): { params: Record<string, Float32Array>; constants: Record<string, Float32Array> } {
  const { manifest: m, weights } = parseClassifier(bytes, base);
  const { spec } = run;
  const no = (why: string): never => {
    throw new TrainingInputError(`cannot continue from that classifier: ${why}; train from scratch instead`);
  };
  if (m.classes.length !== run.classes.length || m.classes.some((c, i) => c !== run.classes[i]))
    no(`its classes (${m.classes.join(', ')}) are not this run's (${run.classes.join(', ')})`);
  if (m.head.kind !== spec.kind || m.head.hidden !== spec.hidden || m.head.dropout !== spec.dropout)
    no(`its head is ${m.head.kind} (${m.head.hidden} hidden), this run trains ${spec.kind} (${spec.hidden} hidden)`);
  if (m.base.inputSize !== run.inputSize) no(`it was trained at ${m.base.inputSize} px, this run at ${run.inputSize}`);
  if (m.fineTuned) no('it is fine-tuned, and its head reads the fine-tuned block5, not the base this run trains on');
  const pick = (names: { name: string }[]) => Object.fromEntries(names.map(({ name }) => [name, weights[name]!]));
  return { params: pick(headParams(spec)), constants: pick(headConstants(spec)) };
}

function checkManifest(json: unknown): ClassifierManifest {
  if (!isObject(json)) fail('its manifest is not an object');
  const j = json as Record<string, unknown>;
  if (j.format !== CLASSIFIER_FORMAT) fail(`format is ${JSON.stringify(j.format)}, expected "${CLASSIFIER_FORMAT}"`);
  if (j.version !== CLASSIFIER_VERSION) fail(`manifest version ${JSON.stringify(j.version)}`);
  const base = j.base;
  if (!isObject(base)) fail('base is missing');
  const b = base as Record<string, unknown>;
  if (typeof b.hash !== 'string' || !/^[0-9a-f]{64}$/.test(b.hash)) fail('base.hash is not a sha256 hex string');
  if (typeof b.id !== 'string' || b.id.length > 200) fail('base.id is not a short string');
  if (typeof b.architecture !== 'string' || b.architecture.length > 100)
    fail('base.architecture is not a short string');
  if (b.preprocessing !== 'caffe' && b.preprocessing !== 'torch') fail('base.preprocessing is neither caffe nor torch');
  if (!isIntIn(b.inputSize, 32, MAX_INPUT_SIZE)) fail(`base.inputSize must be an integer in 32…${MAX_INPUT_SIZE}`);
  const classes = j.classes;
  if (!Array.isArray(classes) || classes.length < 2 || classes.length > MAX_CLASSES)
    fail(`classes must be a list of 2…${MAX_CLASSES} names`);
  for (const c of classes as unknown[])
    if (typeof c !== 'string' || !c.trim() || c.length > MAX_CLASS_NAME)
      fail(`class names must be non-empty strings of at most ${MAX_CLASS_NAME} characters`);
  if (new Set(classes as string[]).size !== (classes as string[]).length) fail('class names repeat');
  const head = j.head;
  if (!isObject(head)) fail('head is missing');
  const h = head as Record<string, unknown>;
  if (h.kind !== 'dense' && h.kind !== 'gap') fail(`head.kind ${JSON.stringify(h.kind)} is not dense or gap`);
  if (!isIntIn(h.hidden, 1, MAX_HIDDEN)) fail(`head.hidden must be an integer in 1…${MAX_HIDDEN}`);
  if (typeof h.dropout !== 'number' || !(h.dropout >= 0 && h.dropout < 1)) fail('head.dropout must be in [0, 1)');
  if (typeof j.fineTuned !== 'boolean') fail('fineTuned must be true or false');
  if (!Array.isArray(j.tensors) || j.tensors.length > 64) fail('tensors must be a short list');
  for (const t of j.tensors as unknown[]) {
    if (!isObject(t)) fail('a tensor entry is not an object');
    const r = t as Record<string, unknown>;
    if (typeof r.name !== 'string') fail('a tensor has no name');
    if (!Array.isArray(r.dims) || r.dims.length > 4 || !(r.dims as unknown[]).every((d) => isIntIn(d, 1, 1 << 26)))
      fail(`tensor '${String(r.name)}' has invalid dims`);
    if (!isIntIn(r.offset, 0, MAX_CLASSIFIER_BYTES) || !isIntIn(r.length, 0, MAX_CLASSIFIER_BYTES))
      fail(`tensor '${String(r.name)}' has an invalid offset or length`);
  }
  if (j.metrics !== undefined && !isObject(j.metrics)) fail('metrics is not an object');
  if (typeof j.created !== 'string' || j.created.length > 64) fail('created is not a date string');
  return j as unknown as ClassifierManifest;
}
