/** Shape ops move values around; their gradients move them back. */
import { readAttrs } from '../../onnx/ir';
import type { Rule } from '../types';
import { UnsupportedGradientError } from '../errors';

const back: Rule = ({ b, node }, [dy]) => [
  b.reshapeLike(dy!, node.inputs[0]!),
  ...node.inputs.slice(1).map(() => null),
];

export const Reshape = back;
export const Flatten = back;
export const Squeeze = back;
export const Unsqueeze = back;

// Expand is a broadcast: dY goes back as is, the driver sums it over the expanded axes.
export const Expand: Rule = (_, [dy]) => [dy!, null];

export const Transpose: Rule = ({ b, node }, [dy]) => {
  const perm = readAttrs(node).ints('perm', [...b.shape(node.inputs[0]!).keys()].reverse());
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return [b.transpose(dy!, inverse)];
};

// Each input receives its own slab of dY.
export const Concat: Rule = ({ b, node, needs }, [dy]) => {
  const axis = readAttrs(node).int('axis');
  let start = 0;
  return node.inputs.map((x, i) => {
    const len = b.shape(x)[axis < 0 ? axis + b.shape(x).length : axis]!;
    if (typeof len !== 'number')
      throw new UnsupportedGradientError(`Concat gradient needs a static concat axis (${node.name})`);
    const piece = needs[i] ? b.slice(dy!, [start], [start + len], [axis]) : null;
    start += len;
    return piece;
  });
};

// The gradient of a unit-step Slice is dY padded back with zeros.
export const Slice: Rule = ({ b, node }, [dy]) => {
  const [X, s, e, a, st] = node.inputs as [string, string, string, string | undefined, string | undefined];
  const shape = b.shape(X);
  const starts = b.knownInts(s);
  const ends = b.knownInts(e);
  const axes = a ? b.knownInts(a) : starts?.map((_, i) => i);
  const steps = st ? b.knownInts(st) : undefined;
  if (!starts || !ends || !axes || steps?.some((v) => v !== 1)) {
    throw new UnsupportedGradientError(`Slice gradient needs constant starts/ends/axes and unit steps (${node.name})`);
  }
  const pads = new Array<number>(shape.length * 2).fill(0);
  axes.forEach((ax, i) => {
    const r = ax < 0 ? ax + shape.length : ax;
    const d = shape[r]!;
    if (typeof d !== 'number')
      throw new UnsupportedGradientError(`Slice gradient needs static sliced axes (${node.name})`);
    const lo = Math.min(Math.max(starts[i]! < 0 ? starts[i]! + d : starts[i]!, 0), d);
    const hi = Math.min(Math.max(ends[i]! < 0 ? ends[i]! + d : ends[i]!, 0), d);
    pads[r] = lo;
    pads[r + shape.length] = d - hi;
  });
  const padded = b.node('Pad', [dy!, b.int64s(pads, 'pads')], { mode: { type: 'string', value: 'constant' } }, [
    { dtype: b.dtype(dy!), shape },
  ])[0]!;
  return [padded, null, null, null, null].slice(0, node.inputs.length);
};

// Constant-mode Pad (with constant, non-negative pads): the gradient is dY cropped back (a Slice).
export const Pad: Rule = ({ b, node }, [dy]) => {
  const [X, p, , ax] = node.inputs as [string, string, string | undefined, string | undefined];
  const rank = b.shape(X).length;
  const pads = b.knownInts(p);
  const axes = ax ? b.knownInts(ax) : [...Array(rank).keys()];
  const mode = readAttrs(node).string('mode', 'constant');
  if (mode !== 'constant' || !pads || !axes || pads.length !== 2 * axes.length || pads.some((v) => v < 0)) {
    throw new UnsupportedGradientError(`Pad gradient needs constant mode and constant pads ≥ 0 (${node.name})`);
  }
  const starts: number[] = [];
  const ends: number[] = [];
  const cutAxes: number[] = [];
  axes.forEach((a, i) => {
    const [lo, hi] = [pads[i]!, pads[i + axes.length]!];
    if (!lo && !hi) return;
    starts.push(lo);
    ends.push(hi ? -hi : Number.MAX_SAFE_INTEGER);
    cutAxes.push(a < 0 ? a + rank : a);
  });
  const none = node.inputs.slice(1).map(() => null);
  if (!starts.length) return [dy!, ...none];
  const inputs = [dy!, b.int64s(starts, 'starts'), b.int64s(ends, 'ends'), b.int64s(cutAxes, 'axes')];
  return [b.node('Slice', inputs, {}, [{ dtype: b.dtype(dy!), shape: b.shape(X) }])[0]!, ...none];
};
