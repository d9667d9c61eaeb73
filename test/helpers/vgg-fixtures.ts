/**
 * VGG weight files in the real on-disk layouts, made here because no real weights can be downloaded:
 * Keras .h5 files (channels-last) written with h5wasm in Keras's group/dataset/attribute structure,
 * and ONNX files shaped like the ONNX zoo's vgg16-12. The layout conversions in this file are written
 * independently of the importers (a generic axis permutation, not their index arithmetic).
 */
import h5wasm from 'h5wasm';
import type { Group } from 'h5wasm';
import { GraphBuilder } from '../../src/core/onnx/builder';
import { encodeModel } from '../../src/core/onnx/encode';
import { imagenetHead, inlineWeights, vggBase } from '../../src/core/vgg16/graph';
import type { VggConfig, VggWeights } from '../../src/core/vgg16/spec';
import { convLayers, denseLayers, featureSize, kernelDims, layers } from '../../src/core/vgg16/spec';
import { compile, mulberry32, normal } from './ort';

// ---- weights ----

/** Deterministic He-normal kernels (std √(2 / fan-in)) and small random biases, internal layout. */
export function randomWeights(cfg: VggConfig, seed: number): VggWeights {
  const rng = mulberry32(seed);
  const w: VggWeights = new Map();
  for (const l of [...convLayers(cfg), ...denseLayers(cfg)]) {
    const dims = kernelDims(l);
    const fanIn = dims.slice(1).reduce((a, b) => a * b, 1);
    const n = dims.reduce((a, b) => a * b, 1);
    w.set(l.name, { kernel: normal(rng, n, Math.sqrt(2 / fanIn)), bias: normal(rng, dims[0]!, 0.5) });
  }
  return w;
}

/** A layer's weights as Keras stores them. */
export interface KerasLayer {
  kernel: Float32Array;
  /** [3, 3, in, out] (HWIO) for conv, [in, out] for dense. */
  kernelShape: number[];
  bias: Float32Array;
}
export type KerasWeights = Map<string, KerasLayer>;

