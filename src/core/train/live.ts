/**
 * A trained classifier in the live graph: its head is attached to the base through
 * buildAnalyzeGraph's `head` hook, and its fine-tuned block5 weights (if any) replace the bundle's,
 * so top-k and Grad-CAM of the custom classes come from the same fused forward + backward run.
 */
import type { AnalyzeGraphOptions, HeadBuilder } from '../graphs/analyze';
import type { GraphBuilder } from '../onnx/builder';
import type { WeightRef } from '../vgg16/graph';
import type { VggConfig } from '../vgg16/spec';
import type { Classifier } from './classifier';
import { classifierModel } from './classifier';
import { lastBlockTrunk } from './graphs';
import { headLogits, standardise } from './heads';

/** Grad-CAM's layer for custom classifiers: block5_conv3, standardised (x − μ)·s as the head sees it. */
export const CAM_LAYER = 'classifier_cam_layer';

const PREFIX = 'classifier/';

function declare(b: GraphBuilder, c: Classifier, name: string, dims: number[]): string {
  const init = `${PREFIX}${name}`;
  if (!b.graph.initializers.has(init)) b.initializer({ name: init, dtype: 'float32', dims, data: c.weights[name]! });
  return init;
}

/** The options of buildAnalyzeGraph (minus winograd/score choices) for a classifier on a base. */
export function classifierAnalyzeOptions(
  c: Classifier,
  cfg: VggConfig,
  baseWeights: (b: GraphBuilder) => WeightRef,
): Pick<AnalyzeGraphOptions, 'cfg' | 'weights' | 'head' | 'classes' | 'topK' | 'camLayer'> {
  const model = classifierModel(c.manifest, cfg);
  const dims = new Map(c.manifest.tensors.map((t) => [t.name, t.dims]));
  const weights = (b: GraphBuilder): WeightRef => {
    const base = baseWeights(b);
    return (layer, which) => {
      const name = `${layer}/${which}`;
      return c.manifest.fineTuned && dims.has(name) ? declare(b, c, name, dims.get(name)!) : base(layer, which);
    };
  };
  const last = lastBlockTrunk(cfg, c.manifest.base.inputSize).layers.at(-1)!.name;
  const head: HeadBuilder = (b, acts) => {
    const param = (name: string) => declare(b, c, name, dims.get(name)!);
    // Standardise block5_conv3 and pool after: the same function as pooling then standardising (the
    // per-channel affine has s > 0, so it commutes with max), but Grad-CAM can then use the CENTRED
    // activations, A − μ (CAM_LAYER). With raw A ≥ 0, the evidence of a class whose photos light the
    // features LESS than average is negative everywhere, and ReLU blanks its map; random demo
    // features share one dominant direction, which would blank many of the maps.
    const z = standardise(b, acts.get(last)!, param);
    acts.set(CAM_LAYER, z);
    const pooled = b.maxPool(z, { kernel_shape: [2, 2], strides: [2, 2] }, 'head_pool');
    const logits = headLogits(b, model.head, pooled, param, undefined, true);
    // Centred logits z − mean(z): the same softmax and top-k (softmax ignores a per-row shift), and the
    // Grad-CAM of a class weighs its evidence against the other classes', not a common mode.
    return b.sub(logits, b.reduce('ReduceMean', logits, [1], true), 'head_centred_logits');
  };
  const n = c.manifest.classes.length;
  return {
    cfg: { ...cfg, inputSize: c.manifest.base.inputSize },
    weights,
    head,
    classes: n,
    topK: Math.min(5, n),
    camLayer: CAM_LAYER,
  };
}
