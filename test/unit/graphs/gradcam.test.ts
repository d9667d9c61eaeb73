/**
 * The fused forward + Grad-CAM graph against an independent TensorFlow.js computation (tf.grad)
 * on the same weights: the bar is cosine ≥ 0.9999 in fp32, on full-size VGG16 too.
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyzeGraph, IO } from '../../../src/core/graphs/analyze';
import { encodeModel } from '../../../src/core/onnx/encode';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { inlineWeights } from '../../../src/core/vgg16/graph';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import { TINY_VGG, VGG16 } from '../../../src/core/vgg16/spec';
import { cosine, tfGradCam } from '../../helpers/tfjs-gradcam';

/** A caffe-range input image with structure (a bright blob on a ramp), not just noise. */
function testImage(S: number): Float32Array {
  const x = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < S; i++)
      for (let j = 0; j < S; j++) {
        const blob = Math.exp(-((i - S * 0.3) ** 2 + (j - S * 0.6) ** 2) / (2 * (S * 0.12) ** 2));
        x[(c * S + i) * S + j] = 120 * blob + (j / S) * 60 - 60 + 10 * Math.sin(i * 0.7 + c);
      }
  return x;
}

async function run(session: ort.InferenceSession, S: number, image: Float32Array, target: number) {
  const out = await session.run({
    [IO.image]: new ort.Tensor('float32', image, [1, 3, S, S]),
    [IO.target]: new ort.Tensor('int64', BigInt64Array.of(BigInt(target)), [1]),
  });
  return {
    probs: out[IO.probs]!.data as Float32Array,
    heatmap: out[IO.heatmap]!.data as Float32Array,
    cls: Number((out[IO.targetIndex]!.data as BigInt64Array)[0]),
    dims: out[IO.heatmap]!.dims,
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.each([
  ['tiny', TINY_VGG],
  ['full-size VGG16', VGG16],
] as [string, VggConfig][])('Grad-CAM of the fused graph vs TensorFlow.js tf.grad (%s)', (_, cfg) => {
  const S = cfg.inputSize;
  const weights = demoWeights(cfg, 7);
  const image = testImage(S);
  const sessions = new Map<string, ort.InferenceSession>();

  beforeAll(async () => {
    ort.env.wasm.numThreads = 2;
    for (const score of ['probability', 'logit'] as const) {
      const graph = buildAnalyzeGraph({ cfg, weights: (b) => inlineWeights(b, cfg, weights), score });
      sessions.set(score, await ort.InferenceSession.create(encodeModel(graph)));
    }
  }, 300_000);

  // With zero biases the demo net is positively homogeneous: logits scale with the image, so a
  // dim copy of the image keeps the softmax out of saturation, where ∂p/∂logit is not exactly 0.
  const dim = image.map((v) => v * 0.002);
  const cases = [
    ['logit', image],
    ['probability', image],
    ['probability', dim],
  ] as const;
  for (const [score, img] of cases) {
    it(`top-1 class, score = ${score}, ${img === dim ? 'unsaturated softmax' : 'plain image'}`, async () => {
      const ours = await run(sessions.get(score)!, S, img, -1);
      const ref = await tfGradCam(cfg, weights, img, -1, score);
      expect(ours.dims).toEqual([S / 16, S / 16]);
      expect(ours.cls).toBe(ref.cls);
      expect(maxAbsDiff(ours.probs, ref.probs)).toBeLessThan(1e-4);
      if (score === 'probability' && Math.max(...ref.probs) === 1) {
        // Saturated softmax: ∂p/∂logit is exactly 0 in float32 and both maps are blank.
        expect(Math.max(...ours.heatmap)).toBe(0);
        expect(Math.max(...ref.heatmap)).toBe(0);
        return;
      }
      if (img === dim) expect(Math.max(...ref.probs)).toBeLessThan(0.999);
      // A heatmap that is all zeros would match trivially: require structure first.
      expect(Math.max(...ours.heatmap)).toBeCloseTo(1, 6);
      expect(ours.heatmap.filter((v) => v > 0).length).toBeGreaterThan(1);
      expect(cosine(ours.heatmap, ref.heatmap)).toBeGreaterThanOrEqual(0.9999);
    }, 300_000);
  }

  it('a requested class gets its own heatmap', async () => {
    const top = await run(sessions.get('logit')!, S, image, -1);
    const other = (top.cls + 3) % cfg.classes;
    const ours = await run(sessions.get('logit')!, S, image, other);
    const ref = await tfGradCam(cfg, weights, image, other, 'logit');
    expect(ours.cls).toBe(other);
    // A class with no positive evidence has an all-zero map in both; otherwise the maps must agree.
    if (Math.max(...ref.heatmap) === 0) expect(Math.max(...ours.heatmap)).toBe(0);
    else expect(cosine(ours.heatmap, ref.heatmap)).toBeGreaterThanOrEqual(0.9999);
  }, 300_000);
});
