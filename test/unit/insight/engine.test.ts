/**
 * The insight methods of the Engine (tiny int8 bundle, in-memory store) and of the Insight service
 * they delegate to: graphs built once per key, activations, filters, CAM variants, deletion curve.
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../../src/core/bundle/build';
import type { GraphSession, Rgba } from '../../../src/core/insight';
import { blurRgba, Insight } from '../../../src/core/insight';
import type { Graph } from '../../../src/core/onnx/ir';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { inlineWeights } from '../../../src/core/vgg16/graph';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { resizeCenterCrop } from '../../../src/core/vision/resize';
import { Engine } from '../../../workers/engine/engine';
import { ortRuntime } from '../../../workers/engine/sessions';
import { MemoryStore } from '../../helpers/memory-store';

ort.env.logLevel = 'error';

const frame = (w: number, h: number): Rgba => {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.set([(x * 9) % 256, (y * 5 + x) % 256, (x * y) % 256, 255], (y * w + x) * 4);
  return { width: w, height: h, data };
};

describe('Engine insight methods (tiny int8 bundle)', () => {
  const store = new MemoryStore();
  const labels = Array.from({ length: TINY_VGG.classes }, (_, i) => `thing ${i}`);
  let engine: Engine;

  beforeAll(async () => {
    const weights = demoWeights(TINY_VGG, 3);
    store.add(
      await buildBundle({
        id: 'tiny',
        cfg: TINY_VGG,
        weights,
        source: 'demo',
        pretrained: false,
        labels,
        quantization: 'int8',
        preprocessing: 'caffe',
      }),
    );
    engine = new Engine({ store, maxThreads: () => 1 });
    await engine.loadModel('tiny');
  });

  it('refuses before a model is loaded', async () => {
    await expect(new Engine({ store }).activations(frame(8, 8), 'block1_conv1')).rejects.toMatchObject({
      name: 'EngineStateError',
    });
  });

  it("lists the layers with shapes and returns a layer's maps (C, H, W) for a frame of any size", async () => {
    const ls = engine.insightLayers();
    expect(ls.map((l) => l.name).slice(0, 3)).toEqual(['block1_conv1', 'block1_conv2', 'block1_pool']);
    const a = await engine.activations(frame(61, 45), 'block3_conv1');
    expect(a.dims).toEqual([8, 8, 8]);
    expect(a.data).toBeInstanceOf(Float32Array);
    expect(a.data).toHaveLength(512);
    expect(a.data.some((v) => v > 0)).toBe(true);
    await expect(engine.activations(frame(8, 8), 'fc1')).rejects.toMatchObject({ name: 'UnknownLayerError' });
  });

  it("explain('gradcam', block5_conv3) is the live analyze's heatmap; the variants and other layers differ", async () => {
    const img = frame(40, 40);
    // The first frame runs the plain base; then the Winograd base is swapped in (workers/engine/live.ts).
    const first = await engine.analyze(img);
    const live = await engine.analyze(img);
    first.heatmap.data.forEach((v, i) => expect(v).toBeCloseTo(live.heatmap.data[i]!, 4));
    // explain's default graph IS the live graph (shared sessions): the same numbers, bit for bit.
    const ex = await engine.explain(img);
    expect(ex.target).toEqual(live.target);
    expect(ex.heatmap.dims).toEqual(live.heatmap.dims);
    expect(Array.from(ex.heatmap.data)).toEqual(Array.from(live.heatmap.data));
    const pp = await engine.explain(img, { cam: 'gradcam++', layer: 'block3_conv3', classIndex: 4 });
    expect(pp).toMatchObject({ cam: 'gradcam++', layer: 'block3_conv3', target: { index: 4, label: 'thing 4' } });
    expect(pp.heatmap.dims).toEqual([8, 8]);
    expect(Math.max(...pp.heatmap.data)).toBeLessThanOrEqual(1);
  });

  it('visualises filters and reports progress once per step', async () => {
    const steps: number[] = [];
    const r = await engine.filters(
      { layer: 'block2_conv1', filters: [0, 5, 7], settings: { steps: 3, size: 31 }, batch: 2 },
      (p) => steps.push(p.done),
    );
    expect(r.settings.size).toBe(32); // rounded up to a multiple of 2 (one pool before block2)
    expect(r.pictures.map((p) => p.filter)).toEqual([0, 5, 7]);
    expect(r.pictures[0]!.image).toMatchObject({ width: 32, height: 32 });
    expect(steps).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('computes a deletion curve beside random baselines', async () => {
    const r = await engine.deletion(frame(50, 40), { steps: 4, randomBaselines: 2 });
    expect(r.curve.fractions).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(r.curve.scores).toHaveLength(5);
    expect(r.random).toHaveLength(2);
    expect(r.curve.scores[0]).toBeCloseTo(r.explanation.top5[0]!.prob, 4);
    // Both end at the same fully blurred image.
    expect(r.random[0]!.scores[4]).toBeCloseTo(r.curve.scores[4]!, 6);
    expect(r.curve.auc).toBeGreaterThan(0);
  });
});

describe('Insight service', () => {
  const cfg = TINY_VGG;
  const w = demoWeights(cfg, 8);
  const opened: string[] = [];
  const open = async (g: Graph): Promise<GraphSession> => {
    opened.push(g.name);
    return ortRuntime().create(g);
  };
  const insight = new Insight({
    cfg,
    preprocessing: 'caffe',
    labels: [],
    weights: (b) => inlineWeights(b, cfg, w),
    open,
    capacity: 2,
  });

  it('builds each graph once per key and keeps at most `capacity` sessions', async () => {
    const img = frame(32, 32);
    await insight.activations(img, 'block1_conv1');
    await insight.activations(img, 'block1_conv1');
    expect(opened).toEqual(['convlens-activations']);
    await insight.activations(img, 'block2_conv1');
    await insight.activations(img, 'block3_conv1');
    expect(insight.cachedGraphs()).toEqual(['act|block2_conv1', 'act|block3_conv1']);
    await insight.activations(img, 'block2_conv1');
    expect(opened).toHaveLength(3);
  });

  it("the curve's endpoints are the probabilities of the image and of its fully blurred copy", async () => {
    const img = resizeCenterCrop(frame(32, 32), 32);
    const r = await insight.deletion(img, { steps: 3, classIndex: 2 });
    const [p0, p1] = await insight.classify([img, blurRgba(img, 32 / 16)]);
    expect(r.curve.scores[0]).toBeCloseTo(p0![2]!, 6);
    expect(r.curve.scores[3]).toBeCloseTo(p1![2]!, 6);
    await insight.dispose();
  });
});
