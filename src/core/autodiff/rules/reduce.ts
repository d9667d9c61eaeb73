/** Reductions: the gradient is broadcast back over the reduced axes. */
import type { GraphBuilder } from '../../onnx/builder';
import type { Node } from '../../onnx/ir';
import { readAttrs } from '../../onnx/ir';
import type { Rule } from '../types';
import { UnsupportedGradientError } from '../errors';

/** The reduced axes (normalised) and dY with those axes restored as size 1. */
function restore(b: GraphBuilder, node: Node, dy: string): { axes: number[]; kept: string } {
  const X = node.inputs[0]!;
  const rank = b.shape(X).length;
  const axesName = node.inputs[1];
  const given = axesName ? b.knownInts(axesName) : [...Array(rank).keys()];
  if (!given) throw new UnsupportedGradientError(`${node.op}: axes must be a constant (${node.name})`);
  const axes = given.map((a) => (a < 0 ? a + rank : a));
  return { axes, kept: readAttrs(node).int('keepdims', 1) ? dy : b.unsqueeze(dy, axes) };
}

export const ReduceSum: Rule = ({ b, node }, [dy]) => {
  const { kept } = restore(b, node, dy!);
  return [b.expandLike(kept, node.inputs[0]!), null];
};

export const ReduceMean: Rule = ({ b, node }, [dy]) => {
  const { axes, kept } = restore(b, node, dy!);
  const X = node.inputs[0]!;
  const dims = axes.map((a) => b.shape(X)[a]!);
  // count = |X| / |Y|, at run time when a reduced dim is symbolic (a mean over a free batch size).
  const size = (v: string) => b.cast(b.node('Size', [v], {}, [{ dtype: 'int64', shape: [] }])[0]!, b.dtype(X));
  const count = dims.every((d) => typeof d === 'number')
    ? b.scalar(dims.reduce((p, q) => p * q, 1))
    : b.div(size(X), size(node.outputs[0]!));
  return [b.expandLike(b.div(kept, count), X), null];
};

// d Σx² = 2x·dy
export const ReduceSumSquare: Rule = ({ b, node }, [dy]) => {
  const { kept } = restore(b, node, dy!);
  const X = node.inputs[0]!;
  return [b.mul(b.mul(X, b.scalar(2)), kept), null];
};
