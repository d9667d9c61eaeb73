/**
 * Grad-CAM, Grad-CAM++ and Layer-CAM from the generated graph (one run, any conv layer, ImageNet
 * head or a custom head) against an independent computation: TensorFlow.js tf.grad for the
 * gradient, the formulas in plain float64 loops (tf-cam.ts).
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HeadBuilder } from '../../../src/core/graphs/analyze';
import { buildAnalyzeGraph, IO } from '../../../src/core/graphs/analyze';
import type { CamMethod } from '../../../src/core/insight';
import { CAM_METHODS } from '../../../src/core/insight';
import { encodeModel } from '../../../src/core/onnx/encode';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { inlineWeights } from '../../../src/core/vgg16/graph';
import type { VggConfig, VggWeights } from '../../../src/core/vgg16/spec';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { cosine } from '../../helpers/tfjs-gradcam';
import type { GapHead } from './tf-cam';
import { camReference, tfLayerGradient } from './tf-cam';

ort.env.wasm.numThreads = 1;

/** TINY_VGG at 64 px, so block5_conv3's map is 4×4 and block3_conv2's 16×16. */
const cfg: VggConfig = { ...TINY_VGG, name: 'tiny-64', inputSize: 64 };
const S = cfg.inputSize;

/** Demo kernels with small non-zero biases (so the net is not positively homogeneous). */
function weightsWithBias(): VggWeights {
  const w = demoWeights(cfg, 11);
  let k = 0;
  for (const lw of w.values()) lw.bias = lw.bias.map(() => 0.02 * Math.sin(k++ * 1.7));
  return w;
}

function testImage(): Float32Array {
  const x = new Float32Array(3 * S * S);
  for (let c = 0; c < 3; c++)
    for (let i = 0; i < S; i++)
      for (let j = 0; j < S; j++) {
        const blob = Math.exp(-((i - S * 0.35) ** 2 + (j - S * 0.6) ** 2) / (2 * (S * 0.12) ** 2));
        x[(c * S + i) * S + j] = 110 * blob + (j / S) * 50 - 50 + 12 * Math.sin(i * 0.9 + 2 * c);
      }
  return x;
}

const gapHead: GapHead = (() => {
  const classes = 6;
  const C = 16;
  return {
    layer: 'block5_conv3',
    classes,
    kernel: Float32Array.from({ length: classes * C }, (_, i) => Math.sin(i * 0.77) * 0.5),
    bias: Float32Array.from({ length: classes }, (_, i) => 0.1 * i),
  };
})();

/** The same GAP head in the graph, as a custom classifier would attach it. */
const gapHeadBuilder: HeadBuilder = (b, acts) => {
  const pooled = b.flatten(b.globalAveragePool(acts.get(gapHead.layer)!), 1);
  const k = b.constant({ dtype: 'float32', dims: [gapHead.classes, 16], data: gapHead.kernel }, 'gap_kernel');
  const bias = b.constant({ dtype: 'float32', dims: [gapHead.classes], data: gapHead.bias }, 'gap_bias');
  return b.gemm(pooled, k, bias, { transB: 1 });
};

describe('CAM variants vs tf.grad + the formulas in plain JS', () => {
  const w = weightsWithBias();
  const image = testImage();

  async function camOf(method: CamMethod, layer: string, target: number, custom: boolean) {
    const g = buildAnalyzeGraph({
      cfg,
      weights: (b) => inlineWeights(b, cfg, w),
      camLayer: layer,
      cam: method,
      ...(custom ? { head: gapHeadBuilder, classes: gapHead.classes } : {}),
    });
    const s = await ort.InferenceSession.create(encodeModel(g));
    const out = await s.run({
      [IO.image]: new ort.Tensor('float32', image, [1, 3, S, S]),
      [IO.target]: new ort.Tensor('int64', BigInt64Array.of(BigInt(target)), [1]),
    });
    await s.release();
    return {
      heat: out[IO.heatmap]!.data as Float32Array,
      dims: out[IO.heatmap]!.dims,
      cls: Number((out[IO.targetIndex]!.data as BigInt64Array)[0]),
    };
  }

  beforeAll(() => void 0);

  const cases: [string, number, boolean][] = [
    ['block5_conv3', -1, false],
    ['block3_conv2', -1, false],
    ['block4_conv1', 3, false],
    ['block5_conv2', -1, true],
    ['block2_conv2', 2, true],
  ];
  for (const [layer, target, custom] of cases) {
    for (const method of CAM_METHODS) {
      it(`${method} at ${layer}, ${target < 0 ? 'top-1' : `class ${target}`}, ${custom ? 'custom GAP head' : 'ImageNet head'}`, async () => {
        const ours = await camOf(method, layer, target, custom);
        const ref = await tfLayerGradient(cfg, w, image, layer, target, custom ? gapHead : undefined);
        const want = camReference(ref.A, ref.g, ref.dims, method);
        expect(ours.cls).toBe(ref.cls);
        expect(ours.dims).toEqual([ref.dims[1], ref.dims[2]]);
        // A blank map would agree trivially: require structure.
        expect(Math.max(...ours.heat)).toBeCloseTo(1, 5);
        expect(want.filter((v) => v > 0.05).length).toBeGreaterThan(1);
        expect(cosine(ours.heat, want)).toBeGreaterThan(0.9999);
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(ours.heat[i]! - want[i]!));
        expect(worst).toBeLessThan(1e-3);
      });
    }
  }

  it('the three methods give different maps (the variants are not aliases)', async () => {
    const maps = await Promise.all(CAM_METHODS.map((m) => camOf(m, 'block3_conv2', -1, false)));
    expect(cosine(maps[0]!.heat, maps[1]!.heat)).toBeLessThan(0.9999);
    expect(cosine(maps[0]!.heat, maps[2]!.heat)).toBeLessThan(0.9999);
  });

  it("leaves the default graph exactly as it was (cam: 'gradcam' adds no node)", () => {
    const plain = buildAnalyzeGraph({ cfg, weights: (b) => inlineWeights(b, cfg, w) });
    const explicit = buildAnalyzeGraph({ cfg, weights: (b) => inlineWeights(b, cfg, w), cam: 'gradcam' });
    expect(explicit.nodes.map((n) => n.op)).toEqual(plain.nodes.map((n) => n.op));
    expect(Buffer.from(encodeModel(explicit)).equals(Buffer.from(encodeModel(plain)))).toBe(true);
  });
});
