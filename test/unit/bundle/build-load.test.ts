/**
 * buildBundle → loadBundle → weightRefs, run in onnxruntime-web: the graph over a bundle's external
 * data (int8 DequantizeLinear, split tensors joined by Concat) computes what the same graph computes
 * with the weights inline. Plus determinism and readWeights.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it, vi } from 'vitest';
import type { Bundle, BuildOptions } from '../../../src/core/bundle/build';
import { buildBundle } from '../../../src/core/bundle/build';
import { loadBundle, markVerified, readShards, readWeights, weightRefs } from '../../../src/core/bundle/load';
import { MAX_SHARD_BYTES } from '../../../src/core/bundle/manifest';
import { parseManifest } from '../../../src/core/bundle/verify';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import { encodeModel } from '../../../src/core/onnx/encode';
import { dequantize, quantizePerChannel } from '../../../src/core/quant/int8';
import { demoWeights } from '../../../src/core/vgg16/demo';
import type { WeightRef } from '../../../src/core/vgg16/graph';
import { imagenetHead, inlineWeights, vggBase } from '../../../src/core/vgg16/graph';
import type { VggWeights } from '../../../src/core/vgg16/spec';
import { kernelDims, layers, TINY_VGG, WeightsMismatchError } from '../../../src/core/vgg16/spec';
import { MemoryStore } from '../../helpers/memory-store';

ort.env.wasm.numThreads = 1;

const cfg = TINY_VGG;
const S = cfg.inputSize;
const weights = demoWeights(cfg, 1);
const common: Omit<BuildOptions, 'quantization'> = {
  id: 'tiny',
  cfg,
  weights,
  source: 'demo',
  pretrained: false,
  seed: 1,
  preprocessing: 'caffe',
  labels: 'imagenet',
  created: '2024-01-01T00:00:00.000Z',
};

/** Logits and block5_conv3's activations of the forward graph, weights from `weight`. */
async function forward(weight: (b: GraphBuilder) => WeightRef, externalData?: Map<string, Uint8Array>) {
  const b = new GraphBuilder('bundle-test');
  const x = b.input('x', 'float32', [1, 3, S, S]);
  const ref = weight(b);
  const acts = vggBase(b, cfg, x, ref);
  const logits = imagenetHead(b, cfg, acts.get('block5_pool')!, ref, acts);
  b.output(acts.get('block5_conv3')!);
  b.output(logits);
  const session = await ort.InferenceSession.create(encodeModel(b.graph), {
    externalData: externalData ? [...externalData].map(([path, data]) => ({ path, data })) : undefined,
  });
  const image = new Float32Array(3 * S * S).map((_, i) => ((i * 7919) % 255) - 120);
  const out = await session.run({ x: new ort.Tensor('float32', image, [1, 3, S, S]) });
  await session.release();
  return b.graph.outputs.map((o) => out[o.name]!.data as Float32Array);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function maxAbs(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

/** What the int8 graph's weights should be: each kernel quantized and dequantized. */
function roundTripped(w: VggWeights): VggWeights {
  const out: VggWeights = new Map();
  for (const l of layers(cfg)) {
    if (l.kind === 'pool') continue;
    const dims = kernelDims(l);
    const { q, scale } = quantizePerChannel(w.get(l.name)!.kernel, dims);
    out.set(l.name, { kernel: dequantize(q, scale, dims), bias: w.get(l.name)!.bias });
  }
  return out;
}

describe.each([
  ['int8', 'int8', undefined],
  ['int8, 256-byte shards (split kernels)', 'int8', 256],
  ['fp32', 'fp32', undefined],
  ['fp32, 1 KiB shards (split kernels)', 'fp32', 1024],
] as const)('bundle of TINY_VGG, %s', (_, quantization, maxShardBytes) => {
  let bundle: Bundle;
  const build = () => buildBundle({ ...common, quantization, maxShardBytes });

  it('builds: every shard under the cap, tensors as planned', async () => {
    bundle = await build();
    const cap = maxShardBytes ?? MAX_SHARD_BYTES;
    expect(bundle.manifest.parts.map((p) => p.name)).toEqual(['base', 'imagenet-head']);
    for (const p of bundle.manifest.parts) {
      expect(p.bytes).toBe(p.shards.reduce((a, s) => a + s.bytes, 0));
      for (const s of p.shards) {
        expect(s.bytes).toBeLessThanOrEqual(cap);
        expect(bundle.shards.get(s.file)!.length).toBe(s.bytes);
        expect(s.file).toMatch(new RegExp(`^${p.name}-\\d{3}\\.bin$`));
      }
    }
    const split = bundle.manifest.tensors.filter((t) => t.piece);
    if (maxShardBytes) {
      expect(split.some((t) => t.layer === 'fc1' || t.layer === 'block5_conv3')).toBe(true);
    } else expect(split).toEqual([]);
    if (quantization === 'int8') {
      expect(bundle.manifest.tensors.filter((t) => t.role === 'kernel').every((t) => t.dtype === 'int8')).toBe(true);
      expect(bundle.manifest.tensors.filter((t) => t.role === 'scale').length).toBeGreaterThan(0);
    } else expect(bundle.manifest.tensors.every((t) => t.dtype === 'float32')).toBe(true);
  });

  it('is deterministic: byte-identical shards and manifest', async () => {
    const again = await build();
    expect(JSON.stringify(again.manifest)).toBe(JSON.stringify(bundle.manifest));
    expect([...again.shards.keys()]).toEqual([...bundle.shards.keys()]);
    for (const [file, bytes] of again.shards) expect(Buffer.compare(bytes, bundle.shards.get(file)!), file).toBe(0);
    // …and the manifest survives JSON and parseManifest unchanged.
    expect(parseManifest(JSON.parse(JSON.stringify(bundle.manifest)))).toEqual(bundle.manifest);
  });

  it('readWeights returns the stored weights (dequantized exactly for int8)', async () => {
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'tiny', ['base', 'imagenet-head']);
    const back = readWeights(manifest, files);
    const want = quantization === 'int8' ? roundTripped(weights) : weights;
    expect([...back.keys()]).toEqual([...want.keys()]);
    for (const [name, lw] of want) {
      expect(back.get(name)!.kernel, name).toEqual(lw.kernel);
      expect(back.get(name)!.bias, name).toEqual(lw.bias);
    }
  });

  it('rowSums: each stored dense block, rows summed over runs of columns, from the bytes in hand', async () => {
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'tiny', ['base', 'imagenet-head']);
    const parts = manifest.parts.map((p) => p.name);
    const dense = readWeights(manifest, files).get('fc1')!.kernel; // (units, inputs), dequantized
    const [units, inputs] = [cfg.fc[0]!, dense.length / cfg.fc[0]!];
    const groups = 16; // block5's channels: runs of inputs / 16 values
    const run = inputs / groups;
    const b = new GraphBuilder('sums');
    const ref = weightRefs(b, manifest, parts, files);
    const blocks = ref.blocks!('fc1');
    let row = 0;
    for (const value of blocks) {
      const sums = ref.rowSums!(value, groups)!;
      const rows = sums.length / groups;
      for (let r = 0; r < rows; r++)
        for (let g = 0; g < groups; g++) {
          let want = 0;
          for (let i = 0; i < run; i++) want += dense[(row + r) * inputs + g * run + i]!;
          expect(Math.abs(sums[r * groups + g]! - want)).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(want)));
        }
      row += rows;
    }
    expect(row).toBe(units); // the blocks cover fc1
    expect(ref.rowSums!(blocks[0]!, inputs + 1)).toBeUndefined(); // runs that do not divide a row
    expect(ref.rowSums!('not-a-kernel', groups)).toBeUndefined();
    expect(weightRefs(new GraphBuilder('no-files'), manifest, parts).rowSums).toBeUndefined();
  });

  it('the graph over the bundle (external data) equals the graph with the weights inline', async () => {
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'tiny', ['base', 'imagenet-head']);
    const parts = manifest.parts.map((p) => p.name);
    const fromBundle = await forward((b) => weightRefs(b, manifest, parts), files);
    // int8: the same graph on the dequantized weights (bit-close); fp32: on the original weights.
    const reference = quantization === 'int8' ? roundTripped(weights) : weights;
    const inline = await forward((b) => inlineWeights(b, cfg, reference));
    for (const [i, a] of fromBundle.entries()) {
      expect(maxAbs(a)).toBeGreaterThan(0.1); // not a dead network
      expect(maxAbsDiff(a, inline[i]!) / maxAbs(inline[i]!)).toBeLessThanOrEqual(1e-5);
    }
    if (quantization === 'int8') {
      // …and int8 stays near fp32 (a sanity check of the quantization, not an exact bound).
      const fp32 = await forward((b) => inlineWeights(b, cfg, weights));
      expect(maxAbsDiff(fromBundle[1]!, fp32[1]!) / maxAbs(fp32[1]!)).toBeLessThan(0.05);
    }
  });
});

