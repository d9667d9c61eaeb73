/**
 * End to end on a VGG-shaped net (TINY_VGG: 13 convs, 5 max-pools, 3 dense layers): the logits'
 * gradient w.r.t. the image and w.r.t. the fine-tuning path (block5 conv kernels, dense kernels)
 * against finite differences. Those weights are graph inputs so FD can perturb them; the frozen
 * blocks 1–4 are inline initializers (inlineWeights), as in the app.
 */
import { describe, expect, it } from 'vitest';
import type { GraphBuilder } from '../../../src/core/onnx/builder';
import type { WeightRef } from '../../../src/core/vgg16/graph';
import { imagenetHead, inlineWeights, vggBase } from '../../../src/core/vgg16/graph';
import type { LayerWeights } from '../../../src/core/vgg16/spec';
import { kernelDims, layers, TINY_VGG } from '../../../src/core/vgg16/spec';
import { gradcheck } from '../../helpers/gradcheck';
import type { FloatFeeds } from '../../helpers/ort';
import { mulberry32, normal, uniform } from '../../helpers/ort';

const cfg = TINY_VGG;
const TRAINED = ['block5_conv1', 'block5_conv2', 'block5_conv3', 'fc1', 'fc2', 'predictions'];

/** He-scaled kernels, small biases, one seeded stream. */
function heWeights(seed: number): Map<string, LayerWeights> {
  const rng = mulberry32(seed);
  const w = new Map<string, LayerWeights>();
  for (const l of layers(cfg)) {
    if (l.kind === 'pool') continue;
    const k = kernelDims(l);
    const n = k.reduce((p, q) => p * q, 1);
    w.set(l.name, { kernel: normal(rng, n, Math.sqrt(2 / (n / k[0]!))), bias: uniform(rng, k[0]!, -0.05, 0.05) });
  }
  return w;
}

/** 3×3 convolution, pad 1, stride 1, then ReLU, in float64 (CHW, one image). */
function convRelu(
  x: Float64Array,
  cin: number,
  size: number,
  k: ArrayLike<number>,
  bias: ArrayLike<number>,
): Float64Array {
  const cout = bias.length;
  const y = new Float64Array(cout * size * size);
  for (let o = 0; o < cout; o++)
    for (let i = 0; i < size; i++)
      for (let j = 0; j < size; j++) {
        let s = bias[o]!;
        for (let c = 0; c < cin; c++)
          for (let di = 0; di < 3; di++) {
            const r = i + di - 1;
            if (r < 0 || r >= size) continue;
            for (let dj = 0; dj < 3; dj++) {
              const q = j + dj - 1;
              if (q >= 0 && q < size) s += k[((o * cin + c) * 3 + di) * 3 + dj]! * x[(c * size + r) * size + q]!;
            }
          }
        y[(o * size + i) * size + j] = Math.max(s, 0);
      }
  return y;
}

function maxPool2(x: Float64Array, c: number, size: number): Float64Array {
  const h = size / 2;
  const y = new Float64Array(c * h * h);
  for (let ch = 0; ch < c; ch++)
    for (let i = 0; i < h; i++)
      for (let j = 0; j < h; j++) {
        const at = (di: number, dj: number) => x[(ch * size + 2 * i + di) * size + 2 * j + dj]!;
        y[(ch * h + i) * h + j] = Math.max(at(0, 0), at(0, 1), at(1, 0), at(1, 1));
      }
  return y;
}

/** y = W·x + b, W stored (out, in) as Gemm with transB = 1 reads it. */
function dense(x: Float64Array, k: ArrayLike<number>, bias: ArrayLike<number>, relu: boolean): Float64Array {
  return Float64Array.from(bias, (b, o) => {
    let s = b;
    for (let i = 0; i < x.length; i++) s += k[o * x.length + i]! * x[i]!;
    return relu ? Math.max(s, 0) : s;
  });
}

