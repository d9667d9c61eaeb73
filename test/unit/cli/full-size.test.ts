/**
 * Full-size VGG16 (138,357,544 parameters) through the CLI, fp32 and int8: build the demo bundle,
 * classify a real photo, and export the fused forward + Grad-CAM graph as ONE .onnx file that
 * onnxruntime-node (native, another runtime) runs to the same answer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main';
import { readImage } from '../../../src/cli/imageio';
import { resizeCenterCrop } from '../../../src/core/vision/resize';
import { toNchw } from '../../../src/core/vision/preprocess';
import { cosine } from '../../helpers/tfjs-gradcam';

const photo = 'test/fixtures/photos/misc/rocket.jpg';
let dir: string;

async function json(argv: string[]) {
  const out: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
  try {
    await main(argv);
  } finally {
    spy.mockRestore();
  }
  return out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convlens-full-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe.each(['int8', 'fp32'])('full-size VGG16 demo bundle, %s', (quant) => {
  const model = () => join(dir, `vgg16-${quant}`);
  let result: {
    top5: { index: number; prob: number }[];
    target: { index: number };
    heatmap: { dims: number[]; data: number[] };
  };

  it('builds and classifies a photo end to end', async () => {
    await json(['model', 'build', '--weights', 'demo', '--quant', quant, '--out', model()]);
    [result] = await json(['classify', photo, '--model', model(), '--json']);
    expect(result.top5).toHaveLength(5);
    expect(result.heatmap.dims).toEqual([14, 14]);
    expect(Math.max(...result.heatmap.data)).toBeCloseTo(1, 5);
    expect(result.heatmap.data.filter((v) => v > 0.05).length).toBeGreaterThan(3);
  }, 300_000);

  it('exports one standalone .onnx that onnxruntime-node runs to the same result', async () => {
    const file = join(dir, `export-${quant}.onnx`);
    await json(['model', 'export', '--model', model(), '--out', file]);
    const session = await ortNode.InferenceSession.create(file, { intraOpNumThreads: 2 });
    const input = toNchw(resizeCenterCrop(await readImage(photo), 224), 'caffe');
    const out = await session.run({
      image: new ortNode.Tensor('float32', input, [1, 3, 224, 224]),
      target: new ortNode.Tensor('int64', BigInt64Array.of(-1n), [1]),
    });
    expect(Number((out.target_index!.data as BigInt64Array)[0])).toBe(result.target.index);
    expect(Array.from(out.top_indices!.data as BigInt64Array, Number)).toEqual(result.top5.map((p) => p.index));
    expect(cosine(out.heatmap!.data as Float32Array, result.heatmap.data)).toBeGreaterThan(0.999);
    await session.release();
  }, 300_000);
});