describe('buildBundle inputs', () => {
  it('weights without the head give a base-only bundle, whose graph runs up to block5_pool', async () => {
    const base = new Map([...weights].filter(([name]) => name.startsWith('block')));
    const bundle = await buildBundle({ ...common, weights: base, quantization: 'int8', maxShardBytes: 512 });
    expect(bundle.manifest.parts.map((p) => p.name)).toEqual(['base']);
    const { manifest, files } = await loadBundle(new MemoryStore().add(bundle), 'tiny', ['base']);
    const b = new GraphBuilder('base-only');
    const ref = weightRefs(b, manifest, ['base']);
    const acts = vggBase(b, cfg, b.input('x', 'float32', [1, 3, S, S]), ref);
    b.output(acts.get('block5_pool')!);
    expect(() => ref('fc1', 'kernel')).toThrow(/fc1\/kernel/);
    const session = await ort.InferenceSession.create(encodeModel(b.graph), {
      externalData: [...files].map(([path, data]) => ({ path, data })),
    });
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(3 * S * S).fill(1), [1, 3, S, S]) });
    expect(out[acts.get('block5_pool')!]!.dims).toEqual([1, 16, 1, 1]);
    await session.release();
  });

  it('refuses missing layers and non-finite weights', async () => {
    const missing = new Map(weights);
    missing.delete('block2_conv1');
    await expect(buildBundle({ ...common, weights: missing, quantization: 'int8' })).rejects.toThrow(
      WeightsMismatchError,
    );
    const bad = new Map(weights);
    const k = weights.get('fc2')!.kernel.slice();
    k[7] = NaN;
    bad.set('fc2', { kernel: k, bias: weights.get('fc2')!.bias });
    await expect(buildBundle({ ...common, weights: bad, quantization: 'fp32' })).rejects.toThrow(
      /fc2\/kernel\[7\] is NaN/,
    );
    await expect(buildBundle({ ...common, weights: bad, quantization: 'int8' })).rejects.toThrow(/not finite/);
  });

  it('another seed gives other shards', async () => {
    const a = await buildBundle({ ...common, quantization: 'int8' });
    const b = await buildBundle({ ...common, weights: demoWeights(cfg, 2), seed: 2, quantization: 'int8' });
    expect(a.manifest.parts[0]!.shards[0]!.sha256).not.toBe(b.manifest.parts[0]!.shards[0]!.sha256);
  });
});