interface Activation {
  h: Float64Array;
  channels: number;
  size: number;
}

/** Some layers of the same network in plain float64 JavaScript, sharing no code with the graph builder. */
function referenceLayers(x: Activation, names: string[], weight: (layer: string) => LayerWeights): Activation {
  let { h, channels, size } = x;
  for (const l of layers(cfg).filter((l) => names.includes(l.name))) {
    if (l.kind === 'conv') {
      h = convRelu(h, channels, size, weight(l.name).kernel, weight(l.name).bias);
      channels = l.cout;
    } else if (l.kind === 'pool') {
      h = maxPool2(h, channels, size);
      size /= 2;
    } else {
      h = dense(h, weight(l.name).kernel, weight(l.name).bias, l.name !== 'predictions');
      channels = l.units;
      size = 1;
    }
  }
  return { h, channels, size };
}

describe('gradient of a small VGG (TINY_VGG) vs finite differences', () => {
  const S = cfg.inputSize;
  const weights = heWeights(7);
  const image = uniform(mulberry32(11), 3 * S * S);
  const frozen = new Map([...weights].filter(([name]) => !TRAINED.includes(name)));
  const feeds: FloatFeeds = { image };
  for (const name of TRAINED) {
    feeds[`${name}/kernel`] = weights.get(name)!.kernel;
    feeds[`${name}/bias`] = weights.get(name)!.bias;
  }
  const dims = new Map(layers(cfg).flatMap((l) => (l.kind === 'pool' ? [] : [[l.name, kernelDims(l)] as const])));

  /** The logits; the trained layers' weights are graph inputs, the frozen ones inline initializers. */
  const build = (b: GraphBuilder): string => {
    const x = b.input('image', 'float32', [1, 3, S, S]);
    const inline = inlineWeights(b, cfg, frozen);
    const weight: WeightRef = (layer, which) => {
      if (!TRAINED.includes(layer)) return inline(layer, which);
      const k = dims.get(layer)!;
      return b.input(`${layer}/${which}`, 'float32', which === 'kernel' ? k : [k[0]!]);
    };
    const acts = vggBase(b, cfg, x, weight);
    return imagenetHead(b, cfg, acts.get('block5_pool')!, weight, acts);
  };

  // Behind 13 ReLUs and 5 max-pools, float32 FD has no good step for the image: its noise (≈ 6e-6/h
  // relative, one pixel) and the kinks crossed within ±h (almost every pixel at h = 1e-2) leave
  // errors of 1e-3 … 1e-2. So FD runs on a float64 reference of the same net (gradcheck first checks
  // it against the graph's forward) with a step small enough to cross no kink.
  const all = layers(cfg).map((l) => l.name);
  const cut = all.indexOf('block5_conv1');
  // The frozen blocks' output is reused while only trained weights change (most FD steps).
  let frozenOut: { image: Float32Array; out: Activation } | undefined;
  const reference = (f: FloatFeeds): Float64Array => {
    const img = f.image!;
    if (frozenOut?.image !== img) {
      const x = { h: Float64Array.from(img), channels: 3, size: S };
      frozenOut = { image: img, out: referenceLayers(x, all.slice(0, cut), (layer) => weights.get(layer)!) };
    }
    const trained = (layer: string) => ({ kernel: f[`${layer}/kernel`]!, bias: f[`${layer}/bias`]! });
    return referenceLayers(frozenOut.out, all.slice(cut), trained).h;
  };

  it('w.r.t. the input image and the fine-tuning path (block5 conv kernels, dense kernels)', async () => {
    const wrt = ['image', ...TRAINED.map((l) => `${l}/kernel`), 'block5_conv3/bias', 'predictions/bias'];
    const reports = await gradcheck(build, { wrt, feeds, reference, h: 1e-5 });
    expect(reports.map((r) => r.wrt)).toEqual(wrt);
  }, 30_000);
});
