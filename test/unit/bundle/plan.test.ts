/** The shard layout from dims alone: full-size VGG16 sizes without allocating a single weight. */
import { describe, expect, it } from 'vitest';
import { MAX_SHARD_BYTES, SHARD_ALIGN } from '../../../src/core/bundle/manifest';
import { planBundle, rowBlocks } from '../../../src/core/bundle/plan';
import { convLayers, denseLayers, kernelDims, paramCount, TINY_VGG, VGG16 } from '../../../src/core/vgg16/spec';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const kernelElems = (ls: { kind: 'conv' | 'dense' }[]) =>
  sum(ls.map((l) => kernelDims(l as never).reduce((a, b) => a * b, 1)));

describe('planBundle on full-size VGG16', () => {
  const convChannels = sum(convLayers(VGG16).map((l) => l.cout)); // 4224
  const denseUnits = sum(denseLayers(VGG16).map((l) => l.units)); // 9192
  const baseKernel = kernelElems(convLayers(VGG16)); // 14,710,464
  const headKernel = kernelElems(denseLayers(VGG16)); // 123,633,664

  it('int8: base 14.7 MB, imagenet-head 123.7 MB (kernels 1 byte, scales and biases 4 bytes each)', () => {
    const plan = planBundle(VGG16, 'int8');
    const [base, head] = plan.parts;
    expect(base!.name).toBe('base');
    expect(head!.name).toBe('imagenet-head');
    expect(base!.bytes).toBe(baseKernel + 8 * convChannels);
    expect(head!.bytes).toBe(headKernel + 8 * denseUnits);
    expect(base!.bytes).toBe(14_744_256);
    expect(head!.bytes).toBe(123_707_200);
    expect(base!.shards.map((s) => s.file)).toEqual(['base-000.bin']);
    expect(head!.shards.map((s) => s.file)).toEqual([0, 1, 2, 3, 4].map((i) => `imagenet-head-00${i}.bin`));
  });

  it('fp32: base 58.9 MB, imagenet-head 494.6 MB', () => {
    const plan = planBundle(VGG16, 'fp32');
    expect(plan.parts.map((p) => p.bytes)).toEqual([
      4 * paramCount(VGG16, 'base'),
      4 * paramCount(VGG16, 'imagenet-head'),
    ]);
    expect(plan.parts.map((p) => p.bytes)).toEqual([58_858_752, 494_571_424]);
  });

  it.each(['int8', 'fp32'] as const)(
    '%s: every shard ≤ 32 MiB, tensors aligned, inside their shard, never overlapping',
    (q) => {
      const plan = planBundle(VGG16, q);
      const shards = new Map(plan.parts.flatMap((p) => p.shards.map((s) => [s.file, s.bytes])));
      for (const bytes of shards.values()) expect(bytes).toBeLessThanOrEqual(MAX_SHARD_BYTES);
      const ends = new Map<string, number>();
      for (const t of plan.tensors) {
        expect(t.offset % SHARD_ALIGN).toBe(0);
        expect(t.offset).toBeGreaterThanOrEqual(ends.get(t.shard) ?? 0);
        ends.set(t.shard, t.offset + t.length);
        expect(t.offset + t.length).toBeLessThanOrEqual(shards.get(t.shard)!);
      }
      // No gaps beyond alignment: the plan is dense.
      for (const [file, bytes] of shards) expect(ends.get(file)).toBe(bytes);
    },
  );

  it('splits fc1 into row blocks with matching scale blocks (int8: 4 × 1024 rows, 25.7 MB each)', () => {
    const plan = planBundle(VGG16, 'int8');
    const pieces = plan.tensors.filter((t) => t.layer === 'fc1' && t.role !== 'bias');
    expect(pieces.map((t) => t.name)).toEqual([
      'fc1/kernel#0',
      'fc1/kernel#1',
      'fc1/kernel#2',
      'fc1/kernel#3',
      'fc1/kernel_scale#0',
      'fc1/kernel_scale#1',
      'fc1/kernel_scale#2',
      'fc1/kernel_scale#3',
    ]);
    for (const [i, t] of pieces.entries()) {
      expect(t.piece).toEqual({ index: i % 4, count: 4, start: (i % 4) * 1024 });
      expect(t.dims).toEqual(t.role === 'kernel' ? [1024, 25088] : [1024]);
    }
    // Everything else fits whole.
    expect(plan.tensors.filter((t) => t.piece && t.layer !== 'fc1')).toEqual([]);
  });

  it('fp32 splits fc1 into 13 blocks and fc2 into 2, every block under the cap', () => {
    const plan = planBundle(VGG16, 'fp32');
    const fc1 = plan.tensors.filter((t) => t.name.startsWith('fc1/kernel#'));
    const fc2 = plan.tensors.filter((t) => t.name.startsWith('fc2/kernel#'));
    expect(fc1.map((t) => t.dims[0])).toEqual([...Array(12).fill(316), 304]);
    expect(fc2.map((t) => t.dims[0])).toEqual([2048, 2048]);
    for (const t of [...fc1, ...fc2]) expect(t.length).toBeLessThanOrEqual(MAX_SHARD_BYTES);
  });
});

describe('planBundle options', () => {
  it('lays out the base alone when asked', () => {
    const plan = planBundle(TINY_VGG, 'int8', { parts: ['base'] });
    expect(plan.parts.map((p) => p.name)).toEqual(['base']);
    expect(plan.tensors.every((t) => t.part === 'base')).toBe(true);
  });

  it('a small cap splits more, and every shard stays under it', () => {
    const plan = planBundle(TINY_VGG, 'int8', { maxShardBytes: 256 });
    for (const p of plan.parts) for (const s of p.shards) expect(s.bytes).toBeLessThanOrEqual(256);
    expect(plan.tensors.filter((t) => t.name.startsWith('block5_conv2/kernel#'))).toHaveLength(16); // 144-byte rows, one per block;
  });

  it('refuses caps outside 4 B … 32 MiB, and a cap below one row', () => {
    expect(() => planBundle(TINY_VGG, 'fp32', { maxShardBytes: MAX_SHARD_BYTES + 1 })).toThrow(RangeError);
    expect(() => planBundle(TINY_VGG, 'fp32', { maxShardBytes: 2 })).toThrow(RangeError);
    expect(() => planBundle(TINY_VGG, 'fp32', { maxShardBytes: 256 })).toThrow(/one row/);
  });

  it('rowBlocks: as few equal blocks as fit', () => {
    expect(rowBlocks(10, 4, 100)).toEqual([{ start: 0, rows: 10 }]);
    expect(rowBlocks(10, 4, 20)).toEqual([
      { start: 0, rows: 5 },
      { start: 5, rows: 5 },
    ]);
    expect(rowBlocks(10, 4, 12).map((b) => b.rows)).toEqual([3, 3, 3, 1]);
  });
});
