/**
 * The insight graphs, each generated once per key and run many times:
 *
 *   activations  image (1, 3, S, S) → the base up to a layer → that layer's output (1, C, H, W)
 *   ascent       pixels (N, 3, S, S), select (N, C), step [1], tv_weight [1] → ONE ascent step:
 *                  x = preprocess(pixels)  (a 1×1 Conv, so the gradient reaches pixel space)
 *                  score_n = Σ_c select_nc · mean_hw A_nchw        (A: the layer's output)
 *                  g = ∂Σ_n score_n / ∂pixels                     (the gradient generator)
 *                  t = ∂TV / ∂pixels, TV = Σ squared differences of neighbouring pixels
 *                  next = pixels + step · (g / (rms_n(g) + 1e-5) − tv_weight · t / (rms_n(t) + 1e-5))
 *                rms_n is per image (over C, H, W); with tv_weight = 0 this is the book's step exactly.
 *                Outputs next (N, 3, S, S) and score (N), the objective at the input pixels.
 */
import { backward } from '../autodiff/backward';
import { GraphBuilder } from '../onnx/builder';
import type { Graph } from '../onnx/ir';
import { readAttrs } from '../onnx/ir';
import type { WinogradOptions } from '../onnx/winograd';
import { winogradRewrite } from '../onnx/winograd';
import type { WeightRef } from '../vgg16/graph';
import { vggBase } from '../vgg16/graph';
import type { PreprocessMode, VggConfig } from '../vgg16/spec';
import { CAFFE_MEAN_BGR, TORCH_MEAN_RGB, TORCH_STD_RGB } from '../vision/preprocess';
import { findLayer } from './layers';

export const ACT_IO = { image: 'image', activation: 'activation' } as const;
export const ASCENT_IO = {
  pixels: 'pixels',
  select: 'select',
  step: 'step',
  tvWeight: 'tv_weight',
  next: 'next',
  score: 'score',
  /** Only with exposeGradient: ∂Σ score / ∂pixels, before normalisation (tests). */
  grad: 'grad',
} as const;

/** The book's ε in the RMS normalisation of the gradient. */
export const RMS_EPS = 1e-5;

interface Common {
  cfg: VggConfig;
  /** Declares the weights in the builder and names them (inlineWeights or a bundle's weightRefs). */
  weights: (b: GraphBuilder) => WeightRef;
  /** Input size (default the model's); any multiple of 2^(pools on the path) works for base-only graphs. */
  size?: number;
  /** Rewrite 3×3 convs as Winograd F(4×4, 3×3) (the engine turns it on for WASM). */
  winograd?: boolean | WinogradOptions;
}

/** Give a value a stable public name (an Identity node). */
function publish(b: GraphBuilder, value: string, name: string): string {
  b.graph.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: {}, name: `${name}_out` });
  b.graph.values.set(name, { ...b.graph.values.get(value)!, name });
  return b.output(name);
}

function finish(g: Graph, winograd: Common['winograd']): Graph {
  return winograd ? winogradRewrite(g, winograd === true ? {} : winograd) : g;
}

/** The base up to `layer` with that layer's output as the only output. */
export function buildActivationGraph(o: Common & { layer: string }): Graph {
  const size = o.size ?? o.cfg.inputSize;
  findLayer(o.cfg, o.layer, size);
  const b = new GraphBuilder('convlens-activations');
  const image = b.input(ACT_IO.image, 'float32', [1, 3, size, size]);
  const acts = vggBase(b, o.cfg, image, o.weights(b), o.layer);
  publish(b, acts.get(o.layer)!, ACT_IO.activation);
  return finish(b.graph, o.winograd);
}

/**
 * The preprocessing as a 1×1 Conv on RGB pixels (0..255): output plane o reads the RGB plane its
 * mode takes (caffe: B, G, R; torch: R, G, B), scaled by 1 / (range·std), minus mean / std.
 * The same numbers as vision/preprocess.ts, in a differentiable form.
 */
export function preprocessConv(b: GraphBuilder, pixels: string, mode: PreprocessMode): string {
  const w = new Float32Array(9);
  const bias = new Float32Array(3);
  for (let o = 0; o < 3; o++) {
    if (mode === 'caffe') {
      w[o * 3 + (2 - o)] = 1;
      bias[o] = -CAFFE_MEAN_BGR[o]!;
    } else {
      w[o * 3 + o] = 1 / (255 * TORCH_STD_RGB[o]!);
      bias[o] = -TORCH_MEAN_RGB[o]! / TORCH_STD_RGB[o]!;
    }
  }
  const W = b.constant({ dtype: 'float32', dims: [3, 3, 1, 1], data: w }, 'preprocess_w');
  const B = b.constant({ dtype: 'float32', dims: [3], data: bias }, 'preprocess_b');
  return b.conv(pixels, W, B, {}, 'preprocessed');
}

/** Per image (axis 0): g / (sqrt(mean over C, H, W of g²) + ε). */
function rmsNormalise(b: GraphBuilder, g: string): string {
  const rms = b.sqrt(b.reduce('ReduceMean', b.mul(g, g), [1, 2, 3], true));
  return b.div(g, b.add(rms, b.scalar(RMS_EPS)));
}

