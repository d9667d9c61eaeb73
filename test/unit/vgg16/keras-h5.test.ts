/**
 * Keras .h5 import: files written in Keras's real layout (both weight-naming styles, with and without
 * the classifier), imported, run through our ONNX graph, and compared with the same network built
 * from TensorFlow.js layers on the file's channels-last weights.
 */
import { describe, expect, it } from 'vitest';
import { readKerasH5 } from '../../../src/core/vgg16/keras-h5';
import type { VggConfig, VggWeights } from '../../../src/core/vgg16/spec';
import { convLayers, featureSize, TINY_VGG, VGG16, WeightsMismatchError } from '../../../src/core/vgg16/spec';
import { mulberry32, uniform } from '../../helpers/ort';
import { kerasForward, nchwToNhwc } from '../../helpers/tfjs-vgg';
import type { KerasH5Fixture } from '../../helpers/vgg-fixtures';
import { ourForward, randomWeights, toKerasLayout, writeKerasH5, writeZooOnnx } from '../../helpers/vgg-fixtures';
import { maxAbsDiff, nhwcToNchw, relMaxDiff } from './compare';

/** TINY_VGG at 96 × 96: block5_pool is 3 × 3 × 16, so fc1's (H, W, C) → (C, H, W) row permutation matters. */
const TINY96: VggConfig = { ...TINY_VGG, name: 'tiny-vgg-96', inputSize: 96 };

/** A caffe-range (BGR minus mean, about ±128) random image, NCHW. */
const image = (cfg: VggConfig, seed: number) => uniform(mulberry32(seed), 3 * cfg.inputSize ** 2, -120, 130);

function expectSameWeights(got: VggWeights, want: VggWeights, names: string[]) {
  expect([...got.keys()].sort()).toEqual([...names].sort());
  for (const n of names) {
    expect(got.get(n)!.kernel, `${n} kernel`).toEqual(want.get(n)!.kernel);
    expect(got.get(n)!.bias, `${n} bias`).toEqual(want.get(n)!.bias);
  }
}

const convNames = (cfg: VggConfig) => cfg.blocks.flatMap((b, i) => b.map((_, j) => `block${i + 1}_conv${j + 1}`));
const headNames = ['fc1', 'fc2', 'predictions'];

const cases: [string, VggConfig, KerasH5Fixture][] = [
  ['keras2 names, with top', TINY96, { style: 'keras2', includeTop: true }],
  ['keras2 names, notop', TINY96, { style: 'keras2', includeTop: false }],
  ['tf-keras names, with top', TINY96, { style: 'tf-keras', includeTop: true }],
  ['tf-keras names, notop', TINY96, { style: 'tf-keras', includeTop: false }],
  [
    'tf-keras full-model save (model_weights), with top, 32 × 32',
    TINY_VGG,
    { style: 'tf-keras', includeTop: true, fullModel: true },
  ],
  ['float64 datasets, with top', TINY96, { style: 'keras2', includeTop: true, dtype: '<d' }],
];

describe.each(cases)('Keras h5 round trip: %s', (_, cfg, fx) => {
  const S = cfg.inputSize;
  it('imports the exact weights, and our graph on them equals the TF.js Keras model', async () => {
    const w = randomWeights(cfg, 11);
    const bytes = await writeKerasH5(w, cfg, fx);
    const { weights, includeTop } = await readKerasH5(bytes, cfg);
    expect(includeTop).toBe(fx.includeTop);
    expectSameWeights(weights, w, fx.includeTop ? [...convNames(cfg), ...headNames] : convNames(cfg));

    const x = image(cfg, 5);
    const ours = await ourForward(cfg, weights, x, includeTop);
    const ref = await kerasForward(cfg, toKerasLayout(w, cfg), nchwToNhwc(x, 3, S, S), includeTop);
    const F = featureSize(cfg);
    const C = cfg.blocks[cfg.blocks.length - 1]!.at(-1)!;
    expect(ref.pool5Shape).toEqual([1, F, F, C]);
    expect(relMaxDiff(ours.pool5, nhwcToNchw(ref.pool5, C, F, F))).toBeLessThanOrEqual(1e-4);
    if (includeTop) {
      expect(relMaxDiff(ours.logits!, ref.logits!)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(ours.probs!, ref.probs!)).toBeLessThanOrEqual(1e-4);
      // Not a vacuous match: the classes are spread out.
      expect(Math.max(...ref.logits!) - Math.min(...ref.logits!)).toBeGreaterThan(1);
    }
  });
});

