/**
 * The live view while a training runs (tiny architecture, in-memory store): its sessions are released
 * for the run, frames and the Inside screen refuse with a named error meanwhile, and after the run —
 * done, cancelled or failed — the live view opens again and shows what it showed before.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildBundle } from '../../../src/core/bundle/build';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { Engine } from '../../../workers/engine/engine';
import { LiveSessions } from '../../../workers/engine/live';
import type { AnalyzeResult, TrainingRequest } from '../../../workers/engine/protocol';
import '../../helpers/ort';
import { MemoryStore } from '../../helpers/memory-store';

const store = new MemoryStore();
const labels = Array.from({ length: TINY_VGG.classes }, (_, i) => `thing ${i}`);

const image = (seed: number, size = 40) => {
  const data = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i % 4 === 3 ? 255 : (i * seed * 37) >> 3) & 255;
  return { width: size, height: size, data };
};
const frame = image(11);
const request: TrainingRequest = {
  classes: ['a', 'b'],
  photos: Array.from({ length: 6 }, (_, i) => ({ id: `p${i}`, label: i % 2, image: image(i + 2) })),
  variants: 1,
  epochs: 2,
  batchSize: 4,
};

beforeAll(async () => {
  const common = { cfg: TINY_VGG, source: 'demo' as const, pretrained: false, labels, preprocessing: 'caffe' as const };
  store.add(await buildBundle({ id: 'tiny', weights: demoWeights(TINY_VGG, 3), quantization: 'int8', ...common }));
});

async function engine(): Promise<Engine> {
  const e = new Engine({ store });
  await e.init({ device: 'wasm' });
  await e.loadModel('tiny');
  return e;
}

function expectSameFrame(a: AnalyzeResult, b: AnalyzeResult): void {
  expect(a.top5.map((p) => p.index)).toEqual(b.top5.map((p) => p.index));
  a.top5.forEach((p, i) => expect(p.prob).toBeCloseTo(b.top5[i]!.prob, 5));
  expect(a.heatmap.dims).toEqual(b.heatmap.dims);
  const diff = Math.max(...Array.from(a.heatmap.data, (v, i) => Math.abs(v - b.heatmap.data[i]!)));
  expect(diff).toBeLessThan(1e-4);
}

describe('the live view during a training', () => {
  it('is released while train runs, refuses frames and insight with TrainingRunningError, and shows the same after', async () => {
    const e = await engine();
    const before = await e.analyze(frame);
    const release = vi.spyOn(LiveSessions.prototype, 'release');
    const during: unknown[] = [];
    let checked = false;
    const r = await e.train(request, (p) => {
      if (checked || p.phase !== 'train') return;
      checked = true;
      during.push(release.mock.calls.length);
      // Called while the run is in progress: each refuses at once, naming the training.
      during.push(e.analyze(frame).catch((err: unknown) => err));
      during.push(e.activations(frame, 'block1_conv1').catch((err: unknown) => err));
    });
    expect(r.status).toBe('done');
    expect(during[0]).toBeGreaterThan(0);
    for (const err of await Promise.all(during.slice(1))) {
      expect(err).toMatchObject({ name: 'TrainingRunningError', message: expect.stringMatching(/training/) });
    }
    release.mockRestore();
    expectSameFrame(await e.analyze(frame), before);
    expect((await e.activations(frame, 'block1_conv1')).dims[0]).toBe(TINY_VGG.blocks[0]![0]);
    await e.dispose();
  });

  it('opens again after a cancelled run and after a failed one', async () => {
    const e = await engine();
    const before = await e.analyze(frame);
    const cancelled = await e.train(request, (p) => {
      if (p.phase === 'train') void e.cancelTraining();
    });
    expect(cancelled.status).toBe('cancelled');
    expectSameFrame(await e.analyze(frame), before);
    // A photo with neither cached features nor pixels: the run fails during extraction.
    const broken = { ...request, photos: [...request.photos, { id: 'gone', label: 0 }] };
    await expect(e.train(broken)).rejects.toMatchObject({ name: 'MissingPhotoError' });
    expectSameFrame(await e.analyze(frame), before);
    await e.dispose();
  });

  it('opens the classifier in use again after a run, with the same results', async () => {
    const e = await engine();
    const first = await e.train(request);
    await e.useClassifier(first.classifier!);
    const before = await e.analyze(frame);
    expect(before.top5).toHaveLength(2);
    const again = await e.train({ ...request, seed: 2 });
    expect(again.status).toBe('done');
    expectSameFrame(await e.analyze(frame), before);
    await e.dispose();
  });
});
