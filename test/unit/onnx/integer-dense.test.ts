/**
 * Dense layers on int8 weights as integer products (src/core/onnx/integer-dense.ts): within the
 * two-row split's error bound of the dequantized Gemm (forward x·Wᵀ and backward dz·W), which readers
 * it takes, and the live graph it makes of an int8 bundle (no fp32 dense kernel left).
 */
import { describe, expect, it } from 'vitest';
import { buildBundle } from '../../../src/core/bundle/build';
import { loadBundle, weightRefs } from '../../../src/core/bundle/load';
import { buildLiveGraphs } from '../../../src/core/graphs/analyze';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import { integerDenseRewrite } from '../../../src/core/onnx/integer-dense';
import type { Graph } from '../../../src/core/onnx/ir';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { MemoryStore } from '../../helpers/memory-store';
import { compile, mulberry32, normal, uniform } from '../../helpers/ort';

const K = 300;
const N = 24;
const rand = mulberry32(17);
const Q = Int8Array.from({ length: N * K }, () => Math.round(rand() * 254) - 127);
const scale = uniform(rand, N, 0.001, 0.02);
const bias = uniform(rand, N, -1, 1);

/** z = x·(s ⊙ Q)ᵀ + bias, the kernel in `blocks` row blocks (one Gemm each, joined by a Concat). */
function denseGraph(blocks = 1, withBias = true): { g: Graph; z: string } {
  const b = new GraphBuilder('dense');
  const x = b.input('x', 'float32', [1, K]);
  const rows = N / blocks;
  const outs = Array.from({ length: blocks }, (_, i) => {
    const q = b.constant({ dtype: 'int8', dims: [rows, K], data: Q.slice(i * rows * K, (i + 1) * rows * K) }, 'q');
    const s = b.constant({ dtype: 'float32', dims: [rows], data: scale.slice(i * rows, (i + 1) * rows) }, 's');
    const c = b.constant({ dtype: 'float32', dims: [rows], data: bias.slice(i * rows, (i + 1) * rows) }, 'bias');
    return b.gemm(x, b.dequantizeLinear(q, s, undefined, 0), withBias ? c : undefined, { transB: 1 });
  });
  const z = b.output(blocks === 1 ? outs[0]! : b.concat(outs, 1));
  return { g: b.graph, z };
}

const ops = (g: Graph) => g.nodes.map((n) => n.op);

/** The reference in float64 from the same int8 kernel: Σ_k x_k·s_n·Q_nk (+ bias_n). */
function reference(x: Float32Array, withBias = true): Float64Array {
  return Float64Array.from({ length: N }, (_, n) => {
    let z = withBias ? bias[n]! : 0;
    for (let k = 0; k < K; k++) z += x[k]! * scale[n]! * Q[n * K + k]!;
    return z;
  });
}

/** |Δz_n| ≤ s₂/2·Σ_k |W_nk| (x's split error) + float32 rounding of the sums. */
function bound(x: Float32Array, n: number): number {
  const s2 = Math.max(...Array.from(x, Math.abs)) / 127 / 254;
  let l1 = 0;
  for (let k = 0; k < K; k++) l1 += Math.abs(scale[n]! * Q[n * K + k]!);
  return (s2 / 2) * l1 + 1e-5 * (1 + Math.abs(reference(x)[n]!));
}

