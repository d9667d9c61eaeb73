/**
 * Class activation maps from a conv layer's output A (1, C, h, w) and the gradient g = ∂score/∂A,
 * all in-graph, so one session run gives the map. Each returns the map [h, w], ReLU'd and divided
 * by its max (an all-zero map stays zero).
 *
 *   Grad-CAM    (Selvaraju et al. 2017)   w_c = mean_ij g_cij;                cam = Σ_c w_c·A_c
 *   Grad-CAM++  (Chattopadhay et al. 2018) α_cij = g² / (2g² + (Σ_ab A_cab)·g³) (0 where g = 0),
 *                                          w_c = Σ_ij α_cij·relu(g_cij);      cam = Σ_c w_c·A_c
 *   Layer-CAM   (Jiang et al. 2021)       cam_ij = Σ_c relu(g_cij)·A_cij
 *
 * Grad-CAM++'s closed form for α assumes the explained score is exp(S) of the logit S, so its
 * second and third derivatives are powers of the first; with that, α needs only g (as in the paper
 * and pytorch-grad-cam). Grad-CAM here is the book's recipe (mean over channels; the max
 * normalisation makes mean and sum the same map); analyze.ts keeps its own copy for the default graph.
 */
import type { GraphBuilder } from '../onnx/builder';

export type CamMethod = 'gradcam' | 'gradcam++' | 'layercam';
export const CAM_METHODS: readonly CamMethod[] = ['gradcam', 'gradcam++', 'layercam'];

/** pytorch-grad-cam's ε in α's denominator. */
export const GRADCAM_PP_EPS = 1e-7;

export function isCamMethod(s: string): s is CamMethod {
  return (CAM_METHODS as readonly string[]).includes(s);
}

/** The map of `method` for A and its gradient g, both (1, C, h, w). Returns [h, w] in 0..1. */
export function camMap(b: GraphBuilder, A: string, g: string, method: CamMethod): string {
  let cam: string;
  switch (method) {
    case 'gradcam': {
      const w = b.reduce('ReduceMean', g, [2, 3], true);
      cam = b.reduce('ReduceMean', b.mul(A, w), [1], false);
      break;
    }
    case 'gradcam++': {
      const g2 = b.mul(g, g);
      const g3 = b.mul(g2, g);
      const sumA = b.reduce('ReduceSum', A, [2, 3], true);
      const denom = b.add(b.add(b.mul(g2, b.scalar(2)), b.mul(sumA, g3)), b.scalar(GRADCAM_PP_EPS));
      const alpha = b.where(b.equal(g, b.scalar(0)), b.scalar(0), b.div(g2, denom));
      const w = b.reduce('ReduceSum', b.mul(alpha, b.relu(g)), [2, 3], true);
      cam = b.reduce('ReduceSum', b.mul(A, w), [1], false);
      break;
    }
    case 'layercam':
      cam = b.reduce('ReduceSum', b.mul(b.relu(g), A), [1], false);
      break;
  }
  return normaliseMap(b, b.relu(cam));
}

/** (1, h, w) ≥ 0 → [h, w] divided by its max; an all-zero map stays zero instead of 0/0. */
function normaliseMap(b: GraphBuilder, cam: string): string {
  const max = b.reduce('ReduceMax', cam, [0, 1, 2], true);
  const safe = b.where(b.greater(max, b.scalar(0)), max, b.scalar(1));
  return b.squeeze(b.div(cam, safe), [0]);
}
