/** Elementwise arithmetic. Gradients are returned at the output's (broadcast) shape. */
import type { Rule } from '../types';
import { UnsupportedGradientError } from '../errors';

export const Add: Rule = (_, [dy]) => [dy!, dy!];

export const Sub: Rule = ({ b, needs }, [dy]) => [dy!, needs[1] ? b.neg(dy!) : null];

// d(a·b) = b·da + a·db
export const Mul: Rule = ({ b, node, needs }, [dy]) => {
  const [a, c] = node.inputs as [string, string];
  return [needs[0] ? b.mul(dy!, c) : null, needs[1] ? b.mul(dy!, a) : null];
};

// d(a/b) = da/b − (a/b)·db/b
export const Div: Rule = ({ b, node, needs }, [dy]) => {
  const [, d] = node.inputs as [string, string];
  const y = node.outputs[0]!;
  return [needs[0] ? b.div(dy!, d) : null, needs[1] ? b.neg(b.div(b.mul(dy!, y), d)) : null];
};

export const Neg: Rule = ({ b }, [dy]) => [b.neg(dy!)];

export const Identity: Rule = (_, [dy]) => [dy!];

// A float→float cast passes the gradient through (cast back to the input's dtype).
export const Cast: Rule = ({ b, node }, [dy]) => {
  const to = b.dtype(node.inputs[0]!);
  if (to !== 'float32' && to !== 'float64') throw new UnsupportedGradientError(`Cast from ${to} has no gradient`);
  return [to === b.dtype(dy!) ? dy! : b.cast(dy!, to)];
};

// d exp(x) = exp(x)·dx
export const Exp: Rule = ({ b, node }, [dy]) => [b.mul(dy!, node.outputs[0]!)];

export const Log: Rule = ({ b, node }, [dy]) => [b.div(dy!, node.inputs[0]!)];

// d √x = dx / (2√x)
export const Sqrt: Rule = ({ b, node }, [dy]) => [b.div(dy!, b.mul(node.outputs[0]!, b.scalar(2)))];

// d xᵖ = p·xᵖ⁻¹·dx; the exponent is treated as a constant.
export const Pow: Rule = ({ b, node, needs }, [dy]) => {
  if (needs[1]) throw new UnsupportedGradientError('Pow: gradient with respect to the exponent is not supported');
  const [x, p] = node.inputs as [string, string];
  return [b.mul(dy!, b.mul(p, b.pow(x, b.sub(p, b.scalar(1))))), null];
};

export const Abs: Rule = ({ b, node }, [dy]) => [b.mul(dy!, b.sign(node.inputs[0]!))];

// The condition selects which branch receives the gradient.
export const Where: Rule = (ctx, [dy]) => {
  const { b, node, needs } = ctx;
  const c = node.inputs[0]!;
  return [null, needs[1] ? b.where(c, dy!, ctx.zero()) : null, needs[2] ? b.where(c, ctx.zero(), dy!) : null];
};