describe('Keras h5 import details', () => {
  it('imports a full-size VGG16 notop file (58.9 MB, the real shapes) exactly', async () => {
    // A cheap deterministic fill: normal() for 14.7 M values would take seconds.
    const w: VggWeights = new Map();
    for (const l of convLayers(VGG16)) {
      const k = new Float32Array(9 * l.cin * l.cout);
      for (let i = 0; i < k.length; i++) k[i] = (((i + l.cout) * 2654435761) >>> 0) / 2 ** 32 - 0.5;
      w.set(l.name, { kernel: k, bias: Float32Array.from({ length: l.cout }, (_, i) => i / l.cout) });
    }
    const bytes = await writeKerasH5(w, VGG16, { style: 'keras2', includeTop: false });
    const { weights, includeTop } = await readKerasH5(bytes);
    expect(includeTop).toBe(false);
    for (const [n, lw] of w) {
      const got = weights.get(n)!;
      expect(got.kernel.length, n).toBe(lw.kernel.length);
      let same = true;
      for (let i = 0; i < lw.kernel.length && same; i++) same = got.kernel[i] === lw.kernel[i];
      expect(same, `${n} kernel`).toBe(true);
      expect(got.bias, `${n} bias`).toEqual(lw.bias);
    }
    // The same file against the tiny config: rejected on the first layer, with both shapes named.
    await expect(readKerasH5(bytes, TINY_VGG)).rejects.toThrow(
      /layer 'block1_conv1': kernel 'block1_conv1_W_1:0' has shape \[3, 3, 3, 64\], expected \[3, 3, 3, 4\]/,
    );
  });

  it('reads big kernels in row chunks with the same result', async () => {
    const w = randomWeights(TINY96, 3);
    const bytes = await writeKerasH5(w, TINY96, { style: 'tf-keras', includeTop: true });
    const whole = await readKerasH5(bytes, TINY96);
    const chunked = await readKerasH5(bytes, TINY96, { chunkElements: 100 });
    for (const [n, lw] of whole.weights) expect(chunked.weights.get(n), n).toEqual(lw);
  });

  it('the fc1 permutation is not the identity at 96 × 96 (so the forward check above means something)', async () => {
    const w = randomWeights(TINY96, 4);
    const kw = toKerasLayout(w, TINY96);
    const fc1 = kw.get('fc1')!;
    // A plain (out, in) → (in, out) transpose of fc1 would differ from the file's (H, W, C)-ordered rows.
    const [IN, OUT] = fc1.kernelShape as [number, number];
    const plain = new Float32Array(IN * OUT);
    for (let o = 0; o < OUT; o++) for (let i = 0; i < IN; i++) plain[i * OUT + o] = w.get('fc1')!.kernel[o * IN + i]!;
    expect(plain).not.toEqual(fc1.kernel);
  });

  it('leaves no files behind in the in-memory file system', async () => {
    const h5wasm = (await import('h5wasm')).default;
    const { FS } = await h5wasm.ready;
    const before = FS.readdir('/').length;
    const bytes = await writeKerasH5(randomWeights(TINY_VGG, 1), TINY_VGG, { style: 'keras2', includeTop: false });
    await readKerasH5(bytes, TINY_VGG);
    await expect(readKerasH5(bytes.slice(0, 3000), TINY_VGG)).rejects.toThrow(WeightsMismatchError);
    expect(FS.readdir('/').length).toBe(before);
  });
});

