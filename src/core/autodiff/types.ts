import type { GraphBuilder } from '../onnx/builder';
import type { Node } from '../onnx/ir';

/** What a rule sees: the builder (to emit nodes), the forward node, and which inputs need a gradient. */
export interface RuleContext {
  b: GraphBuilder;
  node: Node;
  /** True where input i lies on a path to a wrt-tensor; a rule emits nothing for the others. */
  needs: boolean[];
  /** A float zero scalar, shared by the whole backward pass. */
  zero(): string;
}

/**
 * A gradient rule: given the gradients of the node's outputs (null where no gradient flows),
 * return one gradient per input (null where none). Returned gradients may still be broadcast
 * (shape of the output); the driver reduces them to the input's shape.
 */
export type Rule = (ctx: RuleContext, dy: (string | null)[]) => (string | null)[];

export class MissingGradientRuleError extends Error {
  override name = 'MissingGradientRuleError';
  constructor(
    readonly op: string,
    detail = '',
  ) {
    super(`no gradient rule for ONNX op '${op}'${detail ? `: ${detail}` : ''}; add one in src/core/autodiff/rules`);
  }
}

export class UnsupportedGradientError extends Error {
  override name = 'UnsupportedGradientError';
}
