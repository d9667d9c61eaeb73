/**
 * The converted bundle against independent references on the same safetensors file (a small VGG in
 * timm's layout, 96-pixel input so fc1 is a real 3×3 conv over block5_pool): onnxruntime-node on an
 * ONNX graph built straight from the file's tensors (test/helpers/safetensors-reference.ts) for the
 * probabilities, TensorFlow.js tf.grad for Grad-CAM. fp32: top-5 probabilities within 1e-3 relative,
 * heatmap cosine ≥ 0.999; int8: top-1 agreement and cosine ≥ 0.98, over the fixture photos.
 */
import { readFileSync } from 'node:fs';
import * as ortNode from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../../src/cli/imageio';
import type { BundleManifest, Quantization } from '../../../src/core/bundle/manifest';
import { createSafetensorsConverter } from '../../../src/core/vgg16/safetensors';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import type { RgbaImage } from '../../../src/core/vision/image';
import { resizeCenterCrop } from '../../../src/core/vision/resize';
import type { AnalyzeResult } from '../../../workers/engine/protocol';
import { Engine } from '../../../workers/engine/engine';
import { MemoryStore } from '../../helpers/memory-store';
import { mulberry32 } from '../../helpers/ort';
import { randomChunks, vggTensors, writeSafetensors } from '../../helpers/safetensors';
import {
  readSafetensorsWhole,
  referenceOnnx,
  torchPreprocess,
  weightsFromFile,
} from '../../helpers/safetensors-reference';
import { cosine, tfGradCam } from '../../helpers/tfjs-gradcam';
import { randomWeights } from '../../helpers/vgg-fixtures';

const cfg: VggConfig = { ...TINY_VGG, inputSize: 96 };
const photos: { path: string }[] = JSON.parse(readFileSync('test/fixtures/photos/index.json', 'utf8'));
const paths = [...photos.map((p) => `test/fixtures/photos/${p.path}`), 'test/fixtures/photos/misc/chelsea.png'];

interface Reference {
  probs: Float32Array;
  top1: number;
  input: Float32Array;
}

function softmax(logits: Float32Array): Float32Array {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

async function convert(file: Uint8Array, quantization: Quantization) {
  const shards = new Map<string, Uint8Array>();
  const conv = createSafetensorsConverter({ id: quantization, quantization, config: cfg }, async (s) => {
    shards.set(s.file, s.bytes);
  });
  for (const c of randomChunks(file, mulberry32(4), 5000)) await conv.write(c);
  const manifest: BundleManifest = await conv.finish();
  return { manifest, shards };
}

describe('safetensors → bundle against independent references', () => {
  const file = writeSafetensors(vggTensors(cfg, randomWeights(cfg, 8)));
  const st = readSafetensorsWhole(file);
  const weights = weightsFromFile(st, cfg.blocks);
  let images: RgbaImage[];
  const refs: Reference[] = [];
  const ours: Record<Quantization, AnalyzeResult[]> = { int8: [], fp32: [] };
  const sameClass: AnalyzeResult[] = [];

  beforeAll(async () => {
    images = await Promise.all(paths.map(readImage));
    const session = await ortNode.InferenceSession.create(referenceOnnx(st, cfg.inputSize));
    for (const img of images) {
      const input = torchPreprocess(resizeCenterCrop(img, cfg.inputSize));
      const out = await session.run({ x: new ortNode.Tensor('float32', input, [1, 3, cfg.inputSize, cfg.inputSize]) });
      const probs = softmax(Object.values(out)[0]!.data as Float32Array);
      refs.push({ probs, top1: probs.indexOf(Math.max(...probs)), input });
    }
    await session.release();
    for (const q of ['fp32', 'int8'] as const) {
      const engine = new Engine({ store: new MemoryStore().add(await convert(file, q)), maxThreads: () => 1 });
      await engine.loadModel(q);
      for (const [i, img] of images.entries()) {
        const r = await engine.analyze(img);
        ours[q].push(r);
        if (q === 'int8')
          sameClass.push(
            r.target.index === refs[i]!.top1 ? r : await engine.analyze(img, { classIndex: refs[i]!.top1 }),
          );
      }
      await engine.dispose();
    }
  }, 300_000);

  it('fp32: top-5 classes and probabilities match onnxruntime-node within 1e-3 relative', () => {
    for (const [i, r] of ours.fp32.entries()) {
      const ref = refs[i]!.probs;
      const order = [...ref.keys()].sort((a, b) => ref[b]! - ref[a]!).slice(0, 5);
      expect(
        r.top5.map((p) => p.index),
        paths[i],
      ).toEqual(order);
      for (const p of r.top5)
        expect(Math.abs(p.prob - ref[p.index]!) / ref[p.index]!, paths[i]).toBeLessThanOrEqual(1e-3);
    }
    // Not saturated: the runner-up keeps a real share on some photos, so probabilities are compared, not just 1 and 0.
    expect(ours.fp32.filter((r) => r.top5[1]!.prob > 0.01).length).toBeGreaterThan(3);
  });

  it('fp32: Grad-CAM heatmaps match TensorFlow.js tf.grad (cosine ≥ 0.999)', async () => {
    for (const [i, r] of ours.fp32.entries()) {
      const tf = await tfGradCam(cfg, weights, refs[i]!.input, r.target.index, 'logit');
      expect(new Set(r.heatmap.data).size, paths[i]).toBeGreaterThan(4);
      expect(cosine(r.heatmap.data, tf.heatmap), paths[i]).toBeGreaterThanOrEqual(0.999);
    }
  }, 120_000);

  it('int8: top-1 agrees with the reference and heatmaps of that class have cosine ≥ 0.98', async () => {
    const top1 = ours.int8.filter((r, i) => r.target.index === refs[i]!.top1).length;
    expect(top1).toBe(images.length);
    for (const [i, r] of sameClass.entries()) {
      const tf = await tfGradCam(cfg, weights, refs[i]!.input, refs[i]!.top1, 'logit');
      expect(cosine(r.heatmap.data, tf.heatmap), paths[i]).toBeGreaterThanOrEqual(0.98);
    }
  }, 120_000);
});
