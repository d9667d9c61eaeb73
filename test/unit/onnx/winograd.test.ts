/**
 * The Winograd rewrite of 3×3 convolutions against the plain Conv, in onnxruntime-web (WASM):
 * single layers at TINY_VGG and VGG16 sizes, both tile sizes, symbolic batch; non-eligible convs
 * left alone; the whole TINY_VGG forward; and gradients (Grad-CAM, input and kernel gradients)
 * generated on the rewritten forward graph.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { backward } from '../../../src/core/autodiff/backward';
import { camFromGradient } from '../../../src/core/graphs/analyze';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import { encodeModel } from '../../../src/core/onnx/encode';
import type { Graph } from '../../../src/core/onnx/ir';
import type { WinogradOptions } from '../../../src/core/onnx/winograd';
import { winogradRewrite } from '../../../src/core/onnx/winograd';
import { imagenetHead, inlineWeights, vggBase } from '../../../src/core/vgg16/graph';
import type { LayerWeights } from '../../../src/core/vgg16/spec';
import { kernelDims, layers, TINY_VGG } from '../../../src/core/vgg16/spec';
import { compile, mulberry32, normal, uniform } from '../../helpers/ort';

/** max |a − b| / max |a|: the error relative to the output's scale. */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(b.length).toBe(a.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(a[i]!));
  }
  expect(m).toBeGreaterThan(0);
  return d / m;
}

const opsOf = (g: Graph) => g.nodes.map((n) => n.op);

/** One Conv (+ bias) + ReLU layer with He-scaled weights; caffe-range input. */
function layer(C: number, O: number, H: number, W = H, bias = true, seed = 1) {
  const rng = mulberry32(seed);
  const b = new GraphBuilder('layer');
  const x = b.input('x', 'float32', [1, C, H, W]);
  b.initializer({
    name: 'w',
    dtype: 'float32',
    dims: [O, C, 3, 3],
    data: normal(rng, O * C * 9, Math.sqrt(2 / (9 * C))),
  });
  if (bias) b.initializer({ name: 'b', dtype: 'float32', dims: [O], data: uniform(rng, O, -0.5, 0.5) });
  const y = b.conv(x, 'w', bias ? 'b' : undefined, { pads: [1, 1, 1, 1] }, 'conv');
  b.output(y);
  b.output(b.relu(y, 'act'));
  return { graph: b.graph, conv: y, x: uniform(rng, C * H * W, -124, 152) };
}

describe('winogradRewrite: one layer vs the plain Conv (onnxruntime-web)', () => {
  const cases: [string, number, number, number, number, 2 | 4, boolean][] = [
    ['TINY block1', 4, 4, 32, 32, 2, true],
    ['TINY block2', 8, 8, 16, 16, 4, true],
    ['TINY block5 (2×2, tile padded)', 16, 16, 2, 2, 4, true],
    ['odd sizes, no bias', 8, 5, 7, 10, 2, false],
    ['VGG16 block3-like, 64→64 at 56×56', 64, 64, 56, 56, 2, true],
    ['VGG16 block3-like, 64→64 at 56×56', 64, 64, 56, 56, 4, true],
    ['VGG16 block5, 512→512 at 14×14', 512, 512, 14, 14, 2, true],
    ['VGG16 block5, 512→512 at 14×14', 512, 512, 14, 14, 4, true],
  ];
  it.each(cases)(
    '%s: C=%i O=%i %i×%i, tile %s',
    async (_, C, O, H, W, tile, bias) => {
      const { graph, conv, x } = layer(C, O, H, W, bias);
      const wino = winogradRewrite(graph, { minChannels: 1, plan: { tile } });
      expect(wino.nodes.some((n) => n.op === 'Conv' && n.inputs[1] === 'w')).toBe(false);
      expect(wino.nodes.find((n) => n.outputs.includes(conv))?.op).toBe(bias ? 'Add' : 'Identity');
      const [plain, ours] = await Promise.all([compile(graph), compile(wino)]);
      const ref = await plain.run({ x });
      const got = await ours.run({ x });
      const err = relErr(ref[conv]!, got[conv]!);
      if (process.env.WINO_LOG)
        console.log(`${C}→${O} ${H}×${W} tile ${String(tile)}: relative error ${err.toExponential(2)}`);
      // Measured (fp32): F(2×2) ≈ 2e-7 … 7e-7, F(4×4) ≈ 2e-6 … 2e-5 relative to max |y|.
      expect(err).toBeLessThan(1e-4);
      const act = graph.outputs[1]!.name;
      expect(relErr(ref[act]!, got[act]!)).toBeLessThan(1e-4);
    },
    60_000,
  );

  it('handles a symbolic batch size (N = 3 at run time)', async () => {
    const rng = mulberry32(5);
    const [C, O, H] = [8, 6, 12];
    const b = new GraphBuilder('batched');
    const x = b.input('x', 'float32', ['N', C, H, H]);
    b.initializer({ name: 'w', dtype: 'float32', dims: [O, C, 3, 3], data: normal(rng, O * C * 9, 0.3) });
    b.initializer({ name: 'b', dtype: 'float32', dims: [O], data: uniform(rng, O) });
    const y = b.output(b.conv(x, 'w', 'b', { pads: [1, 1, 1, 1] }));
    const feeds = { x: new ort.Tensor('float32', uniform(rng, 3 * C * H * H, -100, 100), [3, C, H, H]) };
    const plans = [
      { tile: 2, orientation: 'OC' },
      { tile: 4, orientation: 'TC' },
      { tile: 4, input: 'tall', output: 'kron' },
    ] as const;
    for (const plan of plans) {
      const wino = winogradRewrite(b.graph, { minChannels: 1, plan });
      expect(wino.values.get(y)!.shape).toEqual(['N', O, H, H]);
      const [s1, s2] = await Promise.all([
        ort.InferenceSession.create(encodeModel(b.graph)),
        ort.InferenceSession.create(encodeModel(wino)),
      ]);
      const r1 = (await s1.run(feeds))[y]!;
      const r2 = (await s2.run(feeds))[y]!;
      expect(r2.dims).toEqual([3, O, H, H]);
      expect(relErr(r1.data as Float32Array, r2.data as Float32Array)).toBeLessThan(1e-4);
    }
  });
});

