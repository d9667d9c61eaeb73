/**
 * Full-size VGG16 (553 MB of float32) in timm's exact safetensors layout, written to a temporary file
 * and streamed from disk through the int8 converter: the bundle equals buildBundle's of the same
 * weights byte for byte, the converter never holds more than a few shards, and the engine on the
 * bundle agrees with independent references on a photo (onnxruntime-node on a graph built straight
 * from the file's tensors: same top-1; TensorFlow.js Grad-CAM: cosine ≥ 0.98).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../../src/cli/imageio';
import { buildBundle } from '../../../src/core/bundle/build';
import { MAX_SHARD_BYTES } from '../../../src/core/bundle/manifest';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { createSafetensorsConverter } from '../../../src/core/vgg16/safetensors';
import { VGG16 } from '../../../src/core/vgg16/spec';
import { resizeCenterCrop } from '../../../src/core/vision/resize';
import { Engine } from '../../../workers/engine/engine';
import { MemoryStore } from '../../helpers/memory-store';
import { vggTensors, writeSafetensorsFile } from '../../helpers/safetensors';
import {
  readSafetensorsWhole,
  referenceOnnx,
  torchPreprocess,
  weightsFromFile,
} from '../../helpers/safetensors-reference';
import { cosine, tfGradCam } from '../../helpers/tfjs-gradcam';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convlens-st-full-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('full-size VGG16 safetensors', () => {
  it('streams into the int8 bundle buildBundle makes, which agrees with onnxruntime-node and tf.grad', async () => {
    const path = join(dir, 'model.safetensors');
    const size = await writeSafetensorsFile(path, vggTensors(VGG16, demoWeights(VGG16, 3)));
    expect(size).toBeGreaterThan(553e6);

    const shards = new Map<string, Uint8Array>();
    const conv = createSafetensorsConverter({ id: 'st', quantization: 'int8', created: 'x' }, async (s) => {
      shards.set(s.file, s.bytes);
    });
    let held = 0;
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      await conv.write(chunk as Buffer);
      held = Math.max(held, conv.heldBytes);
    }
    const manifest = await conv.finish();
    console.info(`converter held at most ${(held / 1e6).toFixed(1)} MB while streaming ${(size / 1e6).toFixed(1)} MB`);
    expect(held).toBeLessThanOrEqual(3 * MAX_SHARD_BYTES);

    const st = readSafetensorsWhole(await readFile(path));
    const weights = weightsFromFile(st, VGG16.blocks);
    const want = await buildBundle({
      id: 'st',
      cfg: VGG16,
      weights,
      source: 'safetensors',
      pretrained: true,
      preprocessing: 'torch',
      labels: 'imagenet',
      quantization: 'int8',
      created: 'x',
    });
    expect(manifest).toEqual(want.manifest);
    for (const [f, bytes] of want.shards) expect(Buffer.compare(shards.get(f)!, bytes), f).toBe(0);
    want.shards.clear();

    const img = await readImage('test/fixtures/photos/misc/rocket.jpg');
    const input = torchPreprocess(resizeCenterCrop(img, 224));
    const session = await ortNode.InferenceSession.create(referenceOnnx(st, 224), { intraOpNumThreads: 2 });
    const logits = Object.values(await session.run({ x: new ortNode.Tensor('float32', input, [1, 3, 224, 224]) }))[0]!
      .data as Float32Array;
    await session.release();
    const top1 = logits.indexOf(Math.max(...logits));

    const engine = new Engine({ store: new MemoryStore().add({ manifest, shards }), maxThreads: () => 2 });
    await engine.loadModel('st');
    const ours = await engine.analyze(img);
    const same = ours.target.index === top1 ? ours : await engine.analyze(img, { classIndex: top1 });
    await engine.dispose();
    expect(ours.target.index).toBe(top1);
    const tf = await tfGradCam(VGG16, weights, input, top1, 'logit');
    expect(new Set(same.heatmap.data).size).toBeGreaterThan(10);
    expect(cosine(same.heatmap.data, tf.heatmap)).toBeGreaterThanOrEqual(0.98);
  }, 900_000);
});
