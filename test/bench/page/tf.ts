/**
 * The peer: TensorFlow.js 4.22 on its wasm backend, on the same fp32 weights as convlens, turned
 * channels-last in the page (HWIO conv kernels, dense kernels (in, out) as Keras keeps them; fc1's
 * rows stay in NCHW flatten order, so the activation is transposed to NCHW before flattening, as
 * test/helpers/tfjs-gradcam.ts does). Grad-CAM the book's way: tf.grad of the class score w.r.t.
 * block5_conv3's output, α_c = mean_hw(g), cam = ReLU(mean_c(α_c·A_c)) / max. The score is the
 * logit, as convlens's live graph differentiates (src/core/graphs/analyze.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { readWeights } from '../../../src/core/bundle/load';
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import { layers } from '../../../src/core/vgg16/spec';
import { page } from './globals';
import { fetchBytes } from './ort';
import type { RunResult, TfInfo, TfLoadRequest, TfRunRequest } from './protocol';
import { benchImage } from './protocol';

const CAM_LAYER = 'block5_conv3';

interface Model {
  cfg: VggConfig;
  conv: Map<string, { k: tf.Tensor4D; b: tf.Tensor1D }>;
  dense: { name: string; k: tf.Tensor2D; b: tf.Tensor1D }[];
  /** The benchmark image, NHWC. */
  x: tf.Tensor4D;
}

let model: Model | undefined;

export async function tfInit(threads: number): Promise<TfInfo> {
  setWasmPaths('/tfjs/');
  // TF.js caps its thread pool at navigator.hardwareConcurrency / 2 (tfjs-backend-wasm backend.cc,
  // which assumes 2 hyper-threads per core): on a 2-core machine that is 1 whatever is asked. Report
  // enough cores for the count asked for, so TF.js gets the same threads as onnxruntime-web.
  const nav = page.navigator;
  if (nav.hardwareConcurrency < 2 * threads) {
    Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  }
  setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js: the wasm backend failed to start');
  await tf.ready();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const multithread = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  return { backend: tf.getBackend(), version: tf.version.tfjs, threads: getThreadsCount(), simd, multithread };
}

export async function tfLoad(r: TfLoadRequest): Promise<number> {
  tfDispose();
  const t0 = performance.now();
  const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(r.manifestUrl))) as BundleManifest;
  const files = new Map<string, Uint8Array>();
  const names = manifest.parts.flatMap((p) => p.shards.map((s) => s.file));
  const bytes = await Promise.all(names.map((f) => fetchBytes(r.shardBase + f)));
  names.forEach((f, i) => files.set(f, bytes[i]!));
  const w = readWeights(manifest, files);
  files.clear();
  const cfg = manifest.architecture;
  const m: Model = {
    cfg,
    conv: new Map(),
    dense: [],
    x: tf.tidy(() => nhwc(benchImage(cfg.inputSize), cfg.inputSize)),
  };
  for (const l of layers(cfg)) {
    if (l.kind === 'pool') continue;
    const lw = w.get(l.name)!;
    const b = tf.tensor1d(lw.bias);
    if (l.kind === 'conv') {
      const k = tf.tidy(() => tf.tensor4d(lw.kernel, [l.cout, l.cin, 3, 3]).transpose<tf.Tensor4D>([2, 3, 1, 0]));
      m.conv.set(l.name, { k, b });
    } else {
      const k = tf.tidy(() => tf.tensor2d(lw.kernel, [l.units, l.inputs]).transpose<tf.Tensor2D>());
      m.dense.push({ name: l.name, k, b });
    }
    w.delete(l.name);
  }
  model = m;
  return performance.now() - t0;
}

function nhwc(image: Float32Array, S: number): tf.Tensor4D {
  return tf.tensor4d(image, [1, 3, S, S]).transpose<tf.Tensor4D>([0, 2, 3, 1]);
}