describe('verified once: a store that verifies its reads marks them (markVerified)', () => {
  /** A store over copies of a bundle's shards that marks every read with `mark(file)`'s sha256, if any. */
  function markingStore(bundle: Bundle, mark: (file: string) => string | undefined) {
    const inner = new MemoryStore().add(bundle);
    return {
      files: new Map([...bundle.shards].map(([f, b]) => [f, b.slice()])),
      manifest: (id: string) => inner.manifest(id),
      async shard(_id: string, file: string) {
        const bytes = this.files.get(file)!.slice();
        const sha = mark(file);
        if (sha) markVerified(bytes, sha);
        return bytes;
      },
    };
  }
  const shaOf = (bundle: Bundle, file: string) =>
    bundle.manifest.parts.flatMap((p) => p.shards).find((s) => s.file === file)!.sha256;

  it('loadBundle hashes nothing the store marked with the manifest sha256, and every unmarked shard', async () => {
    const bundle = await buildBundle({ ...common, quantization: 'int8', maxShardBytes: 4096 });
    const files = [...bundle.shards.keys()];
    expect(files.length).toBeGreaterThan(2);
    const digest = vi.spyOn(crypto.subtle, 'digest');
    try {
      await loadBundle(
        markingStore(bundle, (f) => shaOf(bundle, f)),
        'tiny',
        ['base', 'imagenet-head'],
      );
      expect(digest).not.toHaveBeenCalled();
      await loadBundle(
        markingStore(bundle, (f) => (f === files[0] ? undefined : shaOf(bundle, f))),
        'tiny',
        ['base', 'imagenet-head'],
      );
      expect(digest).toHaveBeenCalledTimes(1);
    } finally {
      digest.mockRestore();
    }
  });

  it('a mark naming another sha256 is not trusted: corrupt bytes still fail with ShardHashError', async () => {
    const bundle = await buildBundle({ ...common, quantization: 'int8', maxShardBytes: 4096 });
    const victim = [...bundle.shards.keys()][1]!;
    const store = markingStore(bundle, () => 'f'.repeat(64));
    store.files.get(victim)![3]! ^= 0x01;
    await expect(loadBundle(store, 'tiny', ['base', 'imagenet-head'])).rejects.toMatchObject({
      name: 'ShardHashError',
    });
  });

  it('a mark is used once: the same array read again is hashed again', async () => {
    const bundle = await buildBundle({ ...common, quantization: 'int8', maxShardBytes: 4096 });
    const file = [...bundle.shards.keys()][0]!;
    const manifest = parseManifest(bundle.manifest);
    const bytes = bundle.shards.get(file)!.slice();
    markVerified(bytes, shaOf(bundle, file));
    const store = { manifest: async () => manifest, shard: async () => bytes };
    expect((await readShards(store, 'tiny', manifest, [file])).get(file)).toBe(bytes);
    bytes[0]! ^= 0x01;
    await expect(readShards(store, 'tiny', manifest, [file])).rejects.toMatchObject({ name: 'ShardHashError' });
  });
});