describe('integer dense layers', () => {
  it.each([
    ['signed, heavy-tailed x', normal(mulberry32(1), K, 1).map((v, i) => (i % 37 === 0 ? v * 40 : v))],
    ['post-ReLU x (half zeros)', normal(mulberry32(2), K, 3).map((v) => Math.max(0, v))],
  ])('stays within the two-row split error bound of the fp32 product: %s', async (_, x) => {
    const { g, z } = denseGraph();
    const rewritten = integerDenseRewrite(g);
    expect(ops(rewritten)).toContain('MatMulInteger');
    expect(ops(rewritten)).not.toContain('DequantizeLinear');
    expect(ops(rewritten)).not.toContain('Gemm');
    const got = (await (await compile(rewritten)).run({ x }))[z]!;
    const want = reference(x);
    let worst = 0;
    for (let n = 0; n < N; n++) {
      const err = Math.abs(got[n]! - want[n]!);
      expect(err).toBeLessThanOrEqual(bound(x, n));
      worst = Math.max(worst, err);
    }
    // x in one 8-bit row (q₁ alone), in float64: the second row must buy most of that error back.
    const s1 = Math.max(...Array.from(x, Math.abs)) / 127;
    const oneRow = reference(x.map((v) => s1 * Math.round(v / s1)));
    const worstOneRow = Math.max(...want.map((v, n) => Math.abs(oneRow[n]! - v)));
    expect(worst).toBeLessThan(worstOneRow / 20);
  });

  it('gives exactly the bias for an all-zero x (no 0/0 in the scale)', async () => {
    const { g, z } = denseGraph();
    const got = (await (await compile(integerDenseRewrite(g))).run({ x: new Float32Array(K) }))[z]!;
    expect(Array.from(got)).toEqual(Array.from(bias));
  });

  it('splits x once for all the row blocks of one kernel, and keeps their order', async () => {
    const x = normal(mulberry32(3), K, 2);
    const { g, z } = denseGraph(3, false);
    const rewritten = integerDenseRewrite(g);
    expect(ops(rewritten).filter((o) => o === 'MatMulInteger')).toHaveLength(3);
    expect(ops(rewritten).filter((o) => o === 'Round')).toHaveLength(2); // q₁ and q₂, once
    const got = (await (await compile(rewritten)).run({ x }))[z]!;
    const want = reference(x, false);
    for (let n = 0; n < N; n++) expect(Math.abs(got[n]! - want[n]!)).toBeLessThanOrEqual(bound(x, n));
  });

  it('takes the backward product dz·W of the same kernel too, within its own split bound', async () => {
    const { g, z } = denseGraph();
    const b = new GraphBuilder(g);
    const w = g.nodes.find((n) => n.op === 'DequantizeLinear')!.outputs[0]!;
    const dx = b.output(b.gemm(b.input('dz', 'float32', [1, N]), w)); // dz·W, as the gradient generator emits
    const rewritten = integerDenseRewrite(b.graph);
    expect(ops(rewritten).filter((o) => o === 'MatMulInteger')).toHaveLength(2);
    expect(ops(rewritten)).not.toContain('DequantizeLinear');
    const x = normal(mulberry32(4), K, 2);
    const dz = normal(mulberry32(5), N, 1).map((v, i) => (i % 5 === 0 ? v * 30 : v));
    const out = await (await compile(rewritten)).run({ x, dz });
    for (let n = 0; n < N; n++) expect(Math.abs(out[z]![n]! - reference(x)[n]!)).toBeLessThanOrEqual(bound(x, n));
    // dx_k = Σ_n dz_n·s_n·Q_nk; the split is of dz ⊙ s: |Δ| ≤ s₂/2·Σ_n |Q_nk| + rounding.
    const ds = Array.from(dz, (v, n) => v * scale[n]!);
    const s2 = Math.max(...ds.map(Math.abs)) / 127 / 254;
    for (let k = 0; k < K; k++) {
      let want = 0;
      let l1 = 0;
      for (let n = 0; n < N; n++) {
        want += ds[n]! * Q[n * K + k]!;
        l1 += Math.abs(Q[n * K + k]!);
      }
      expect(Math.abs(out[dx]![k]! - want)).toBeLessThanOrEqual((s2 / 2) * l1 + 1e-5 * (1 + Math.abs(want)));
    }
  });

  it('gathers rows of the int8 kernel for a row Gather, and leaves a kernel with any other reader in fp32', async () => {
    const { g } = denseGraph();
    const b = new GraphBuilder(g);
    const w = g.nodes.find((n) => n.op === 'DequantizeLinear')!.outputs[0]!;
    const idx = b.constant({ dtype: 'int64', dims: [2], data: BigInt64Array.of(3n, 17n) }, 'idx');
    const rows = b.output(b.gather(w, idx, 0));
    const rewritten = integerDenseRewrite(b.graph);
    expect(ops(rewritten)).not.toContain('DequantizeLinear');
    const got = (await (await compile(rewritten)).run({ x: new Float32Array(K) }))[rows]!;
    const want = [3, 17].flatMap((n) => Array.from({ length: K }, (_, k) => scale[n]! * Q[n * K + k]!));
    for (const [i, v] of want.entries()) expect(got[i]).toBeCloseTo(v, 6);

    const c = new GraphBuilder(denseGraph().g);
    const w2 = c.graph.nodes.find((n) => n.op === 'DequantizeLinear')!.outputs[0]!;
    c.output(c.reduce('ReduceSum', w2, [1])); // e.g. row sums computed in the graph
    expect(ops(integerDenseRewrite(c.graph))).toEqual(ops(c.graph));
  });

  it('leaves fp32 kernels, transA and alpha ≠ 1 alone', () => {
    const b = new GraphBuilder('others');
    const x = b.input('x', 'float32', [1, K]);
    const q = (dims: number[]) => b.constant({ dtype: 'int8', dims, data: new Int8Array(dims[0]! * dims[1]!) }, 'q');
    const s = (n: number) => b.constant({ dtype: 'float32', dims: [n], data: new Float32Array(n).fill(0.1) }, 's');
    const f32 = b.constant({ dtype: 'float32', dims: [N, K], data: new Float32Array(N * K) }, 'w');
    b.output(b.gemm(x, f32, undefined, { transB: 1 }));
    b.output(b.gemm(x, b.dequantizeLinear(q([N, K]), s(N), undefined, 0), undefined, { transB: 1, alpha: 2 }));
    const xt = b.input('xt', 'float32', [K, 1]);
    b.output(b.gemm(xt, b.dequantizeLinear(q([N, K]), s(N), undefined, 0), undefined, { transA: 1, transB: 1 }));
    expect(ops(integerDenseRewrite(b.graph))).toEqual(ops(b.graph));
  });
});