/** Row-major transpose: out has dims perm.map(p => dims[p]). */
export function permute(data: Float32Array, dims: number[], perm: number[]): Float32Array {
  const rank = dims.length;
  const stride = new Array<number>(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) stride[i] = stride[i + 1]! * dims[i + 1]!;
  const outDims = perm.map((p) => dims[p]!);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < out.length; k++) {
    let src = 0;
    for (let a = 0; a < rank; a++) src += idx[a]! * stride[perm[a]!]!;
    out[k] = data[src]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < outDims[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/**
 * Internal layout → Keras layout: OIHW → HWIO; (out, in) → (in, out); and fc1, whose inputs are
 * internally (C, H, W), becomes (H, W, C, out) → (H·W·C, out), the order of Keras's Flatten on NHWC.
 */
export function toKerasLayout(w: VggWeights, cfg: VggConfig): KerasWeights {
  const out: KerasWeights = new Map();
  for (const l of convLayers(cfg)) {
    const lw = w.get(l.name);
    if (!lw) continue;
    out.set(l.name, {
      kernel: permute(lw.kernel, [l.cout, l.cin, 3, 3], [2, 3, 1, 0]),
      kernelShape: [3, 3, l.cin, l.cout],
      bias: lw.bias.slice(),
    });
  }
  for (const l of denseLayers(cfg)) {
    const lw = w.get(l.name);
    if (!lw) continue;
    let kernel: Float32Array;
    if (l.name === 'fc1') {
      const F = featureSize(cfg);
      const C = l.inputs / (F * F);
      kernel = permute(lw.kernel, [l.units, C, F, F], [2, 3, 1, 0]);
    } else {
      kernel = permute(lw.kernel, [l.units, l.inputs], [1, 0]);
    }
    out.set(l.name, { kernel, kernelShape: [l.inputs, l.units], bias: lw.bias.slice() });
  }
  return out;
}

// ---- Keras .h5 ----

export interface KerasH5Fixture {
  includeTop: boolean;
  /**
   * 'keras2': Keras 2.0-era names, as in keras.applications' vgg16_weights_tf_dim_ordering_tf_kernels.h5:
   *   weight_names ['block1_conv1_W_1:0', 'block1_conv1_b_1:0'], datasets directly in the layer group.
   * 'tf-keras': tf.keras save_weights: weight_names ['block1_conv1/kernel:0', 'block1_conv1/bias:0'],
   *   datasets in a nested group /block1_conv1/block1_conv1/.
   */
  style: 'keras2' | 'tf-keras';
  /** A full-model save (model.save): everything under /model_weights, model_config on the root. */
  fullModel?: boolean;
  /** Change or drop (return null) a layer's Keras-layout weights before writing. */
  tamper?: (layer: string, k: KerasLayer) => KerasLayer | null;
  /** Dataset type: float32 (what Keras writes) or float64. */
  dtype?: '<f' | '<d';
  /** Extra weighted layers, each written right before the next layer of `cfg` whose name sorts after it. */
  extra?: KerasWeights;
}

let fixtureCounter = 0;

function stringsAttr(g: Group, name: string, values: string[]): void {
  if (values.length === 0) {
    // h5py stores Keras's empty list as an empty float64 array.
    g.create_attribute(name, new Float64Array(0), [0], '<d');
    return;
  }
  // numpy bytes ('S<n>'): fixed-length ASCII strings, as h5py writes them.
  const n = Math.max(...values.map((v) => v.length));
  g.create_attribute(name, values, [values.length], `A${n}`);
}

/** Write `w` (internal layout) as a Keras .h5 weight file. */
export async function writeKerasH5(w: VggWeights, cfg: VggConfig, o: KerasH5Fixture): Promise<Uint8Array> {
  const kw = toKerasLayout(w, cfg);
  const { FS } = await h5wasm.ready;
  const path = `/fixture-${fixtureCounter++}.h5`;
  const f = new h5wasm.File(path, 'w');
  try {
    let top: Group = f;
    if (o.fullModel) {
      f.create_attribute('keras_version', '2.15.0');
      f.create_attribute('backend', 'tensorflow');
      f.create_attribute('model_config', JSON.stringify({ class_name: 'Functional', config: { name: 'vgg16' } }));
      top = f.create_group('model_weights');
    }
    const names = [
      'input_1',
      ...layers(cfg)
        .filter((l) => o.includeTop || l.kind !== 'dense')
        .map((l) => l.name),
    ];
    if (o.includeTop) names.splice(names.indexOf('fc1'), 0, 'flatten');
    for (const extra of o.extra?.keys() ?? []) {
      const at = names.findIndex((n) => n > extra && n !== 'input_1');
      names.splice(at < 0 ? names.length : at, 0, extra);
    }
    stringsAttr(top, 'layer_names', names);
    top.create_attribute('backend', 'tensorflow');
    top.create_attribute('keras_version', o.style === 'keras2' ? '2.0.8' : '2.15.0');
    for (const name of names) {
      const g = top.create_group(name);
      let lw = kw.get(name) ?? o.extra?.get(name);
      if (lw && o.tamper) lw = o.tamper(name, lw) ?? undefined;
      if (!lw) {
        stringsAttr(g, 'weight_names', []);
        continue;
      }
      const [kName, bName] =
        o.style === 'keras2' ? [`${name}_W_1:0`, `${name}_b_1:0`] : [`${name}/kernel:0`, `${name}/bias:0`];
      stringsAttr(g, 'weight_names', [kName, bName]);
      const holder = o.style === 'keras2' ? g : g.create_group(name);
      const leaf = (p: string) => p.slice(p.lastIndexOf('/') + 1);
      const dtype = o.dtype ?? '<f';
      const data = (a: Float32Array) => (dtype === '<d' ? Float64Array.from(a) : a);
      holder.create_dataset({ name: leaf(kName), data: data(lw.kernel), shape: lw.kernelShape, dtype });
      holder.create_dataset({ name: leaf(bName), data: data(lw.bias), shape: [lw.bias.length], dtype });
    }
  } finally {
    f.close();
  }
  const bytes = FS.readFile(path);
  FS.unlink(path);
  return bytes;
}

// ---- ONNX zoo ----

export interface ZooFixture {
  /** 'gemm' (the zoo's: weight (out, in), transB = 1), 'gemm-transB0' (weight (in, out)), or MatMul + Add. */
  dense?: 'gemm' | 'gemm-transB0' | 'matmul-add';
  /** 'zoo': vgg0_conv0_weight, … ; 'opaque': exporter-style names that say nothing about the layer. */
  names?: 'zoo' | 'opaque';
  /** Reverse the initializer order in the file. */
  shuffleInitializers?: boolean;
}

/**
 * An ONNX graph shaped like the ONNX zoo's vgg16-12: input 'data' [1, 3, S, S], Conv/Relu (pads 1)
 * and MaxPool (2/2) nodes, Flatten, Gemm (transB = 1) → Relu → Dropout twice, and the last Gemm as
 * the output (logits; the zoo file has no Softmax).
 */
export function writeZooOnnx(w: VggWeights, cfg: VggConfig, o: ZooFixture = {}): Uint8Array {
  const dense = o.dense ?? 'gemm';
  const b = new GraphBuilder('vgg16');
  const S = cfg.inputSize;
  let n = 100;
  const name = (zoo: string, op: string) => (o.names === 'opaque' ? `onnx::${op}_${n++}` : zoo);
  const init = (nm: string, dims: number[], data: Float32Array) =>
    b.initializer({ name: nm, dtype: 'float32', dims, data });
  let h = b.input('data', 'float32', [1, 3, S, S]);
  let ci = 0;
  let pi = 0;
  for (const l of layers(cfg)) {
    if (l.kind === 'conv') {
      const lw = w.get(l.name)!;
      const wn = init(name(`vgg0_conv${ci}_weight`, 'Conv'), [l.cout, l.cin, 3, 3], lw.kernel);
      const bn = init(name(`vgg0_conv${ci}_bias`, 'Conv'), [l.cout], lw.bias);
      h = b.conv(h, wn, bn, { pads: [1, 1, 1, 1], strides: [1, 1] }, `vgg0_conv${ci}_fwd`);
      h = b.relu(h, `vgg0_relu${ci}_fwd`);
      ci++;
    } else if (l.kind === 'pool') {
      h = b.maxPool(h, { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }, `vgg0_pool${pi++}_fwd`);
    }
  }
  h = b.flatten(h, 1);
  denseLayers(cfg).forEach((l, j) => {
    const lw = w.get(l.name)!;
    const wName = name(`vgg0_dense${j}_weight`, 'Gemm');
    const bName = name(`vgg0_dense${j}_bias`, 'Gemm');
    if (dense === 'gemm') {
      init(wName, [l.units, l.inputs], lw.kernel);
      init(bName, [l.units], lw.bias);
      h = b.gemm(h, wName, bName, { alpha: 1, beta: 1, transB: 1 }, `vgg0_dense${j}_fwd`);
    } else {
      init(wName, [l.inputs, l.units], permute(lw.kernel, [l.units, l.inputs], [1, 0]));
      init(bName, [l.units], lw.bias);
      h =
        dense === 'gemm-transB0'
          ? b.gemm(h, wName, bName, {}, `vgg0_dense${j}_fwd`)
          : b.add(b.matmul(h, wName), bName, `vgg0_dense${j}_fwd`);
    }
    if (l.name !== 'predictions') {
      h = b.relu(h, `vgg0_relu${ci++}_fwd`);
      h = b.node('Dropout', [h], {}, [{ dtype: 'float32', shape: b.shape(h) }], `vgg0_dropout${j}_fwd`)[0]!;
    }
  });
  b.output(h);
  if (o.shuffleInitializers) {
    const entries = [...b.graph.initializers.entries()].reverse();
    b.graph.initializers.clear();
    for (const [k, v] of entries) b.graph.initializers.set(k, v);
  }
  return encodeModel(b.graph);
}

// ---- our forward pass ----

export interface Forward {
  /** block5_pool, NCHW. */
  pool5: Float32Array;
  logits?: Float32Array;
  probs?: Float32Array;
}

/** Our generated ONNX graph (graph.ts) with `w` inlined, run in onnxruntime-web on an NCHW image. */
export async function ourForward(
  cfg: VggConfig,
  w: VggWeights,
  imageNchw: Float32Array,
  includeTop: boolean,
): Promise<Forward> {
  const S = cfg.inputSize;
  const b = new GraphBuilder('convlens-vgg');
  const x = b.input('image', 'float32', [1, 3, S, S]);
  const ref = inlineWeights(b, cfg, w);
  const acts = vggBase(b, cfg, x, ref);
  const pool5 = acts.get('block5_pool')!;
  b.output(pool5);
  let logits: string | undefined;
  let probs: string | undefined;
  if (includeTop) {
    logits = imagenetHead(b, cfg, pool5, ref, acts);
    probs = b.softmax(logits);
    b.output(logits);
    b.output(probs);
  }
  const out = await (await compile(b.graph)).run({ image: imageNchw });
  return { pool5: out[pool5]!, logits: logits ? out[logits] : undefined, probs: probs ? out[probs] : undefined };
}