describe('Keras h5 rejections', () => {
  const cfg = TINY_VGG;
  const w = randomWeights(cfg, 9);
  const reject = async (fx: KerasH5Fixture, message: RegExp) => {
    const bytes = await writeKerasH5(w, cfg, fx);
    const p = readKerasH5(bytes, cfg);
    await expect(p).rejects.toThrow(WeightsMismatchError);
    await expect(p).rejects.toThrow(message);
  };

  it('a conv layer missing', () =>
    reject(
      { style: 'keras2', includeTop: false, tamper: (n, k) => (n === 'block3_conv2' ? null : k) },
      /layer 'block3_conv2' is missing/,
    ));

  it('a conv kernel of the wrong shape', () =>
    reject(
      {
        style: 'tf-keras',
        includeTop: false,
        tamper: (n, k) =>
          n === 'block2_conv1' ? { ...k, kernel: new Float32Array(3 * 3 * 4 * 16), kernelShape: [3, 3, 4, 16] } : k,
      },
      /layer 'block2_conv1': kernel 'block2_conv1\/kernel:0' has shape \[3, 3, 4, 16\], expected \[3, 3, 4, 8\]/,
    ));

  it('a channels-first (Theano-ordering) kernel, with a hint', () =>
    reject(
      {
        style: 'keras2',
        includeTop: false,
        tamper: (n, k) => (n === 'block1_conv1' ? { ...k, kernelShape: [4, 3, 3, 3] } : k),
      },
      /block1_conv1.*\[4, 3, 3, 3\].*channels-first/,
    ));

  it('a bias of the wrong length', () =>
    reject(
      {
        style: 'keras2',
        includeTop: false,
        tamper: (n, k) => (n === 'block4_conv3' ? { ...k, bias: new Float32Array(7) } : k),
      },
      /layer 'block4_conv3': bias .* \[7\], expected \[8\]/,
    ));

  it('a dense kernel stored transposed, with a hint', () =>
    reject(
      {
        style: 'tf-keras',
        includeTop: true,
        tamper: (n, k) => (n === 'predictions' ? { ...k, kernelShape: [10, 32] } : k),
      },
      /layer 'predictions': kernel 'predictions\/kernel:0' has shape \[10, 32\], expected \[32, 10\] \(in, out\) — it is stored transposed/,
    ));

  it('fc1 expecting a different input size', () =>
    reject(
      {
        style: 'tf-keras',
        includeTop: true,
        tamper: (n, k) => (n === 'fc1' ? { ...k, kernel: new Float32Array(64 * 32), kernelShape: [64, 32] } : k),
      },
      /layer 'fc1': kernel 'fc1\/kernel:0' has shape \[64, 32\], expected \[16, 32\]/,
    ));

  it('an incomplete classifier', () =>
    reject(
      { style: 'keras2', includeTop: true, tamper: (n, k) => (n === 'fc2' ? null : k) },
      /classifier is incomplete: 'fc2' missing/,
    ));

  it('a weighted layer VGG16 does not have (VGG19-like block3_conv4)', () =>
    reject(
      {
        style: 'keras2',
        includeTop: false,
        extra: new Map([
          [
            'block3_conv4',
            { kernel: new Float32Array(3 * 3 * 8 * 8), kernelShape: [3, 3, 8, 8], bias: new Float32Array(8) },
          ],
        ]),
      },
      /layer 'block3_conv4' has weights but tiny-vgg has no such layer/,
    ));

  it('garbage bytes', async () => {
    const garbage = uniform(mulberry32(1), 1000).map((v) => v * 1000);
    const p = readKerasH5(new Uint8Array(garbage.buffer), cfg);
    await expect(p).rejects.toThrow(WeightsMismatchError);
    await expect(p).rejects.toThrow(/not a Keras .h5 weight file: no HDF5 signature/);
  });

  it('an ONNX file, with a hint', async () => {
    const p = readKerasH5(writeZooOnnx(w, cfg), cfg);
    await expect(p).rejects.toThrow(/no HDF5 signature.*ONNX importer/);
  });

  it('a truncated file names the HDF5 reason', async () => {
    const bytes = await writeKerasH5(w, cfg, { style: 'keras2', includeTop: true });
    const p = readKerasH5(bytes.slice(0, Math.floor(bytes.length / 2)), cfg);
    await expect(p).rejects.toThrow(WeightsMismatchError);
    await expect(p).rejects.toThrow(/not a readable HDF5 file: truncated file/);
  });

  it('an HDF5 file that is not a Keras weight file', async () => {
    const h5wasm = (await import('h5wasm')).default;
    const { FS } = await h5wasm.ready;
    const f = new h5wasm.File('/not-keras.h5', 'w');
    f.create_dataset({ name: 'x', data: new Float32Array(4), shape: [4], dtype: '<f' });
    f.close();
    const bytes = FS.readFile('/not-keras.h5');
    FS.unlink('/not-keras.h5');
    await expect(readKerasH5(bytes, cfg)).rejects.toThrow(/no 'layer_names' attribute/);
  });
});
