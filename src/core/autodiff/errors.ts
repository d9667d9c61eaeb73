/** The differentiator's errors: a graph or a rule it cannot handle, programming errors rather than user states. */

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

/** What a rule got wrong: how many gradients it returned, a gradient's dtype, or its shape. */
export type GradientProblem = 'count' | 'dtype' | 'shape';

/** A rule returned something the driver cannot sum into the input's gradient. */
export class InvalidGradientError extends Error {
  override name = 'InvalidGradientError';
  constructor(
    readonly op: string,
    readonly node: string,
    readonly input: number,
    readonly problem: GradientProblem,
    detail: string,
  ) {
    super(
      `the ${op} gradient rule, at input ${input} of node '${node}': ${detail}; fix the rule in src/core/autodiff/rules`,
    );
  }
}
