/**
 * Grad-CAM's channel weights through the dense layer (src/core/graphs/cam-weights.ts) against the mean
 * of the full gradient map: the same heatmaps, and fc1's transposed product gone from the graph.
 */
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAnalyzeGraph, IO, type AnalyzeGraphOptions, type HeadBuilder } from '../../../src/core/graphs/analyze';
import type { Graph } from '../../../src/core/onnx/ir';
import { encodeModel } from '../../../src/core/onnx/encode';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { buildBundle } from '../../../src/core/bundle/build';
import { loadBundle, readWeights, weightRefs } from '../../../src/core/bundle/load';
import { inlineWeights } from '../../../src/core/vgg16/graph';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { MemoryStore } from '../../helpers/memory-store';
import { mulberry32 } from '../../helpers/ort';

// 96 px: block5_pool is 3×3, so summing fc1 over space is not trivial (at 32 px it is 1×1).
const cfg = { ...TINY_VGG, inputSize: 96 };
const CELLS = (cfg.inputSize / 32) ** 2;
const S = cfg.inputSize;
const weights = demoWeights(cfg, 11);
const base = { cfg, weights: (b: Parameters<AnalyzeGraphOptions['weights']>[0]) => inlineWeights(b, cfg, weights) };

/** A head whose first dense kernel is stored (in, out): Gemm with transB = 0, and a bias. */
const HIDDEN = 12;
const rand = mulberry32(5);
const k1 = Float32Array.from({ length: 16 * CELLS * HIDDEN }, () => rand() - 0.5);
const k2 = Float32Array.from({ length: HIDDEN * 4 }, () => rand() - 0.5);
const inOutHead: HeadBuilder = (b, acts) => {
  const x = b.flatten(acts.get('block5_pool')!, 1);
  const w1 = b.constant({ dtype: 'float32', dims: [16 * CELLS, HIDDEN], data: k1 }, 'k1');
  const w2 = b.constant({ dtype: 'float32', dims: [HIDDEN, 4], data: k2 }, 'k2');
  const h = b.relu(b.gemm(x, w1, b.constant({ dtype: 'float32', dims: [HIDDEN], data: k1.slice(0, HIDDEN) })));
  return b.gemm(h, w2);
};

/** Nodes that read `value`. */
const readers = (g: Graph, value: string) => g.nodes.filter((n) => n.inputs.includes(value)).map((n) => n.op);

function image(seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: 3 * S * S }, () => (r() - 0.5) * 200);
}

async function heatmaps(session: ort.InferenceSession, img: Float32Array, target: number) {
  const out = await session.run({
    [IO.image]: new ort.Tensor('float32', img, [1, 3, S, S]),
    [IO.target]: new ort.Tensor('int64', BigInt64Array.of(BigInt(target)), [1]),
  });
  return { heat: out[IO.heatmap]!.data as Float32Array, probs: out[IO.probs]!.data as Float32Array };
}

describe.each([
  ['ImageNet-shaped head (transB = 1)', { classes: cfg.classes }],
  ['ImageNet-shaped head, Winograd forward', { classes: cfg.classes, winograd: true }],
  ['a head with an (in, out) kernel (transB = 0)', { head: inOutHead, classes: 4 }],
] as [string, Partial<AnalyzeGraphOptions>][])('Grad-CAM channel weights through the dense layer: %s', (_, extra) => {
  const sessions: ort.InferenceSession[] = [];
  const graphs: Graph[] = [];

  beforeAll(async () => {
    for (const camShortcut of [true, false]) {
      const g = buildAnalyzeGraph({ ...base, ...extra, camShortcut });
      graphs.push(g);
      sessions.push(await ort.InferenceSession.create(encodeModel(g)));
    }
  }, 120_000);

  it('leaves out the transposed product with the first dense kernel', () => {
    const [short, full] = graphs as [Graph, Graph];
    const flat = full.nodes.find((n) => n.op === 'Flatten')!.outputs[0]!;
    const dense = full.nodes.find((n) => n.op === 'Gemm' && n.inputs[0] === flat)!;
    const kernel = dense.inputs[1]!;
    expect(readers(full, kernel).filter((op) => op === 'Gemm' || op === 'MatMul')).toHaveLength(2);
    expect(readers(short, kernel).filter((op) => op === 'Gemm' || op === 'MatMul')).toHaveLength(1);
    expect(readers(short, kernel)).toContain('Reshape'); // summed over space instead
    expect(short.nodes.filter((n) => n.op === 'MaxPool').length).toBe(
      full.nodes.filter((n) => n.op === 'MaxPool').length,
    );
  });

  it("differentiates class c's logit through a Gather of its kernel row, not the whole last kernel", () => {
    for (const g of graphs) {
      const logits = g.nodes.find((n) => n.op === 'Softmax')!.inputs[0]!;
      const kernel = g.nodes.find((n) => n.outputs[0] === logits && n.op === 'Gemm')!.inputs[1]!;
      expect(readers(g, kernel).sort()).toEqual(['Gather', 'Gemm']);
    }
  });

  it('gives the heatmaps of the full gradient map, for the top class and for others', async () => {
    const [short, full] = sessions as [ort.InferenceSession, ort.InferenceSession];
    let structured = 0;
    for (const seed of [1, 2, 3]) {
      for (const target of [-1, 0, 3]) {
        const a = await heatmaps(short, image(seed), target);
        const b = await heatmaps(full, image(seed), target);
        expect(a.probs).toEqual(b.probs);
        for (let i = 0; i < a.heat.length; i++) expect(Math.abs(a.heat[i]! - b.heat[i]!)).toBeLessThan(1e-5);
        if (a.heat.filter((v) => v > 0.05).length > 1) structured++;
      }
    }
    // Blank maps would agree trivially (a class without positive evidence has one): require structure.
    expect(structured).toBeGreaterThanOrEqual(3);
  }, 60_000);
});