/** The conv base up to and including `until` (a conv layer's output is post-ReLU, as in Keras). */
function base(m: Model, until: string): tf.Tensor4D {
  let h = m.x;
  for (const l of layers(m.cfg)) {
    if (l.kind === 'dense') break;
    if (l.kind === 'conv') {
      const { k, b } = m.conv.get(l.name)!;
      h = tf.fused.conv2d({ x: h, filter: k, strides: 1, pad: 'same', bias: b, activation: 'relu' });
    } else h = tf.maxPool(h, 2, 2, 'valid');
    if (l.name === until) break;
  }
  return h;
}

/** block5_conv3's output → block5_pool → fc1 (NCHW-order flatten) → fc2 → logits. */
function head(m: Model, a: tf.Tensor4D): tf.Tensor2D {
  let h: tf.Tensor2D = tf.maxPool(a, 2, 2, 'valid').transpose([0, 3, 1, 2]).reshape([1, -1]);
  for (const d of m.dense) {
    h = tf.fused.matMul({
      a: h,
      b: d.k,
      bias: d.b,
      activation: d.name === 'predictions' ? 'linear' : 'relu',
    }) as tf.Tensor2D;
  }
  return h;
}

async function forward(m: Model): Promise<Omit<RunResult, 'samples'>> {
  const [probs, values, indices] = tf.tidy(() => {
    const probs = tf.softmax(head(m, base(m, CAM_LAYER)));
    const { values, indices } = tf.topk(probs, 5);
    return [probs, values, indices];
  });
  const [, v, i] = await Promise.all([probs.data(), values.data(), indices.data()]);
  tf.dispose([probs, values, indices]);
  return { top: Array.from(i), topValues: Array.from(v) };
}

async function gradcam(m: Model): Promise<Omit<RunResult, 'samples'>> {
  const A = tf.tidy(() => base(m, CAM_LAYER));
  let logits: tf.Tensor2D | undefined;
  const score = (a: tf.Tensor): tf.Scalar => {
    const l = head(m, a as tf.Tensor4D);
    logits = tf.keep(l);
    // The class: the top-1, picked from this very forward pass (the book's argmax inside the tape).
    const cls = l.argMax(1).dataSync()[0]!;
    return tf.sum(tf.mul(l, tf.oneHot([cls], m.cfg.classes).toFloat()));
  };
  const g = tf.grad(score)(A) as tf.Tensor4D;
  const [probs, values, indices, heat] = tf.tidy(() => {
    const probs = tf.softmax(logits!);
    const { values, indices } = tf.topk(probs, 5);
    const alpha = tf.mean(g, [0, 1, 2]);
    const cam = tf.relu(tf.mean(tf.mul(A, alpha), 3)).squeeze([0]);
    const max = cam.max();
    return [probs, values, indices, tf.div(cam, tf.where(tf.greater(max, 0), max, tf.onesLike(max)))];
  });
  const [, v, i, h] = await Promise.all([probs.data(), values.data(), indices.data(), heat.data()]);
  tf.dispose([A, g, logits!, probs, values, indices, heat]);
  return { top: Array.from(i), topValues: Array.from(v), heatmap: Array.from(h) };
}

export async function tfRun(r: TfRunRequest): Promise<RunResult> {
  const m = model;
  if (!m) throw new Error('no weights: call tfLoad first');
  const samples: number[] = [];
  let out: Omit<RunResult, 'samples'> | undefined;
  for (let i = 0; i < r.warmup + r.runs; i++) {
    const t = performance.now();
    out = r.gradcam ? await gradcam(m) : await forward(m);
    const ms = performance.now() - t;
    if (i >= r.warmup) samples.push(ms);
  }
  return { samples, ...out! };
}

export function tfDispose(): void {
  const m = model;
  model = undefined;
  if (!m) return;
  tf.dispose([m.x, ...[...m.conv.values()].flatMap((c) => [c.k, c.b]), ...m.dense.flatMap((d) => [d.k, d.b])]);
}