describe('the live graph of an int8 bundle with integerDense', () => {
  it('runs fc1, fc2 and predictions as integer products, forward and backward, with no fp32 kernel', async () => {
    const cfg = { ...TINY_VGG, inputSize: 96 };
    const bundle = await buildBundle({
      id: 'int',
      cfg,
      weights: demoWeights(cfg, 3),
      quantization: 'int8',
      source: 'demo',
      pretrained: false,
      seed: 3,
      preprocessing: 'caffe',
      labels: 'imagenet',
      maxShardBytes: 1024,
    });
    const parts = ['base', 'imagenet-head'] as const;
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'int', [...parts]);
    const live = (integerDense: boolean) =>
      buildLiveGraphs({ cfg, weights: (b) => weightRefs(b, manifest, [...parts], files), integerDense }).back!;
    const [plain, integer] = [live(false), live(true)];
    const kernelsOf = (g: Graph, op: string) =>
      g.nodes.filter((n) => n.op === op).map((n) => n.inputs[0]!.split('/')[0]!.replace(/_.*$/, ''));
    expect(new Set(kernelsOf(plain, 'DequantizeLinear'))).toEqual(new Set(['fc1', 'fc2', 'predictions']));
    expect(kernelsOf(integer, 'DequantizeLinear')).toEqual([]);
    const fc1Blocks = plain.nodes.filter((n) => n.op === 'DequantizeLinear' && n.inputs[0]!.startsWith('fc1/')).length;
    expect(fc1Blocks).toBeGreaterThan(1);
    // fc1's blocks; fc2 forward and Grad-CAM's product through it; predictions forward (its class row: a Gather).
    expect(ops(integer).filter((o) => o === 'MatMulInteger')).toHaveLength(fc1Blocks + 3);
  });
});
