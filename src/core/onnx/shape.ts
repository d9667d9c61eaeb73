/** Static shape rules used by the builder (and so by the gradient generator). */
import type { Dim, Shape } from './ir';

export class ShapeError extends Error {
  override name = 'ShapeError';
}

/** Numpy-style broadcast of two shapes. Symbolic dims broadcast only against 1 or themselves. */
export function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else throw new ShapeError(`cannot broadcast [${a}] with [${b}]`);
  }
  return out;
}

/** Output length of a sliding window (Conv, MaxPool). */
export function windowOut(size: Dim, k: number, stride: number, padBegin: number, padEnd: number, dilation = 1): Dim {
  if (typeof size === 'string') return size;
  return Math.floor((size + padBegin + padEnd - ((k - 1) * dilation + 1)) / stride) + 1;
}

/** How Conv and the pools pad (ONNX `auto_pad`): explicit `pads`, none, or enough to keep ⌈size / stride⌉. */
export const AUTO_PADS = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'] as const;
export type AutoPad = (typeof AUTO_PADS)[number];

/**
 * The explicit pads [begin…, end…] of a sliding window over `sizes`. SAME_*: total = (⌈size/s⌉ − 1)·s +
 * (k − 1)·d + 1 − size (at least 0), split in half, the odd one at the end (UPPER) or the beginning (LOWER).
 */
export function windowPads(
  autoPad: AutoPad,
  sizes: Dim[],
  k: number[],
  strides: number[],
  dilations: number[],
  pads: number[],
): number[] {
  if (autoPad === 'NOTSET') return pads;
  if (autoPad === 'VALID') return [...k, ...k].map(() => 0);
  const total = sizes.map((size, i) => {
    if (typeof size === 'string')
      throw new ShapeError(`auto_pad ${autoPad} needs static spatial sizes, got [${sizes}]`);
    const out = Math.ceil(size / strides[i]!);
    return Math.max(0, (out - 1) * strides[i]! + (k[i]! - 1) * dilations[i]! + 1 - size);
  });
  const begin = total.map((t) => (autoPad === 'SAME_UPPER' ? Math.floor(t / 2) : Math.ceil(t / 2)));
  return [...begin, ...total.map((t, i) => t - begin[i]!)];
}

export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new ShapeError(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

export function product(dims: readonly Dim[]): Dim {
  let p = 1;
  for (const d of dims) {
    if (typeof d === 'string') return `${dims.join('*')}`;
    p *= d;
  }
  return p;
}

/** Resolve a Reshape target (0 = copy, -1 = infer) against the input shape. */
export function reshapeTarget(input: Shape, target: readonly number[]): Shape {
  const out: Dim[] = target.map((d, i) => (d === 0 ? (input[i] as Dim) : d));
  const neg = out.indexOf(-1);
  if (neg >= 0) {
    const total = product(input);
    const known = product(out.filter((_, i) => i !== neg));
    if (typeof total === 'number' && typeof known === 'number') out[neg] = total / known;
    else out[neg] = `${total}/${known}`;
  }
  return out;
}
