/**
 * Keras VGG16 weight files (.h5) → internal VggWeights.
 *
 * Reads the HDF5 layout that Keras's `save_weights` (and `keras.applications`' downloadable
 * `vgg16_weights_tf_dim_ordering_tf_kernels[_notop].h5`) writes:
 *
 *   /                          attrs: layer_names = [input_1, block1_conv1, …, block5_pool, (flatten, fc1, fc2, predictions)]
 *   /<layer>                   attrs: weight_names = dataset paths relative to this group, kernel first
 *   /<layer>/<weight name>     float dataset; e.g. `block1_conv1_W_1:0` (Keras 2 era) or
 *                              `block1_conv1/kernel:0`, a nested group (tf.keras)
 *
 * A full-model save (`model.save('x.h5')`) nests the same tree under `/model_weights`. Attributes
 * too large for an HDF5 object header are split by Keras into `name0`, `name1`, …; both forms are read.
 *
 * Keras is channels-last: conv kernels are HWIO, dense kernels (in, out), and fc1's `in` axis is in
 * the (H, W, C) order of Flatten on an NHWC tensor. The internal layout (spec.ts) is OIHW, (out, in)
 * and (C, H, W) for fc1. The images these weights expect are 'caffe'-preprocessed.
 *
 * Runs in Node and in browser workers: h5wasm's ESM build embeds its wasm binary and uses its own
 * in-memory file system; this file imports nothing from Node.
 */
import h5wasm from 'h5wasm';
import type { Dataset, Group } from 'h5wasm';
import type { ConvLayer, DenseLayer, LayerWeights, PreprocessMode, VggConfig, VggWeights } from './spec';
import { checkWeights, convLayers, denseLayers, featureSize, VGG16, WeightsMismatchError } from './spec';

/** How images must be preprocessed for weights from this source. */
export const KERAS_H5_PREPROCESSING: PreprocessMode = 'caffe';

export interface KerasH5Options {
  /**
   * Large 2-D kernels (fc1 is 25088 × 4096) are read this many elements at a time, so the wasm heap
   * never holds a whole one (default 4 M floats = 16 MB).
   */
  chunkElements?: number;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** HDF5 files start with the signature at 0, or at 512, 1024, 2048, … after a user block. */
function hasHdf5Signature(bytes: Uint8Array): boolean {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (HDF5_SIGNATURE.every((b, i) => bytes[at + i] === b)) return true;
  }
  return false;
}

const shapeStr = (s: readonly number[] | null | undefined) => `[${(s ?? []).join(', ')}]`;

let fileCounter = 0;

/**
 * Read a Keras VGG16 weight file. `includeTop` says whether the classifier (fc1, fc2, predictions)
 * is in the file; a file with only some of it is rejected, as is any layer whose shapes do not
 * match `cfg`, and any weighted layer that `cfg` does not have (e.g. VGG19's block3_conv4).
 */
export async function readKerasH5(
  bytes: Uint8Array,
  cfg: VggConfig = VGG16,
  opts: KerasH5Options = {},
): Promise<{ weights: VggWeights; includeTop: boolean }> {
  if (!hasHdf5Signature(bytes)) {
    const hint =
      bytes.length >= 2 && bytes[0] === 0x08 ? ' (it looks like an ONNX/protobuf file; use the ONNX importer)' : '';
    throw new WeightsMismatchError(
      `not a Keras .h5 weight file: no HDF5 signature in its ${bytes.length} bytes${hint}`,
    );
  }
  const Module = await h5wasm.ready;
  const { FS } = Module;
  const path = `/convlens-keras-${Date.now().toString(36)}-${fileCounter++}.h5`;
  // canOwn: the in-memory file system keeps a view of `bytes` instead of a copy (the file is opened read-only).
  const writeOpts = { flags: 'w', canOwn: true };
  FS.writeFile(path, bytes, writeOpts);
  // HDF5 errors become JS errors (instead of HDF5-DIAG text on the console) while this synchronous read runs.
  Module.activate_throwing_error_handler();
  let file: InstanceType<typeof h5wasm.File> | undefined;
  try {
    try {
      file = new h5wasm.File(path, 'r');
    } catch (e) {
      throw new WeightsMismatchError(`not a readable HDF5 file: ${hdf5Message(e)}`);
    }
    try {
      return readFile(file, cfg, opts);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('HDF5-DIAG'))
        throw new WeightsMismatchError(`could not read the HDF5 file: ${hdf5Message(e)}`);
      throw e;
    }
  } finally {
    try {
      file?.close();
    } finally {
      Module.deactivate_throwing_error_handler();
      try {
        FS.unlink(path);
      } catch {
        // already gone
      }
    }
  }
}

