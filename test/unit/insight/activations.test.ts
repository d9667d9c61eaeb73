/**
 * The activation graph (the base cut at a layer) returns, bit for bit, the tensor the full forward
 * graph computes at that layer (exposed there as an extra output), with and without Winograd.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import {
  ACT_IO,
  activationGrid,
  buildActivationGraph,
  channelRanges,
  insightLayers,
  tileGrid,
  viridis,
  VIRIDIS,
} from '../../../src/core/insight';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import { encodeModel } from '../../../src/core/onnx/encode';
import type { Graph } from '../../../src/core/onnx/ir';
import { winogradRewrite } from '../../../src/core/onnx/winograd';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { imagenetHead, inlineWeights, vggBase } from '../../../src/core/vgg16/graph';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import { TINY_VGG, VGG16 } from '../../../src/core/vgg16/spec';
import { mulberry32 } from '../../helpers/ort';

ort.env.wasm.numThreads = 2;
ort.env.logLevel = 'error';

/**
 * The plain forward graph with the layer's output as an extra output: the whole classifier (probs)
 * for TINY_VGG; for VGG16 the whole conv base (block5_pool), which computes the same tensor at every
 * layer and spares encoding fc1's 400 MB per case.
 */
function fullGraphExposing(cfg: VggConfig, w: ReturnType<typeof demoWeights>, layer: string): Graph {
  const b = new GraphBuilder('full');
  const image = b.input('image', 'float32', [1, 3, cfg.inputSize, cfg.inputSize]);
  const weight = inlineWeights(b, cfg, w);
  const acts = vggBase(b, cfg, image, weight);
  if (w.has('fc1')) b.output(b.softmax(imagenetHead(b, cfg, acts.get('block5_pool')!, weight, acts), 1));
  else b.output(acts.get('block5_pool')!);
  b.output(acts.get(layer)!);
  return b.graph;
}

async function runOnce(g: Graph, image: Float32Array, S: number): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(encodeModel(g), { graphOptimizationLevel: 'all' });
  const out = await s.run({ image: new ort.Tensor('float32', image, [1, 3, S, S]) });
  await s.release();
  return out;
}

const bytes = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.each([
  ['TINY_VGG', TINY_VGG, insightLayers(TINY_VGG).map((l) => l.name)],
  ['VGG16', VGG16, ['block3_conv1', 'block5_conv3']],
] as [string, VggConfig, string[]][])('activation graph vs the full forward graph (%s)', (_, cfg, names) => {
  const S = cfg.inputSize;
  const w = demoWeights(cfg, 2, cfg === VGG16 ? ['base'] : undefined);
  const rng = mulberry32(4);
  const image = Float32Array.from({ length: 3 * S * S }, () => rng() * 255 - 120);
  for (const layer of names) {
    for (const winograd of [false, true]) {
      it(`${layer}${winograd ? ' (Winograd)' : ''}: equal bit for bit, shape [C, H, W] as listed`, async () => {
        const cut = buildActivationGraph({ cfg, weights: (b) => inlineWeights(b, cfg, w), layer, winograd });
        const full = fullGraphExposing(cfg, w, layer);
        const fullOut = await runOnce(winograd ? winogradRewrite(full) : full, image, S);
        const act = (await runOnce(cut, image, S))[ACT_IO.activation]!;
        const want = fullOut[full.outputs[1]!.name]!;
        const listed = insightLayers(cfg).find((l) => l.name === layer)!;
        expect(act.dims).toEqual([1, ...listed.dims]);
        expect(want.dims).toEqual(act.dims);
        const a = act.data as Float32Array;
        expect(a.some((v) => v > 0)).toBe(true);
        expect(bytes(a).equals(bytes(want.data as Float32Array))).toBe(true);
        // The cut graph computes nothing past the layer.
        expect(cut.nodes.some((n) => n.op === 'Softmax' || n.inputs.some((i) => i.startsWith('fc1/')))).toBe(false);
      }, 120_000);
    }
  }
});

describe('layer list and grid drawing', () => {
  it("lists VGG16's conv and pool layers in order with their output shapes", () => {
    const ls = insightLayers(VGG16);
    expect(ls).toHaveLength(18);
    expect(ls[0]).toEqual({ name: 'block1_conv1', kind: 'conv', block: 1, dims: [64, 224, 224] });
    expect(ls.find((l) => l.name === 'block3_conv1')!.dims).toEqual([256, 56, 56]);
    expect(ls.find((l) => l.name === 'block4_pool')!.dims).toEqual([512, 14, 14]);
    expect(ls.at(-1)).toEqual({ name: 'block5_pool', kind: 'pool', block: 5, dims: [512, 7, 7] });
  });

  it("uses matplotlib's viridis (end points and middle) from the colour-map package", () => {
    expect(VIRIDIS).toHaveLength(768);
    expect(viridis(0)).toEqual([68, 1, 84]);
    expect(viridis(1)).toEqual([253, 231, 37]);
    expect(viridis(0.5)).toEqual([33, 145, 140]);
    expect(viridis(Number.NaN)).toEqual([68, 1, 84]);
  });

  it('normalises per map or per layer, and lays tiles out in a labelled grid', () => {
    // Two 2×2 channels: one 0..1, one 0..10.
    const data = Float32Array.from([0, 1, 0.5, 0.25, 0, 10, 5, 2.5]);
    expect(channelRanges(data, 2, 'map')).toEqual([
      [0, 1],
      [0, 10],
    ]);
    expect(channelRanges(data, 2, 'layer')).toEqual([
      [0, 10],
      [0, 10],
    ]);
    const perMap = activationGrid({ dims: [2, 2, 2], data }, { columns: 2, gap: 1, labels: ['', ''] });
    expect([perMap.width, perMap.height]).toEqual([2 * 2 + 3, 2 + 2]);
    const px = (img: { width: number; data: Uint8ClampedArray }, x: number, y: number) =>
      Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
    // Top-right pixel of each tile is that channel's max: yellow per map; per layer the first is dark.
    expect(px(perMap, 2, 1)).toEqual(viridis(1));
    expect(px(perMap, 5, 1)).toEqual(viridis(1));
    const perLayer = activationGrid(
      { dims: [2, 2, 2], data },
      { columns: 2, gap: 1, normalise: 'layer', labels: ['', ''] },
    );
    expect(px(perLayer, 2, 1)).toEqual(viridis(0.1));
    const big = tileGrid([perMap, perMap, perMap], { columns: 2, scale: 3, labels: ['12', '', '7'] });
    expect([big.width, big.height]).toEqual([2 * 21 + 3 * 2, 2 * 12 + 3 * 2]);
  });
});