describe('winogradRewrite: what it leaves alone', () => {
  function mixed() {
    const b = new GraphBuilder('mixed');
    let h = b.input('x', 'float32', [1, 32, 16, 16]);
    const w = (name: string, dims: number[]) =>
      b.initializer({
        name,
        dtype: 'float32',
        dims,
        data: new Float32Array(dims.reduce((p, q) => p * q, 1)).fill(0.01),
      });
    h = b.conv(h, w('stride2', [32, 32, 3, 3]), undefined, { pads: [1, 1, 1, 1], strides: [2, 2] }); // 8×8
    h = b.conv(h, w('one', [32, 32, 1, 1])); // 1×1
    h = b.conv(h, w('nopad', [32, 32, 3, 3])); // pads 0 → 6×6
    h = b.conv(h, w('grouped', [32, 16, 3, 3]), undefined, { pads: [1, 1, 1, 1], group: 2 });
    h = b.conv(h, w('dilated', [32, 32, 3, 3]), undefined, { pads: [2, 2, 2, 2], dilations: [2, 2] });
    h = b.conv(h, w('asym', [32, 32, 3, 3]), undefined, { pads: [1, 1, 0, 0] });
    b.output(h);
    return b.graph;
  }

  it('stride 2, 1×1, pads 0, grouped, dilated and asymmetric-pad convs are untouched', () => {
    const g = mixed();
    const out = winogradRewrite(g, { minChannels: 1 });
    expect(out.nodes).toEqual(g.nodes);
    expect([...out.initializers.keys()]).toEqual([...g.initializers.keys()]);
  });

  it('minChannels and the layers filter; the input graph is not modified', () => {
    const { graph } = layer(8, 8, 8);
    const before = JSON.stringify(graph.nodes);
    const n = graph.nodes.length;
    expect(winogradRewrite(graph).nodes).toEqual(graph.nodes); // default minChannels 16 > C = 8
    expect(
      winogradRewrite(graph, { minChannels: 1, layers: (node) => node.name !== graph.nodes[0]!.name }).nodes,
    ).toEqual(graph.nodes);
    expect(winogradRewrite(graph, { minChannels: 8 }).nodes.length).toBeGreaterThan(n);
    expect(JSON.stringify(graph.nodes)).toBe(before);
    expect(graph.nodes.length).toBe(n);
  });

  it('the default plan: F(4×4) above 14×14, F(2×2) (2.25× smaller kernels) at 14×14 and below', () => {
    // α² tile positions of the transformed kernel U, the kernel-transform Gemm's output rows.
    const positions = (H: number, W = H) => {
      const g = winogradRewrite(layer(16, 16, H, W).graph);
      const gemm = g.nodes.find((node) => node.op === 'Gemm')!;
      return g.values.get(gemm.outputs[0]!)!.shape[0];
    };
    expect([positions(56), positions(28), positions(15), positions(14, 28)]).toEqual([36, 36, 36, 36]);
    expect([positions(14), positions(7), positions(14, 10)]).toEqual([16, 16, 16]);
  });
});

// ---- whole network and gradients on TINY_VGG ----