describe('a bundle whose fc1 is stored in row blocks (int8, small shards)', () => {
  const graphs: Graph[] = [];
  const sessions: ort.InferenceSession[] = [];
  let inline: ort.InferenceSession;

  beforeAll(async () => {
    const bundle = await buildBundle({
      id: 'split',
      cfg,
      weights,
      quantization: 'int8',
      source: 'demo',
      pretrained: false,
      seed: 11,
      preprocessing: 'caffe',
      labels: 'imagenet',
      maxShardBytes: 1024,
    });
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'split', ['base', 'imagenet-head']);
    const externalData = [...files].map(([path, data]) => ({ path, data }));
    // Shortcut with fc1's spatial sums folded by onnxruntime, the full gradient map, and the
    // shortcut with the sums taken from the shard bytes in hand (weightRefs' rowSums).
    for (const [camShortcut, inHand] of [
      [true, undefined],
      [false, undefined],
      [true, files],
    ] as const) {
      const g = buildAnalyzeGraph({
        cfg,
        weights: (b) => weightRefs(b, manifest, ['base', 'imagenet-head'], inHand),
        camShortcut,
      });
      graphs.push(g);
      sessions.push(await ort.InferenceSession.create(encodeModel(g), { externalData }));
    }
    const dq = readWeights(manifest, files);
    inline = await ort.InferenceSession.create(
      encodeModel(buildAnalyzeGraph({ cfg, weights: (b) => inlineWeights(b, cfg, dq), camShortcut: false })),
    );
  }, 120_000);

  it('runs fc1 as one Gemm per block and never joins its kernel blocks', () => {
    for (const g of graphs) {
      const flat = g.nodes.find((n) => n.op === 'Flatten')!.outputs[0]!;
      expect(readers(g, flat).filter((op) => op === 'Gemm').length).toBeGreaterThan(1);
      const fc1Blocks = g.nodes.filter((n) => n.op === 'DequantizeLinear' && n.inputs[0]!.startsWith('fc1/'));
      expect(fc1Blocks.length).toBeGreaterThan(1);
      const dequantized = new Set(fc1Blocks.map((n) => n.outputs[0]!));
      const joinsKernels = g.nodes.some((n) => n.op === 'Concat' && n.inputs.some((i) => dequantized.has(i)));
      expect(joinsKernels).toBe(false);
    }
  });

  it('with the bytes in hand, reads fc1 only in its Gemms: its spatial sums are constants', () => {
    const [folded, , inHand] = graphs as [Graph, Graph, Graph];
    const fc1Blocks = (g: Graph) =>
      g.nodes.filter((n) => n.op === 'DequantizeLinear' && n.inputs[0]!.startsWith('fc1/')).map((n) => n.outputs[0]!);
    expect(fc1Blocks(folded).some((k) => readers(folded, k).includes('Reshape'))).toBe(true);
    for (const k of fc1Blocks(inHand)) expect(readers(inHand, k)).toEqual(['Gemm']);
    expect(inHand.nodes.some((n) => n.op === 'ReduceSum')).toBe(false);
  });

  it('gives the heatmaps and probabilities of one Gemm on the whole kernel', async () => {
    for (const seed of [1, 2]) {
      const ref = await heatmaps(inline, image(seed), -1);
      for (const s of sessions) {
        const got = await heatmaps(s, image(seed), -1);
        for (let i = 0; i < ref.probs.length; i++) expect(Math.abs(got.probs[i]! - ref.probs[i]!)).toBeLessThan(1e-5);
        expect(Math.max(...ref.heat)).toBeGreaterThan(0);
        for (let i = 0; i < ref.heat.length; i++) expect(Math.abs(got.heat[i]! - ref.heat[i]!)).toBeLessThan(1e-4);
      }
    }
  }, 60_000);
});

describe('Grad-CAM channel weights: where the shortcut does not apply', () => {
  it('a conv layer that feeds another conv block takes the full gradient map', () => {
    const g = buildAnalyzeGraph({ ...base, camLayer: 'block4_conv3' });
    const flat = g.nodes.find((n) => n.op === 'Flatten')!.outputs[0]!;
    const fc1 = g.nodes.find((n) => n.op === 'Gemm' && n.inputs[0] === flat)!.inputs[1]!;
    expect(readers(g, fc1).filter((op) => op === 'Gemm' || op === 'MatMul')).toHaveLength(2);
    expect(
      g.nodes.some((n) => n.op === 'ReduceSum' && n.inputs[0] !== undefined && readers(g, fc1).includes('Reshape')),
    ).toBe(false);
  });
});