/** The innermost reason in an HDF5 error stack ("truncated file: eof = 500, …"), else the first line. */
function hdf5Message(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const reasons = [...text.matchAll(/#\d+: .* in [\w:]+\(\): (.+)$/gm)].map((m) => m[1]!.trim());
  return reasons[reasons.length - 1] ?? text.split('\n')[0]!;
}

function readFile(file: Group, cfg: VggConfig, opts: KerasH5Options): { weights: VggWeights; includeTop: boolean } {
  const mw = file.get('model_weights');
  const top = mw instanceof h5wasm.Group && hasAttr(mw, 'layer_names') ? mw : file;
  const layerNames = stringListAttr(top, 'layer_names');
  if (!layerNames) {
    const keras3 =
      file.get('layers') instanceof h5wasm.Group || file.get('_layer_checkpoint_dependencies') instanceof h5wasm.Group;
    throw new WeightsMismatchError(
      keras3
        ? 'this looks like a Keras 3 `.weights.h5` file, which is not supported: save the weights in the legacy h5 format (tf.keras / Keras 2) or use the keras.applications download'
        : "not a Keras weight file: the HDF5 root has no 'layer_names' attribute (nor a 'model_weights' group with one)",
    );
  }

  const expected = new Set([...convLayers(cfg), ...denseLayers(cfg)].map((l) => l.name));
  const present = new Map<string, string[]>();
  for (const name of layerNames) {
    const g = top.get(name);
    if (!(g instanceof h5wasm.Group))
      throw new WeightsMismatchError(`layer '${name}' is listed in layer_names but has no group in the file`);
    const weightNames = stringListAttr(g, 'weight_names') ?? [];
    if (weightNames.length === 0) continue;
    if (!expected.has(name)) {
      throw new WeightsMismatchError(
        `layer '${name}' has weights but ${cfg.name} has no such layer (is this a different network, e.g. VGG19 or a fine-tuned model?)`,
      );
    }
    present.set(name, weightNames);
  }

  const weights: VggWeights = new Map();
  for (const l of convLayers(cfg)) {
    const names = present.get(l.name);
    if (!names)
      throw new WeightsMismatchError(
        `layer '${l.name}' is missing from the file (${cfg.name} needs all ${convLayers(cfg).length} conv layers)`,
      );
    weights.set(l.name, readConv(top, l, names));
  }
  const dense = denseLayers(cfg);
  const found = dense.filter((l) => present.has(l.name));
  if (found.length > 0 && found.length < dense.length) {
    const missing = dense.filter((l) => !present.has(l.name)).map((l) => `'${l.name}'`);
    throw new WeightsMismatchError(`the classifier is incomplete: ${missing.join(', ')} missing from the file`);
  }
  const includeTop = found.length === dense.length;
  if (includeTop) {
    for (const l of dense)
      weights.set(l.name, readDense(top, l, present.get(l.name)!, cfg, opts.chunkElements ?? 4 << 20));
  }
  checkWeights(cfg, weights, includeTop);
  return { weights, includeTop };
}

// ---- attributes ----

function hasAttr(g: Group, name: string): boolean {
  const attrs = g.attrs;
  return name in attrs || `${name}0` in attrs;
}

/** A string-list attribute as Keras writes it, possibly split into name0, name1, … */
function stringListAttr(g: Group, name: string): string[] | undefined {
  const attrs = g.attrs;
  if (name in attrs) return toStrings(attrs[name]!.value);
  if (!(`${name}0` in attrs)) return undefined;
  const out: string[] = [];
  for (let i = 0; `${name}${i}` in attrs; i++) out.push(...toStrings(attrs[`${name}${i}`]!.value));
  return out;
}

function toStrings(v: unknown): string[] {
  const clean = (s: string) => s.replace(/[\0 ]+$/, '');
  if (v === null || v === undefined) return [];
  if (typeof v === 'string') return [clean(v)];
  if (Array.isArray(v)) return v.flat(Infinity).map((x) => clean(typeof x === 'string' ? x : String(x)));
  // An empty list is written by h5py as an empty float array.
  if (ArrayBuffer.isView(v) && (v as unknown as ArrayLike<unknown>).length === 0) return [];
  throw new WeightsMismatchError(
    `expected a list of names in an attribute, found ${Object.prototype.toString.call(v)}`,
  );
}

// ---- datasets ----

interface Found {
  name: string;
  ds: Dataset;
  shape: number[];
}

/** The layer's kernel and bias datasets (told apart by rank: the bias is 1-D), following weight_names. */
function kernelAndBias(top: Group, layer: string, names: string[]): { kernel: Found; bias: Found } {
  const g = top.get(layer) as Group;
  const found: Found[] = names.map((name) => {
    const ds = g.get(name);
    if (!(ds instanceof h5wasm.Dataset))
      throw new WeightsMismatchError(
        `layer '${layer}': weight '${name}' is listed in weight_names but is not a dataset in the file`,
      );
    const md = ds.metadata;
    if (md.type !== 1 || (md.size !== 4 && md.size !== 8)) {
      throw new WeightsMismatchError(
        `layer '${layer}': weight '${name}' is not float32/float64 data (HDF5 class ${md.type}, ${md.size} bytes)`,
      );
    }
    return { name, ds, shape: ds.shape ?? [] };
  });
  const kernels = found.filter((f) => f.shape.length !== 1);
  const biases = found.filter((f) => f.shape.length === 1);
  if (kernels.length !== 1 || biases.length !== 1) {
    throw new WeightsMismatchError(
      `layer '${layer}': expected a kernel and a bias, found ${found.map((f) => `'${f.name}' ${shapeStr(f.shape)}`).join(', ') || 'no weights'}`,
    );
  }
  return { kernel: kernels[0]!, bias: biases[0]! };
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

function toFloat32(v: unknown, what: string): Float32Array {
  if (v instanceof Float32Array) return v;
  if (v instanceof Float64Array) return Float32Array.from(v);
  throw new WeightsMismatchError(`${what}: could not read it as float data`);
}

function readBias(layer: string, b: Found, n: number): Float32Array {
  if (b.shape[0] !== n)
    throw new WeightsMismatchError(
      `layer '${layer}': bias '${b.name}' has shape ${shapeStr(b.shape)}, expected [${n}]`,
    );
  return toFloat32(b.ds.value, `layer '${layer}': bias '${b.name}'`);
}

function readConv(top: Group, l: ConvLayer, names: string[]): LayerWeights {
  const { kernel, bias } = kernelAndBias(top, l.name, names);
  const want = [3, 3, l.cin, l.cout];
  if (!sameShape(kernel.shape, want)) {
    const channelsFirst = sameShape(kernel.shape, [l.cout, l.cin, 3, 3])
      ? ' — that is a channels-first (Theano-ordering) file; use the tf_dim_ordering one'
      : '';
    throw new WeightsMismatchError(
      `layer '${l.name}': kernel '${kernel.name}' has shape ${shapeStr(kernel.shape)}, expected ${shapeStr(want)} (height, width, in, out)${channelsFirst}`,
    );
  }
  const src = toFloat32(kernel.ds.value, `layer '${l.name}': kernel '${kernel.name}'`);
  const I = l.cin;
  const O = l.cout;
  // HWIO → OIHW
  const dst = new Float32Array(src.length);
  for (let h = 0; h < 3; h++)
    for (let w = 0; w < 3; w++)
      for (let i = 0; i < I; i++) {
        const s = ((h * 3 + w) * I + i) * O;
        for (let o = 0; o < O; o++) dst[((o * I + i) * 3 + h) * 3 + w] = src[s + o]!;
      }
  return { kernel: dst, bias: readBias(l.name, bias, O) };
}

function readDense(top: Group, l: DenseLayer, names: string[], cfg: VggConfig, chunkElements: number): LayerWeights {
  const { kernel, bias } = kernelAndBias(top, l.name, names);
  const IN = l.inputs;
  const OUT = l.units;
  if (!sameShape(kernel.shape, [IN, OUT])) {
    const transposed = sameShape(kernel.shape, [OUT, IN]) ? ' — it is stored transposed, as (out, in)' : '';
    throw new WeightsMismatchError(
      `layer '${l.name}': kernel '${kernel.name}' has shape ${shapeStr(kernel.shape)}, expected [${IN}, ${OUT}] (in, out)${transposed}`,
    );
  }
  // Row r of the Keras kernel is input feature r. fc1's inputs come from Flatten on NHWC, r = (h·F + w)·C + c;
  // internally they are in NCHW flatten order, (c·F + h)·F + w.
  let column: (r: number) => number = (r) => r;
  if (l.name === 'fc1') {
    const F = featureSize(cfg);
    const C = IN / (F * F);
    column = (r) => {
      const c = r % C;
      const hw = (r - c) / C;
      return c * F * F + hw;
    };
  }
  const dst = new Float32Array(IN * OUT);
  const rowsPerChunk = Math.max(1, Math.floor(chunkElements / OUT));
  for (let r0 = 0; r0 < IN; r0 += rowsPerChunk) {
    const r1 = Math.min(IN, r0 + rowsPerChunk);
    const whole = r0 === 0 && r1 === IN;
    const what = `layer '${l.name}': kernel '${kernel.name}'`;
    const src = toFloat32(whole ? kernel.ds.value : kernel.ds.slice([[r0, r1], []]), what);
    if (src.length !== (r1 - r0) * OUT)
      throw new WeightsMismatchError(
        `${what}: read ${src.length} values for rows ${r0}…${r1 - 1}, expected ${(r1 - r0) * OUT}`,
      );
    for (let r = r0; r < r1; r++) {
      const col = column(r);
      const s = (r - r0) * OUT;
      for (let o = 0; o < OUT; o++) dst[o * IN + col] = src[s + o]!;
    }
  }
  return { kernel: dst, bias: readBias(l.name, bias, OUT) };
}
