/**
 * Which sessions a training call keeps (tiny architecture): the conv base's feature session stays for
 * head training and for later extraction, and goes before a fine-tuning call builds its graphs, so that
 * they reuse its memory (onnxruntime's WASM heap only grows); a later call that needs new features
 * builds it again.
 */
import { describe, expect, it } from 'vitest';
import { readImage } from '../../../src/cli/imageio';
import { buildBundle } from '../../../src/core/bundle/build';
import { loadBundle } from '../../../src/core/bundle/load';
import { baseModelHash } from '../../../src/core/train/classifier';
import { MemoryFeatureCache } from '../../../src/core/train/features';
import { ortRuntime } from '../../../workers/engine/sessions';
import type { TrainRequest } from '../../../src/core/train/request';
import type { GraphRuntime } from '../../../src/core/runtime';
import { Trainer } from '../../../src/core/train/trainer';
import { resizeCenterCrop } from '../../../src/core/vision/resize';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import '../../helpers/ort';
import { MemoryStore } from '../../helpers/memory-store';

/** ortRuntime, logging `create <graph name>` and `release <graph name>`. */
function recording(log: string[]): GraphRuntime {
  const inner = ortRuntime(['wasm']);
  return {
    async create(graph, options) {
      log.push(`create ${graph.name}`);
      const s = await inner.create(graph, options);
      return {
        run: (feeds) => s.run(feeds),
        release: async () => {
          log.push(`release ${graph.name}`);
          await s.release();
        },
      };
    },
  };
}

const FILES = [
  ['chessboard/left01.jpg', 'chessboard/left02.jpg', 'chessboard/left03.jpg'],
  ['grass/grass_r0c0.png', 'grass/grass_r0c1.png', 'grass/grass_r0c2.png'],
];

describe('Trainer sessions', () => {
  it('releases the feature session before fine-tuning, and builds it again for new photos', async () => {
    const bundle = await buildBundle({
      id: 'tiny',
      cfg: TINY_VGG,
      weights: demoWeights(TINY_VGG, 3),
      source: 'demo',
      pretrained: false,
      labels: Array.from({ length: TINY_VGG.classes }, (_, i) => `thing ${i}`),
      preprocessing: 'caffe',
      quantization: 'int8',
    });
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'tiny', ['base']);
    const base = { manifest, files, hash: await baseModelHash(manifest) };
    const photos = await Promise.all(
      FILES.flatMap((list, label) =>
        list.map(async (f) => ({
          id: f,
          label,
          image: resizeCenterCrop(await readImage(`test/fixtures/photos/${f}`), 32),
        })),
      ),
    );
    const log: string[] = [];
    const trainer = new Trainer(recording(log), new MemoryFeatureCache());
    const req: TrainRequest = { classes: ['chessboard', 'grass'], photos: photos.slice(0, 4), variants: 1, epochs: 2 };
    const features = 'convlens-features';

    expect((await trainer.train(base, req)).status).toBe('done');
    expect((await trainer.train(base, { ...req, photos: photos.slice(0, 5) })).status).toBe('done');
    // Head training alone: one feature session, kept from one call to the next.
    expect(log.filter((l) => l.includes(features))).toEqual([`create ${features}`]);

    log.length = 0;
    const ft = await trainer.train(base, { ...req, photos: photos.slice(0, 5), fineTune: { epochs: 1 } });
    expect(ft.status).toBe('done');
    const at = (l: string) => log.indexOf(l);
    expect(at(`create ${features}`)).toBe(-1); // the earlier calls' session extracts what is missing
    expect(at(`release ${features}`)).toBeGreaterThanOrEqual(0);
    expect(at(`release ${features}`)).toBeLessThan(at('create convlens-finetune-step'));
    expect(at(`release ${features}`)).toBeLessThan(at('create convlens-finetune-eval'));

    log.length = 0;
    expect((await trainer.train(base, { ...req, photos })).status).toBe('done');
    expect(log).toContain(`create ${features}`);
    await trainer.dispose();
  });
});
