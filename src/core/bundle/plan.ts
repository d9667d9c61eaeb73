/**
 * Where every tensor of a bundle goes, from the architecture's dims alone (no weights needed): the
 * layout rules are in manifest.ts's header. buildBundle fills the plan with bytes; a full-size plan
 * costs nothing, so sizes can be known (and tested) without allocating 138 M floats.
 */
import type { VggConfig } from '../vgg16/spec';
import { kernelDims, layers, partOf } from '../vgg16/spec';
import type { PartName, Quantization, TensorEntry } from './manifest';
import { MAX_SHARD_BYTES, SHARD_ALIGN } from './manifest';

/** Every part, in bundle order. */
export const PART_NAMES: readonly PartName[] = ['base', 'imagenet-head'];

export interface PlanOptions {
  /** Parts to lay out (default: every part). */
  parts?: readonly PartName[];
  /** Shard cap in bytes (default and maximum MAX_SHARD_BYTES); small values exercise splitting in tests. */
  maxShardBytes?: number;
}

export interface PlannedShard {
  file: string;
  bytes: number;
}

export interface PlannedPart {
  name: PartName;
  bytes: number;
  shards: PlannedShard[];
}

export interface BundlePlan {
  parts: PlannedPart[];
  /** Complete entries (the manifest's `tensors`), grouped by layer in forward order. */
  tensors: TensorEntry[];
}

export const shardFile = (part: PartName, index: number) => `${part}-${String(index).padStart(3, '0')}.bin`;

export const tensorName = (layer: string, role: TensorEntry['role'], piece?: number) =>
  `${layer}/${role === 'scale' ? 'kernel_scale' : role}${piece === undefined ? '' : `#${piece}`}`;

const alignUp = (n: number) => Math.ceil(n / SHARD_ALIGN) * SHARD_ALIGN;

/**
 * Row blocks for `rows` rows of `rowBytes` bytes each, every block ≤ cap bytes: as few blocks as
 * possible, of equal size except the last. One block (the whole tensor) when it fits.
 */
export function rowBlocks(rows: number, rowBytes: number, cap: number): { start: number; rows: number }[] {
  if (rowBytes > cap) {
    throw new RangeError(`one row of a tensor is ${rowBytes} bytes, more than the ${cap}-byte shard cap`);
  }
  let count = Math.ceil((rows * rowBytes) / cap);
  let per = Math.ceil(rows / count);
  while (per * rowBytes > cap) per = Math.ceil(rows / ++count);
  const blocks: { start: number; rows: number }[] = [];
  for (let start = 0; start < rows; start += per) blocks.push({ start, rows: Math.min(per, rows - start) });
  return blocks;
}

export function planBundle(cfg: VggConfig, quantization: Quantization, options: PlanOptions = {}): BundlePlan {
  const cap = options.maxShardBytes ?? MAX_SHARD_BYTES;
  if (!Number.isInteger(cap) || cap < SHARD_ALIGN || cap > MAX_SHARD_BYTES) {
    throw new RangeError(
      `the shard cap must be an integer from ${SHARD_ALIGN} to ${MAX_SHARD_BYTES} bytes, got ${cap}`,
    );
  }
  const wanted = options.parts ?? PART_NAMES;
  const int8 = quantization === 'int8';
  const tensors: TensorEntry[] = [];
  const parts: PlannedPart[] = [];

  for (const part of PART_NAMES.filter((p) => wanted.includes(p))) {
    const shards: PlannedShard[] = [];
    /** First fit in order: the current shard if the tensor fits after alignment, else a new one. */
    const place = (length: number): { shard: string; offset: number } => {
      const cur = shards[shards.length - 1];
      if (cur && alignUp(cur.bytes) + length <= cap) {
        const offset = alignUp(cur.bytes);
        cur.bytes = offset + length;
        return { shard: cur.file, offset };
      }
      const next = { file: shardFile(part, shards.length), bytes: length };
      shards.push(next);
      return { shard: next.file, offset: 0 };
    };
    const add = (
      layer: string,
      role: TensorEntry['role'],
      dtype: TensorEntry['dtype'],
      dims: number[],
      blocks: { start: number; rows: number }[],
    ) => {
      const rowElems = dims.slice(1).reduce((a, b) => a * b, 1);
      const bpe = dtype === 'int8' ? 1 : 4;
      blocks.forEach((blk, index) => {
        const length = blk.rows * rowElems * bpe;
        const split = blocks.length > 1;
        tensors.push({
          name: tensorName(layer, role, split ? index : undefined),
          layer,
          role,
          dtype,
          dims: [blk.rows, ...dims.slice(1)],
          part,
          ...place(length),
          length,
          ...(split ? { piece: { index, count: blocks.length, start: blk.start } } : {}),
        });
      });
    };

    for (const l of layers(cfg)) {
      if (l.kind === 'pool' || partOf(l) !== part) continue;
      const dims = kernelDims(l);
      const rows = dims[0]!;
      const rowElems = dims.slice(1).reduce((a, b) => a * b, 1);
      // int8: the scales follow the kernel's blocks, so a block must fit both its rows and its scales.
      const kernelBlocks = rowBlocks(rows, int8 ? Math.max(rowElems, 4) : rowElems * 4, cap);
      add(l.name, 'kernel', int8 ? 'int8' : 'float32', dims, kernelBlocks);
      if (int8) add(l.name, 'scale', 'float32', [rows], kernelBlocks);
      add(l.name, 'bias', 'float32', [rows], rowBlocks(rows, 4, cap));
    }
    parts.push({ name: part, bytes: shards.reduce((a, s) => a + s.bytes, 0), shards });
  }
  return { parts, tensors };
}
