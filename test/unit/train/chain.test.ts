/**
 * The feature graph as a chain of Winograd sessions (splitByWeights, openPieces, chainSession), as the
 * Trainer builds it on WASM: the same block5_pool and block4_pool as the whole plain graph, a batch at
 * a time, from sessions opened largest first; the Trainer's features through it match a plain base's.
 */
import { describe, expect, it } from 'vitest';
import { readImage } from '../../../src/cli/imageio';
import { buildBundle } from '../../../src/core/bundle/build';
import { loadBundle } from '../../../src/core/bundle/load';
import type { Graph } from '../../../src/core/onnx/ir';
import { convWeights, openPieces, splitByWeights } from '../../../src/core/onnx/split';
import { winogradRewrite } from '../../../src/core/onnx/winograd';
import { baseModelHash } from '../../../src/core/train/classifier';
import type { FeatureCache, FeatureKey } from '../../../src/core/train/features';
import { buildFeatureGraph, FEATURE_LAYERS, featureKeyString } from '../../../src/core/train/features';
import { ortRuntime } from '../../../workers/engine/sessions';
import type { GraphRuntime, GraphSession } from '../../../src/core/runtime';
import { chainSession, f32, floatOut } from '../../../src/core/runtime';
import { Trainer } from '../../../src/core/train/trainer';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { inlineWeights } from '../../../src/core/vgg16/graph';
import { MemoryStore } from '../../helpers/memory-store';
import { WINOGRAD_TINY_PIECE, WINOGRAD_TINY_VGG } from '../../helpers/configs';
import { mulberry32, uniform } from '../../helpers/ort';

const CFG = WINOGRAD_TINY_VGG;
const S = CFG.inputSize;
const MAX = WINOGRAD_TINY_PIECE;

function expectClose(got: Float32Array, ref: Float32Array) {
  expect(got.length).toBe(ref.length);
  const scale = Math.max(...ref.map(Math.abs));
  expect(scale).toBeGreaterThan(0);
  got.forEach((v, i) => expect(Math.abs(v - ref[i]!) / scale).toBeLessThan(1e-4)); // F(4×4) Winograd: ≈ 1e-5
}

describe('chainSession: a feature graph as a chain of Winograd sessions', () => {
  const weights = demoWeights(CFG, 4);
  const graph = () => buildFeatureGraph(CFG, S, (b) => inlineWeights(b, CFG, weights));

  it("computes the whole graph's outputs, a batch at a time, from pieces opened largest first", async () => {
    const pieces = splitByWeights(graph(), MAX);
    expect(pieces.length).toBeGreaterThan(2);
    // block4_pool is an output in the middle: it leaves the chain from the piece that computes it.
    const outputs = pieces.flatMap((p) => p.outputs.map((o) => o.name));
    for (const layer of FEATURE_LAYERS) expect(outputs.filter((o) => o === layer)).toHaveLength(1);
    const runtime = ortRuntime(['wasm']);
    const opened: Graph[] = [];
    const sessions = await openPieces(pieces, (p) => (opened.push(p), runtime.create(winogradRewrite(p))));
    expect(opened.map(convWeights)).toEqual(pieces.map(convWeights).sort((a, b) => b - a));
    const chain = chainSession(pieces.map((graph, i) => ({ graph, session: sessions[i]! })));
    const whole = await runtime.create(graph());
    for (const batch of [2, 3]) {
      const feeds = { image: f32(uniform(mulberry32(batch), batch * 3 * S * S, -120, 130), [batch, 3, S, S]) };
      const [got, ref] = [await chain.run(feeds), await whole.run(feeds)];
      expect(Object.keys(got).sort()).toEqual([...FEATURE_LAYERS].sort());
      for (const layer of FEATURE_LAYERS) expectClose(floatOut(got, layer), floatOut(ref, layer));
    }
    await chain.release();
    await whole.release();
  });

  it('refuses a cut whose dims its length cannot give', async () => {
    const session = (out: Record<string, Float32Array>): GraphSession => ({
      run: async () => Object.fromEntries(Object.entries(out).map(([k, data]) => [k, f32(data, [data.length])])),
      release: async () => undefined,
    });
    const piece = (inputs: Graph['inputs'], outputs: string[]): Graph => ({
      name: 'p',
      nodes: [],
      inputs,
      outputs: outputs.map((name) => ({ name, dtype: 'float32', shape: [] })),
      initializers: new Map(),
      values: new Map(),
    });
    const chain = (shape: (string | number)[]) =>
      chainSession([
        { graph: piece([], ['a']), session: session({ a: new Float32Array(12) }) },
        { graph: piece([{ name: 'a', dtype: 'float32', shape }], ['b']), session: session({ b: new Float32Array(1) }) },
      ]);
    await expect(chain(['N', 4]).run({})).resolves.toEqual({ b: f32(new Float32Array(1), [1]) });
    await expect(chain(['N', 'M']).run({})).rejects.toThrow(/cannot size \[N, M\] from 12 values/);
    await expect(chain(['N', 5]).run({})).rejects.toThrow(/cannot size/);
    await expect(chain([3, 3]).run({})).rejects.toThrow(/cannot size/);
  });
});

/** A feature cache that keeps what it is given, by key. */
class KeptFeatures implements FeatureCache {
  readonly map = new Map<string, Float32Array>();
  async get(key: FeatureKey) {
    return this.map.get(featureKeyString(key));
  }
  async put(key: FeatureKey, data: Float32Array) {
    this.map.set(featureKeyString(key), data);
  }
}

describe('Trainer: the Winograd feature sessions as a chain', () => {
  it('extracts the features a plain base extracts, from several sessions', async () => {
    const bundle = await buildBundle({
      id: 'tiny',
      cfg: CFG,
      weights: demoWeights(CFG, 6),
      source: 'demo',
      pretrained: false,
      labels: Array.from({ length: CFG.classes }, (_, i) => `thing ${i}`),
      preprocessing: 'caffe',
      quantization: 'int8',
    });
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'tiny', ['base']);
    const hash = await baseModelHash(manifest);
    const photos = await Promise.all(
      ['chessboard/left01.jpg', 'grass/grass_r0c0.png', 'chessboard/left02.jpg', 'grass/grass_r0c1.png'].map(
        async (f, i) => ({ id: f, label: i % 2, image: await readImage(`test/fixtures/photos/${f}`) }),
      ),
    );
    const created: string[] = [];
    const inner = ortRuntime(['wasm']);
    const recording: GraphRuntime = { create: (g, o) => (created.push(g.name), inner.create(g, o)) };
    const extract = async (runtime: GraphRuntime, winograd: boolean) => {
      const cache = new KeptFeatures();
      const trainer = new Trainer(runtime, cache);
      const base = { manifest, files, hash, winograd, pieceWeights: MAX };
      const settings = { variants: 2, seed: 1, inputSize: S, augment: undefined };
      await trainer.features(base, photos, new Set(), settings, FEATURE_LAYERS, {});
      await trainer.dispose();
      return cache.map;
    };
    const chained = await extract(recording, true);
    const plain = await extract(inner, false);
    expect(created.filter((n) => n.startsWith('convlens-features')).length).toBeGreaterThan(2);
    expect(chained.size).toBe(photos.length * 2 * FEATURE_LAYERS.length);
    // A feature's key does not name the graph's form: the same keys, and the same features under them.
    expect([...chained.keys()].sort()).toEqual([...plain.keys()].sort());
    for (const [key, v] of chained) expectClose(v, plain.get(key)!);
  });
});
