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
 * return one gradient per input (null where none), of the input's dtype. Returned gradients may
 * still be broadcast (shape of the output); the driver checks them and reduces them to the input's shape.
 */
export type Rule = (ctx: RuleContext, dy: (string | null)[]) => (string | null)[];
