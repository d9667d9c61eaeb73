/**
 * The live graph: forward, top-5 and Grad-CAM in ONE session run. The backward part is generated
 * by the gradient generator inside the same graph, so the weights are shared and read once.
 *
 * Grad-CAM (the book's recipe): g = ∂score/∂A for A = a conv layer's output; channel weights
 * α_c = mean over (h, w) of g; cam = mean over c of α_c·A_c; ReLU; divide by the max. For VGG16's
 * block5_conv3 the channel weights come without the map g (cam-weights.ts).
 */
import { backward } from '../autodiff/backward';
import { gradcamWeights } from './cam-weights';
import { GraphBuilder } from '../onnx/builder';
import type { Graph } from '../onnx/ir';
import type { WinogradOptions } from '../onnx/winograd';
import { winogradRewrite } from '../onnx/winograd';
import type { Activations, WeightRef } from '../vgg16/graph';
import { imagenetHead, vggBase } from '../vgg16/graph';
import type { VggConfig } from '../vgg16/spec';
import type { CamMethod } from '../insight/cam';
import { camMap } from '../insight/cam';

/** Builds the classifier head on the base's activations and returns its logits. */
export type HeadBuilder = (b: GraphBuilder, acts: Activations, weight: WeightRef) => string;

export const imagenet =
  (cfg: VggConfig): HeadBuilder =>
  (b, acts, weight) =>
    imagenetHead(b, cfg, acts.get('block5_pool')!, weight, acts);

export interface AnalyzeGraphOptions {
  cfg: VggConfig;
  /** Declares the weights in the builder (inline or as a bundle's external data) and names them. */
  weights: (b: GraphBuilder) => WeightRef;
  /** Default: the ImageNet head. */
  head?: HeadBuilder;
  classes?: number;
  /** The conv layer whose output Grad-CAM explains (default block5_conv3, as the book). */
  camLayer?: string;
  /** Which map: Grad-CAM (default, the book's recipe), Grad-CAM++ or Layer-CAM (src/core/insight/cam.ts). */
  cam?: CamMethod;
  /**
   * What is differentiated: the pre-softmax logit (default; the Grad-CAM paper's y^c) or the class
   * probability (the book's `model.output[:, c]`). The book's choice gives a blank map whenever the
   * softmax saturates (p_c = 1 in float32 makes ∂p_c/∂logits exactly 0), which random demo weights
   * and confident real predictions both do; the logit keeps the recipe's maths and never vanishes.
   */
  score?: 'probability' | 'logit';
  /** Leave the backward out (forward + top-5 only), e.g. for the benchmark's forward row. */
  withCam?: boolean;
  topK?: number;
  /**
   * Rewrite the 3×3 convolutions as Winograd F(4×4, 3×3) (4× fewer multiplies). About 2× faster on
   * onnxruntime-web's WASM backend, slower on native x86 kernels: the engine turns it on for WASM.
   */
  winograd?: boolean | WinogradOptions;
  /**
   * Grad-CAM's channel weights through the dense layer after the pool when the graph has one
   * (src/core/graphs/cam-weights.ts; exact, and skips fc1's transposed product). Default true;
   * false computes the full gradient map first (the tests' reference).
   */
  camShortcut?: boolean;
}

/** Names of the live graph's inputs and outputs. */
export const IO = {
  image: 'image',
  /** int64 [1]: the class whose heatmap to compute; −1 means the top-1 class. */
  target: 'target',
  probs: 'probs',
  topValues: 'top_values',
  topIndices: 'top_indices',
  targetIndex: 'target_index',
  heatmap: 'heatmap',
} as const;

export function buildAnalyzeGraph(o: AnalyzeGraphOptions): Graph {
  const { cfg, camLayer = 'block5_conv3', score = 'logit', withCam = true, topK = 5 } = o;
  const classes = o.classes ?? cfg.classes;
  let b = new GraphBuilder('convlens-analyze');
  const image = b.input(IO.image, 'float32', [1, 3, cfg.inputSize, cfg.inputSize]);
  const weight = o.weights(b);
  const acts = vggBase(b, cfg, image, weight);
  const logits = (o.head ?? imagenet(cfg))(b, acts, weight);
  const probs = b.softmax(logits, 1);
  b.output(rename(b, probs, IO.probs));
  const [tv, ti] = b.topK(probs, Math.min(topK, classes), 1);
  b.output(rename(b, tv, IO.topValues));
  b.output(rename(b, ti, IO.topIndices));
  // The rewrite keeps every value name, so the backward below connects to the rewritten forward.
  if (o.winograd) b = new GraphBuilder(winogradRewrite(b.graph, o.winograd === true ? {} : o.winograd));
  if (!withCam) return b.graph;

  const target = b.input(IO.target, 'int64', [1]);
  const top1 = b.argMax(logits, 1, false);
  const cls = b.where(b.less(target, b.scalar(0, 'int64')), top1, target);
  b.output(rename(b, cls, IO.targetIndex));
  const classIds = b.constant(
    { dtype: 'int64', dims: [classes], data: BigInt64Array.from({ length: classes }, (_, i) => BigInt(i)) },
    'class_ids',
  );
  const onehot = b.cast(b.equal(b.unsqueeze(cls, [1]), classIds), 'float32');

  const A = acts.get(camLayer);
  if (!A) throw new Error(`unknown conv layer '${camLayer}'`);
  const scored = score === 'logit' ? logits : probs;
  const targets = [{ name: scored, seed: onehot }];
  const heat =
    (o.cam ?? 'gradcam') === 'gradcam'
      ? camFromWeights(b, A, gradcamWeights(b, A, targets, o.camShortcut ?? true))
      : camMap(b, A, backward(b, targets, [A]).get(A)!, o.cam!);
  b.output(rename(b, heat, IO.heatmap));
  return b.graph;
}

/** α_c = mean_hw(g); cam = ReLU(mean_c(α_c·A_c)) / max. Returns [h, w]. */
export function camFromGradient(b: GraphBuilder, A: string, grad: string): string {
  return camFromWeights(b, A, b.reduce('ReduceMean', grad, [2, 3], true));
}

/** cam = ReLU(mean_c(α_c·A_c)) / max for channel weights α [1, C, 1, 1]. Returns [h, w]. */
export function camFromWeights(b: GraphBuilder, A: string, alpha: string): string {
  const cam = b.relu(b.reduce('ReduceMean', b.mul(A, alpha), [1], false));
  const max = b.reduce('ReduceMax', cam, [0, 1, 2], true);
  // An all-zero map stays zero instead of 0/0 = NaN.
  const safe = b.where(b.greater(max, b.scalar(0)), max, b.scalar(1));
  return b.squeeze(b.div(cam, safe), [0]);
}

/** Give a value a stable public name (an Identity node). */
function rename(b: GraphBuilder, value: string, name: string): string {
  b.graph.nodes.push({ op: 'Identity', inputs: [value], outputs: [name], attrs: {}, name: `${name}_out` });
  b.graph.values.set(name, { ...b.graph.values.get(value)!, name });
  return name;
}
