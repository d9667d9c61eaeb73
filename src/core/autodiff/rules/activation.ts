/** Activations and the softmax family (the stable fused softmax cross-entropy comes from LogSoftmax). */
import { readAttrs } from '../../onnx/ir';
import type { Rule } from '../types';

// ReLU passes the gradient where its output is positive.
export const Relu: Rule = (ctx, [dy]) => {
  const { b, node } = ctx;
  return [b.where(b.greater(node.outputs[0]!, ctx.zero()), dy!, ctx.zero())];
};

// y = σ(x): dx = dy·y·(1 − y)
export const Sigmoid: Rule = ({ b, node }, [dy]) => {
  const y = node.outputs[0]!;
  return [b.mul(dy!, b.mul(y, b.sub(b.scalar(1), y)))];
};

// y = softmax(x): dx = y·(dy − Σ dy·y)
export const Softmax: Rule = ({ b, node }, [dy]) => {
  const y = node.outputs[0]!;
  const s = b.reduce('ReduceSum', b.mul(dy!, y), [readAttrs(node).int('axis', -1)], true);
  return [b.mul(y, b.sub(dy!, s))];
};

// y = log softmax(x): dx = dy − softmax(x)·Σ dy. With dy = −onehot/N this is (p − onehot)/N: stable.
export const LogSoftmax: Rule = ({ b, node }, [dy]) => {
  const p = b.exp(node.outputs[0]!);
  const s = b.reduce('ReduceSum', dy!, [readAttrs(node).int('axis', -1)], true);
  return [b.sub(dy!, b.mul(p, s))];
};
