/**
 * Training through the engine object, as the PWA's worker and the CLI use it (tiny architecture,
 * in-memory store): extract → train → use the classifier live → export/import; cancel and resume;
 * named errors. The full-size few-shot run is fewshot.test.ts.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { readImage } from '../../../src/cli/imageio';
import { buildBundle } from '../../../src/core/bundle/build';
import type { FeatureCache, FeatureKey } from '../../../src/core/train/features';
import { MemoryFeatureCache } from '../../../src/core/train/features';
import { decodeTrainState, encodeTrainState } from '../../../src/core/train/state';
import { baseModelHash, parseClassifier } from '../../../src/core/train/classifier';
import { resizeCenterCrop } from '../../../src/core/vision/resize';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { Engine } from '../../../workers/engine/engine';
import type { TrainingRequest, TrainProgress, TrainState } from '../../../workers/engine/protocol';
import '../../helpers/ort';
import { MemoryStore } from '../../helpers/memory-store';

/** Counts what the engine stores, to prove features are computed once. */
class CountingCache implements FeatureCache {
  readonly inner = new MemoryFeatureCache();
  puts = 0;
  get(k: FeatureKey) {
    return this.inner.get(k);
  }
  put(k: FeatureKey, d: Float32Array) {
    this.puts++;
    return this.inner.put(k, d);
  }
}

const store = new MemoryStore();
const labels = Array.from({ length: TINY_VGG.classes }, (_, i) => `thing ${i}`);
const CLASSES = ['chessboard', 'signs', 'grass'];
const FILES = [
  ['chessboard/left01.jpg', 'chessboard/left02.jpg', 'chessboard/left03.jpg', 'chessboard/left05.jpg'],
  ['signs/scenetext01.jpg', 'signs/scenetext02.jpg', 'signs/scenetext03.jpg', 'signs/scenetext04.jpg'],
  ['grass/grass_r0c0.png', 'grass/grass_r0c1.png', 'grass/grass_r0c2.png', 'grass/grass_r1c0.png'],
];
let request: TrainingRequest;

beforeAll(async () => {
  const common = { cfg: TINY_VGG, source: 'demo' as const, pretrained: false, labels, preprocessing: 'caffe' as const };
  store.add(await buildBundle({ id: 'tiny', weights: demoWeights(TINY_VGG, 3), quantization: 'int8', ...common }));
  store.add(await buildBundle({ id: 'other', weights: demoWeights(TINY_VGG, 4), quantization: 'int8', ...common }));
  const photos = await Promise.all(
    FILES.flatMap((files, label) =>
      // Small copies: the engine only needs 32 px, and the UI is told to send small photos too.
      files.map(async (f) => ({
        id: f,
        label,
        image: resizeCenterCrop(await readImage(`test/fixtures/photos/${f}`), 64),
      })),
    ),
  );
  request = {
    classes: CLASSES,
    photos,
    head: 'dense',
    optimizer: 'adam',
    lr: 1e-3,
    variants: 2,
    epochs: 6,
    patience: 100,
    batchSize: 4,
  };
});

async function engineFor(
  id = 'tiny',
  cache: FeatureCache = new MemoryFeatureCache(),
  onTrainCheckpoint?: (s: TrainState) => Promise<void>,
): Promise<Engine> {
  const e = new Engine({ store, featureCache: cache, onTrainCheckpoint, checkpointEveryMs: 0 });
  await e.init({ device: 'wasm' });
  await e.loadModel(id);
  return e;
}