/** Σ over the batch of squared differences between vertically and horizontally adjacent pixels. */
function totalVariation(b: GraphBuilder, x: string, size: number): string {
  const dh = b.sub(b.slice(x, [1], [size], [2]), b.slice(x, [0], [size - 1], [2]));
  const dw = b.sub(b.slice(x, [1], [size], [3]), b.slice(x, [0], [size - 1], [3]));
  const sq = (d: string) => b.reduce('ReduceSumSquare', d, [0, 1, 2, 3], false);
  return b.add(sq(dh), sq(dw));
}

export interface AscentGraphOptions extends Common {
  layer: string;
  preprocessing: PreprocessMode;
  /** Also output the raw gradient (ASCENT_IO.grad). */
  exposeGradient?: boolean;
  /**
   * 'activation' (the book): the layer's output, post-ReLU for a conv. 'preactivation': a conv's
   * output before its ReLU, which still has a gradient where the ReLU output is 0 everywhere (a
   * filter "dead" on the start noise never moves under the book's objective). Pools: the output.
   */
  objective?: 'activation' | 'preactivation';
}

/** One gradient-ascent step for a batch of (image, filter) pairs; see the file comment. */
export function buildAscentGraph(o: AscentGraphOptions): Graph {
  const size = o.size ?? o.cfg.inputSize;
  const layer = findLayer(o.cfg, o.layer, size);
  const channels = layer.dims[0];
  const b = new GraphBuilder('convlens-ascent');
  const pixels = b.input(ASCENT_IO.pixels, 'float32', ['N', 3, size, size]);
  const select = b.input(ASCENT_IO.select, 'float32', ['N', channels]);
  const step = b.input(ASCENT_IO.step, 'float32', [1]);
  const tvWeight = b.input(ASCENT_IO.tvWeight, 'float32', [1]);
  const x = preprocessConv(b, pixels, o.preprocessing);
  const out = vggBase(b, o.cfg, x, o.weights(b), o.layer).get(o.layer)!;
  const producer = b.graph.nodes.find((n) => n.outputs[0] === out);
  const A = o.objective === 'preactivation' && producer?.op === 'Relu' ? producer.inputs[0]! : out;
  const means = b.reduce('ReduceMean', A, [2, 3], false);
  const score = b.reduce('ReduceSum', b.mul(means, select), [1], false);
  const total = b.reduce('ReduceSum', score, [0], false);
  const g = backward(b, [{ name: total }], [pixels]).get(pixels)!;
  const tv = totalVariation(b, pixels, size);
  const t = backward(b, [{ name: tv }], [pixels]).get(pixels)!;
  const dir = b.sub(rmsNormalise(b, g), b.mul(tvWeight, rmsNormalise(b, t)));
  publish(b, b.add(pixels, b.mul(step, dir)), ASCENT_IO.next);
  publish(b, score, ASCENT_IO.score);
  if (o.exposeGradient) publish(b, g, ASCENT_IO.grad);
  return finish(convTransposeAsConv(b.graph), o.winograd);
}

/**
 * Every ConvTranspose that is the input gradient of a stride-1 Conv (k×k kernel, pads p ≤ k − 1 on
 * every side) becomes the equivalent Conv with the kernel transposed (in ↔ out) and flipped
 * (rotated 180°), pads k − 1 − p: ConvTranspose(dy, W)[c] = Σ_o dy_o ⋆ rot180(W[o, c]). A 3×3 one
 * can then take the Winograd rewrite; the kernel's Transpose and Slice depend only on
 * initializers, which the runtime folds at load.
 */
export function convTransposeAsConv(g: Graph): Graph {
  const b = new GraphBuilder(g);
  const nodes = g.nodes;
  g.nodes = [];
  for (const n of nodes) {
    const w = n.inputs[1];
    const ws = w ? b.graph.values.get(w)?.shape : undefined;
    const k = ws?.[2];
    const at = readAttrs(n);
    const pads = at.ints('pads', [0, 0, 0, 0]);
    const eligible =
      n.op === 'ConvTranspose' &&
      n.inputs.length === 2 &&
      ws?.length === 4 &&
      typeof k === 'number' &&
      ws[3] === k &&
      at.int('group', 1) === 1 &&
      at.ints('strides', [1, 1]).every((s) => s === 1) &&
      at.ints('dilations', [1, 1]).every((d) => d === 1) &&
      at.ints('output_padding', [0, 0]).every((p) => p === 0) &&
      pads.length === 4 &&
      pads.every((p) => p === pads[0] && p <= k - 1);
    if (!eligible) {
      g.nodes.push(n);
      continue;
    }
    const p = k! - 1 - pads[0]!;
    const t = b.transpose(w!, [1, 0, 2, 3]);
    const flipped = k === 1 ? t : b.slice(t, [k! - 1, k! - 1], [-k! - 1, -k! - 1], [2, 3], [-1, -1]);
    g.nodes.push({
      op: 'Conv',
      name: n.name,
      inputs: [n.inputs[0]!, flipped],
      outputs: n.outputs,
      attrs: {
        kernel_shape: { type: 'ints', value: [k!, k!] },
        strides: { type: 'ints', value: [1, 1] },
        pads: { type: 'ints', value: [p, p, p, p] },
        dilations: { type: 'ints', value: [1, 1] },
      },
    });
  }
  return g;
}