function heWeights(seed: number): Map<string, LayerWeights> {
  const rng = mulberry32(seed);
  const w = new Map<string, LayerWeights>();
  for (const l of layers(TINY_VGG)) {
    if (l.kind === 'pool') continue;
    const k = kernelDims(l);
    const n = k.reduce((p, q) => p * q, 1);
    w.set(l.name, { kernel: normal(rng, n, Math.sqrt(2 / (n / k[0]!))), bias: uniform(rng, k[0]!, -0.05, 0.05) });
  }
  return w;
}

describe('winogradRewrite on TINY_VGG: forward, and gradients generated on the rewritten graph', () => {
  const cfg = TINY_VGG;
  const S = cfg.inputSize;
  const weights = heWeights(3);
  const image = uniform(mulberry32(9), 3 * S * S, -124, 152);

  /** Forward graph; with `wino` rewritten; then `grads` adds gradient outputs on the result. */
  function build(
    wino: WinogradOptions | null,
    grads?: (b: GraphBuilder, acts: Map<string, string>, logits: string) => void,
  ): Graph {
    const b0 = new GraphBuilder('tiny');
    const x = b0.input('image', 'float32', [1, 3, S, S]);
    const ref = inlineWeights(b0, cfg, weights);
    const acts = vggBase(b0, cfg, x, ref);
    const logits = imagenetHead(b0, cfg, acts.get('block5_pool')!, ref, acts);
    b0.output(logits);
    const g = wino ? winogradRewrite(b0.graph, wino) : b0.graph;
    if (grads) grads(new GraphBuilder(g), acts, logits);
    return g;
  }

  it.each([2, 4] as const)('logits match with every conv rewritten, tile %i', async (tile) => {
    const wino = build({ minChannels: 1, plan: { tile } });
    expect(opsOf(wino).filter((op) => op === 'MatMul').length).toBeGreaterThanOrEqual(13);
    const [plain, ours] = await Promise.all([compile(build(null)), compile(wino)]);
    const name = wino.outputs[0]!.name;
    const err = relErr((await plain.run({ image }))[name]!, (await ours.run({ image }))[name]!);
    if (process.env.WINO_LOG) console.log(`TINY_VGG logits, tile ${tile}: relative error ${err.toExponential(2)}`);
    expect(err).toBeLessThan(1e-4);
  });

  const plans: [string, WinogradOptions][] = [
    ['default plan', { minChannels: 1 }],
    ['F(2×2), OC', { minChannels: 1, plan: { tile: 2, orientation: 'OC' } }],
    ['F(4×4), tall input, kron output', { minChannels: 1, plan: { tile: 4, input: 'tall', output: 'kron' } }],
  ];
  it.each(plans)(
    'Grad-CAM (block3_conv3, block5_conv3), d logit/d image, d logit/d block4_conv1 kernel match (%s)',
    async (_, opts) => {
      const cls = 2;
      const grads = (b: GraphBuilder, acts: Map<string, string>, logits: string) => {
        const seed = b.constant(
          {
            dtype: 'float32',
            dims: [1, cfg.classes],
            data: Float32Array.from({ length: cfg.classes }, (_, i) => (i === cls ? 1 : 0)),
          },
          'seed',
        );
        const wrt = [acts.get('block3_conv3')!, acts.get('block5_conv3')!, 'image', 'block4_conv1/kernel'];
        const g = backward(b, [{ name: logits, seed }], wrt);
        const out = (v: string, name: string) => {
          b.graph.nodes.push({ op: 'Identity', inputs: [v], outputs: [name], attrs: {}, name: `${name}_out` });
          b.graph.values.set(name, { ...b.graph.values.get(v)!, name });
          b.output(name);
        };
        out(camFromGradient(b, wrt[0]!, g.get(wrt[0]!)!), 'cam3');
        out(camFromGradient(b, wrt[1]!, g.get(wrt[1]!)!), 'cam5');
        out(g.get('image')!, 'dimage');
        out(g.get('block4_conv1/kernel')!, 'dkernel');
      };
      const plainG = build(null, grads);
      const winoG = build(opts, grads);
      // The backward really runs through the rewritten subgraphs (Pad, Slice, MatMul, Gemm, …).
      expect(opsOf(winoG)).toContain('Pad');
      const [plain, ours] = await Promise.all([compile(plainG), compile(winoG)]);
      const ref = await plain.run({ image });
      const got = await ours.run({ image });
      for (const k of ['cam3', 'cam5', 'dimage', 'dkernel']) {
        expect(Math.max(...ref[k]!.map(Math.abs)), k).toBeGreaterThan(0);
        const err = relErr(ref[k]!, got[k]!);
        if (process.env.WINO_LOG) console.log(`TINY_VGG ${k}: relative error ${err.toExponential(2)}`);
        expect(err, k).toBeLessThan(1e-4);
      }
    },
    60_000,
  );
});