describe('Engine training', () => {
  let bytes: Uint8Array;

  it('extracts features once, trains with typed progress, and reports validation', async () => {
    const cache = new CountingCache();
    const e = await engineFor('tiny', cache);
    const extracted: TrainProgress[] = [];
    // 12 photos × 2 variants (all are "training" photos here: extraction does not split).
    expect(await e.extractFeatures(request, (p) => extracted.push(p))).toBe(24);
    expect(cache.puts).toBe(24);
    expect(extracted.at(-1)).toEqual({ phase: 'extract', done: 24, total: 24 });

    const progress: TrainProgress[] = [];
    // Cached photos need no pixels.
    const r = await e.train({ ...request, photos: request.photos.map(({ id, label }) => ({ id, label })) }, (p) =>
      progress.push(p),
    );
    expect(cache.puts).toBe(24);
    expect(r.status).toBe('done');
    const epochs = progress.filter((p) => p.metrics).map((p) => p.metrics!);
    expect(epochs.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    for (const m of epochs) for (const v of [m.loss, m.acc, m.valLoss, m.valAcc]) expect(Number.isFinite(v)).toBe(true);
    const steps = progress.filter((p) => p.phase === 'train' && !p.metrics);
    expect(steps.at(-1)!.done).toBe(steps.at(-1)!.total);
    expect(steps.every((p, i) => i === 0 || p.done >= steps[i - 1]!.done)).toBe(true);
    // Stratified: one of four photos per class held out; the report covers them.
    expect(r.state!.split.val).toHaveLength(3);
    expect(new Set(r.state!.split.val.map((i) => request.photos[i]!.label))).toEqual(new Set([0, 1, 2]));
    const v = r.validation!;
    expect(v.on).toBe('validation');
    expect(v.confusion).toHaveLength(3);
    expect(v.confusion.flat().reduce((a, b) => a + b, 0)).toBe(3);
    expect(v.misclassified.length).toBe(3 - v.confusion.reduce((a, row, c) => a + row[c]!, 0));
    bytes = r.classifier!;
    expect(parseClassifier(bytes, { hash: await hashOf(), cfg: TINY_VGG }).manifest).toMatchObject({
      classes: CLASSES,
      base: { id: 'tiny', architecture: 'tiny-vgg', inputSize: 32 },
      fineTuned: false,
    });
    await e.dispose();
  });

  it('uses the classifier live: custom top-k (k = min(5, n)) and heatmap, export and re-import give identical results', async () => {
    const e = await engineFor();
    const frame = request.photos[5]!.image as { width: number; height: number; data: Uint8ClampedArray };
    const imagenet = await e.analyze(frame);
    expect(imagenet.top5).toHaveLength(5);
    const info = await e.useClassifier(bytes);
    expect(info).toMatchObject({
      classes: CLASSES,
      head: 'dense',
      fineTuned: false,
      inputSize: 32,
      base: { id: 'tiny' },
    });
    const r = await e.analyze(frame);
    expect(r.top5).toHaveLength(3);
    expect(r.top5.map((p) => p.label).sort()).toEqual([...CLASSES].sort());
    expect(r.top5.reduce((a, p) => a + p.prob, 0)).toBeCloseTo(1, 5);
    expect(r.target.label).toBe(r.top5[0]!.label);
    expect(r.heatmap.dims).toEqual([2, 2]);
    const forced = await e.analyze(frame, { classIndex: 2 });
    expect(forced.target).toEqual({ index: 2, label: 'grass' });

    const exported = await e.exportClassifier();
    expect(Array.from(exported)).toEqual(Array.from(bytes));
    await e.useClassifier(null);
    expect((await e.analyze(frame)).top5[0]!.label).toMatch(/^thing /);
    await e.useClassifier(exported);
    const again = await e.analyze(frame);
    expect(again.top5).toEqual(r.top5);
    expect(Array.from(again.heatmap.data)).toEqual(Array.from(r.heatmap.data));
    await e.dispose();
  });

  it('rejects a classifier trained on another base, and drops the live one when the model changes', async () => {
    const e = await engineFor();
    await e.useClassifier(bytes);
    await e.loadModel('other');
    const frame = request.photos[0]!.image as { width: number; height: number; data: Uint8ClampedArray };
    expect((await e.analyze(frame)).top5).toHaveLength(5);
    await expect(e.useClassifier(bytes)).rejects.toMatchObject({ name: 'ClassifierMismatchError' });
    await expect(e.useClassifier(bytes.subarray(0, 100))).rejects.toMatchObject({ name: 'ClassifierFormatError' });
    await e.dispose();
  });

  it('cancels between steps and resumes from a serialised state to the same classifier as an uninterrupted run', async () => {
    const checkpoints: TrainState[] = [];
    const e = await engineFor('tiny', undefined, async (s) => void checkpoints.push(s));
    const straight = await e.train(request);
    // The host saw a resumable state after every epoch but the last (a reload resumes from the last
    // one); the last epoch's state comes with the result.
    expect(checkpoints.map((c) => c.head.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(straight.state!.head.epoch).toBe(6);
    checkpoints.length = 0;
    let cancelledAt = 0;
    const cancelled = await e.train(request, (p) => {
      if (p.metrics?.epoch === 2 && !cancelledAt) {
        cancelledAt = 2;
        void e.cancelTraining();
      }
    });
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.classifier).toBeUndefined();
    expect(cancelled.state!.head.epoch).toBe(2);
    expect(checkpoints.at(-1)).toEqual(cancelled.state);
    const saved = encodeTrainState(cancelled.state!);
    const resumed = await e.train({ ...request, resume: decodeTrainState(saved) });
    expect(resumed.status).toBe('done');
    expect(resumed.history).toEqual(straight.history);
    const w1 = parseClassifier(straight.classifier!, { hash: await hashOf(), cfg: TINY_VGG }).weights;
    const w2 = parseClassifier(resumed.classifier!, { hash: await hashOf(), cfg: TINY_VGG }).weights;
    for (const [k, v] of Object.entries(w1)) expect(Array.from(w2[k]!), k).toEqual(Array.from(v));
    // A state belongs to its request.
    await expect(e.train({ ...request, seed: 9, resume: cancelled.state })).rejects.toMatchObject({
      name: 'TrainStateMismatchError',
    });
    await e.dispose();
  });

  it("checkpoints the finished head phase before fine-tuning, and not the run's last epoch", async () => {
    const seen: string[] = [];
    const e = await engineFor('tiny', undefined, async (s) => {
      seen.push(
        s.finetune ? `finetune ${s.finetune.epoch}` : `head ${s.head.epoch}${s.head.finished ? ' finished' : ''}`,
      );
    });
    const r = await e.train({ ...request, epochs: 2, patience: 2, fineTune: { epochs: 2, patience: 2 } });
    expect(r.status).toBe('done');
    expect(seen).toEqual(['head 1', 'head 2 finished', 'finetune 1']);
    expect(r.state!.finetune!.epoch).toBe(2);
    await e.dispose();
  });

  it('checkpoints after the first epoch, then at most once per checkpointEveryMs of training and 20 × its own time', async () => {
    let clock = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => clock);
    try {
      const epochs: number[] = [];
      const e = new Engine({
        store,
        checkpointEveryMs: 10_000,
        onTrainCheckpoint: async (s) => void epochs.push(s.head.epoch),
      });
      await e.init({ device: 'wasm' });
      await e.loadModel('tiny');
      // Each epoch "takes" 6 s: the first epoch's state, then one once 10 s have passed since the last.
      const r = await e.train(request, (p) => void (p.metrics && (clock += 6000)));
      expect(r.status).toBe('done');
      expect(epochs).toEqual([1, 3, 5]);
      await e.dispose();

      // A checkpoint that itself takes 1 s: the next one comes only 20 s (20 × its time) later.
      const slow: number[] = [];
      const f = new Engine({
        store,
        checkpointEveryMs: 10_000,
        onTrainCheckpoint: async (s) => void (slow.push(s.head.epoch), (clock += 1000)),
      });
      await f.init({ device: 'wasm' });
      await f.loadModel('tiny');
      expect((await f.train(request, (p) => void (p.metrics && (clock += 6000)))).status).toBe('done');
      expect(slow).toEqual([1, 5]);

      // A run that continues from a classifier is short by design: its first checkpoint waits 10 s too.
      slow.length = 0;
      const from = { classifier: r.classifier!, patience: 100 };
      expect((await f.train({ ...request, from }, (p) => void (p.metrics && (clock += 6000)))).status).toBe('done');
      // (Its last epoch, 6, keeps none: the result carries that state.)
      expect(slow).toEqual([2]);
      await f.dispose();
    } finally {
      spy.mockRestore();
    }
  });

  it('continues from a classifier trained before: its weights and statistics, its own patience, same classes only', async () => {
    const e = await engineFor();
    const first = await e.train(request);
    const before = parseClassifier(first.classifier!, { hash: await hashOf(), cfg: TINY_VGG });
    // One more photo of the first class: a retrain after adding it.
    const more = {
      ...request,
      photos: [
        ...request.photos,
        { id: 'chessboard/left06.jpg', label: 0, image: resizeCenterCrop(await readImage(FIXTURE_MORE), 64) },
      ],
    };
    // A learning rate too small to move the weights: the first epoch measures the classifier it started from.
    const still = await e.train({ ...more, lr: 1e-12, from: { classifier: first.classifier!, patience: 1 } });
    const after = parseClassifier(still.classifier!, { hash: await hashOf(), cfg: TINY_VGG });
    for (const [k, v] of Object.entries(before.weights)) expect(maxRelDiff(after.weights[k]!, v), k).toBeLessThan(1e-6);
    // The statistics are the classifier's, not measured again on the new training set (they differ).
    const fresh = parseClassifier((await e.train({ ...more, lr: 1e-12, epochs: 1 })).classifier!, {
      hash: await hashOf(),
      cfg: TINY_VGG,
    });
    expect(maxRelDiff(fresh.weights['head/norm/mean']!, before.weights['head/norm/mean']!)).toBeGreaterThan(1e-3);

    // Early stopping stops at the first epoch that beats neither the start nor an earlier epoch (the
    // request's own patience, 100, is for a fresh start), and the result is a trained epoch's: the
    // new photo is always learned.
    const retrain = await e.train({ ...more, epochs: 40, from: { classifier: first.classifier! } });
    expect(retrain.status).toBe('done');
    const losses = retrain.history.map((m) => m.valLoss);
    expect(losses.length).toBeLessThan(40);
    const baseline = retrain.state!.head.baseline!;
    expect(baseline).toBeCloseTo(still.history[0]!.valLoss, 4); // the start's loss (lr 1e-12 barely moves it)
    losses.forEach((l, i) => {
      const bar = Math.min(baseline, ...losses.slice(0, i));
      if (i < losses.length - 1) expect(l, `epoch ${i + 1}`).toBeLessThan(bar);
      else expect(l, 'the last epoch').toBeGreaterThanOrEqual(bar);
    });
    expect(retrain.state!.head.best!.epoch).toBeGreaterThanOrEqual(1);
    const retrained = parseClassifier(retrain.classifier!, { hash: await hashOf(), cfg: TINY_VGG }).weights;
    expect(maxRelDiff(retrained['head/hidden/kernel']!, before.weights['head/hidden/kernel']!)).toBeGreaterThan(1e-4);

    // Only a classifier of the same classes (in order), head, input size and base, not fine-tuned.
    // Refused before any feature is extracted: a photo without pixels or cached features fails no earlier.
    const from = { classifier: first.classifier! };
    const unseen = [...more.photos, { id: 'never-seen', label: 0 }];
    await expect(e.train({ ...more, photos: unseen, classes: [...CLASSES].reverse(), from })).rejects.toMatchObject({
      name: 'TrainingInputError',
      message: /classes/,
    });
    await expect(e.train({ ...more, head: 'gap', from })).rejects.toMatchObject({
      name: 'TrainingInputError',
      message: /head is dense/,
    });
    const tuned = await e.train({ ...request, epochs: 1, fineTune: { epochs: 1 } });
    expect(parseClassifier(tuned.classifier!, { hash: await hashOf(), cfg: TINY_VGG }).manifest.fineTuned).toBe(true);
    await expect(e.train({ ...more, from: { classifier: tuned.classifier! } })).rejects.toMatchObject({
      name: 'TrainingInputError',
      message: /fine-tuned/,
    });
    const other = await engineFor('other');
    await expect(other.train({ ...more, from })).rejects.toMatchObject({ name: 'ClassifierMismatchError' });
    await other.dispose();
    // A cancelled run resumes only with the classifier it continued from.
    const cancelled = await e.train({ ...more, from }, (p) => void (p.metrics && e.cancelTraining()));
    expect(cancelled.status).toBe('cancelled');
    await expect(e.train({ ...more, resume: cancelled.state })).rejects.toMatchObject({
      name: 'TrainStateMismatchError',
    });
    await expect(e.train({ ...more, from, resume: cancelled.state })).resolves.toMatchObject({ status: 'done' });
    await e.dispose();
  });

  it('says what is wrong with a request, with named errors', async () => {
    const e = await engineFor();
    const one = { ...request, classes: ['only'], photos: request.photos.map((p) => ({ ...p, label: 0 })) };
    await expect(e.train(one)).rejects.toMatchObject({ name: 'TrainingInputError', message: /two classes/ });
    await expect(e.train({ ...request, classes: [...CLASSES, 'empty'] })).rejects.toMatchObject({
      name: 'TrainingInputError',
      message: /empty/,
    });
    await expect(e.train({ ...request, inputSize: 40 })).rejects.toMatchObject({
      name: 'TrainingInputError',
      message: /multiple of 32/,
    });
    const noPixels = { ...request, photos: [{ id: 'never-seen', label: 0 }, ...request.photos.slice(4)] };
    await expect(e.train(noPixels)).rejects.toMatchObject({ name: 'MissingPhotoError' });
    await expect(new Engine({ store }).exportClassifier()).rejects.toMatchObject({ name: 'EngineStateError' });
    await e.dispose();
  });
});

const FIXTURE_MORE = 'test/fixtures/photos/chessboard/left06.jpg';

/** max |a − b| / max |b|. */
function maxRelDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** The 'tiny' base's hash, as the engine computes it. */
const hashOf = async () => baseModelHash(await store.manifest('tiny'));
