/**
 * Reverse-mode differentiation of an ONNX graph, emitted as more ONNX nodes in the same graph.
 *
 *   ∂L/∂x = Σ over consumers n of x:  rule_n(∂L/∂outputs(n))[x]
 *
 * Only nodes that lie on a path from a wrt-tensor to a target are visited; gradients of a value
 * used several times are summed; what a rule returns is checked, and reduced from a broadcast
 * shape, here, once.
 */
import type { GraphBuilder } from '../onnx/builder';
import type { Node } from '../onnx/ir';
import type { GradientProblem } from './errors';
import { InvalidGradientError, MissingGradientRuleError } from './errors';
import { RULES } from './rules';
import type { Rule, RuleContext } from './types';

export interface Target {
  /** A value of the forward graph. */
  name: string;
  /** The gradient flowing into it (a graph input or constant of the same shape); default: ones. */
  seed?: string;
}

/**
 * Emit gradient nodes into `b`; returns wrt-name → gradient value name (absent if no path).
 * `rules` is the op → rule table (tests pass their own).
 */
export function backward(
  b: GraphBuilder,
  targets: Target[],
  wrt: string[],
  rules: Readonly<Record<string, Rule>> = RULES,
): Map<string, string> {
  const forward = [...b.graph.nodes];
  const onPath = nodesOnPath(
    forward,
    targets.map((t) => t.name),
    new Set(wrt),
    (v) => b.dtype(v).startsWith('float'),
  );
  const live = new Set<string>(wrt);
  for (const n of onPath) if (n.inputs.some((i) => live.has(i))) n.outputs.forEach((o) => live.add(o));

  const parts = new Map<string, string[]>();
  const add = (name: string, g: string) => parts.set(name, [...(parts.get(name) ?? []), g]);
  for (const t of targets) add(t.name, t.seed ?? b.expandLike(b.scalar(1), t.name));

  let zero: string | undefined;
  const ctxBase = { b, zero: () => (zero ??= b.scalar(0)) };
  const total = (name: string): string | null => {
    const ps = parts.get(name);
    if (!ps?.length) return null;
    const sum =
      ps.length === 1 ? ps[0]! : b.node('Sum', ps, {}, [{ dtype: b.dtype(ps[0]!), shape: b.shape(name) }])[0]!;
    parts.set(name, [sum]);
    return sum;
  };

  for (const node of [...onPath].reverse()) {
    const dy = node.outputs.map(total);
    if (dy.every((g) => g === null)) continue;
    const rule = rules[node.op];
    if (!rule) throw new MissingGradientRuleError(node.op, `node '${node.name}'`);
    const ctx: RuleContext = { ...ctxBase, node, needs: node.inputs.map((i) => live.has(i)) };
    const dx = rule(ctx, dy);
    check(b, node, dx);
    node.inputs.forEach((input, i) => {
      const g = dx[i];
      if (!ctx.needs[i] || !g) return;
      add(input, unbroadcast(b, g, input));
    });
  }

  const out = new Map<string, string>();
  for (const w of wrt) {
    const g = total(w);
    if (g) out.set(w, g);
  }
  return out;
}

/**
 * Forward nodes reachable from `wrt` whose outputs reach a target, in graph order. Gradients flow
 * through real values only: an index or a mask computed from `wrt` (ArgMax, Equal, …) is piecewise
 * constant in it, so its gradient is zero and the path stops there.
 */
function nodesOnPath(nodes: Node[], targets: string[], wrt: Set<string>, real: (v: string) => boolean): Node[] {
  const reach = new Set(wrt);
  const fwd = nodes.filter((n) => {
    const outs = n.outputs.filter(real);
    if (!outs.length || !n.inputs.some((i) => reach.has(i))) return false;
    outs.forEach((o) => reach.add(o));
    return true;
  });
  const needed = new Set(targets);
  const path: Node[] = [];
  for (const n of [...fwd].reverse()) {
    if (!n.outputs.some((o) => needed.has(o))) continue;
    n.inputs.forEach((i) => needed.add(i));
    path.push(n);
  }
  return path.reverse();
}

/**
 * What a rule returned, against its node: one entry per input; each gradient of the input's (float)
 * dtype and of a shape the input broadcasts to (every dim equal, or 1 in the input, or a leading one).
 */
function check(b: GraphBuilder, node: Node, dx: (string | null)[]): void {
  const fail = (i: number, problem: GradientProblem, detail: string) =>
    new InvalidGradientError(node.op, node.name, i, problem, detail);
  const n = node.inputs.length;
  if (dx.length !== n) throw fail(Math.min(dx.length, n), 'count', `${dx.length} gradients for ${n} inputs`);
  dx.forEach((g, i) => {
    if (g === null) return;
    const x = node.inputs[i]!;
    const [gt, xt] = [b.dtype(g), b.dtype(x)];
    if (gt !== xt || !gt.startsWith('float')) throw fail(i, 'dtype', `dtype ${gt} for a ${xt} input`);
    const [gs, xs] = [b.shape(g), b.shape(x)];
    const lead = gs.length - xs.length;
    if (lead < 0 || xs.some((d, j) => d !== 1 && d !== gs[lead + j]))
      throw fail(i, 'shape', `shape [${gs}] for an input of shape [${xs}]`);
  });
}

/** Sum a checked gradient over the axes along which `input` was broadcast, then give it the input's shape. */
function unbroadcast(b: GraphBuilder, g: string, input: string): string {
  const gs = b.shape(g);
  const xs = b.shape(input);
  if (gs.length === xs.length && gs.every((d, i) => d === xs[i])) return g;
  const lead = gs.length - xs.length;
  const axes = gs.map((_, i) => i).filter((i) => i < lead || (xs[i - lead] === 1 && gs[i] !== 1));
  const summed = axes.length ? b.reduce('ReduceSum', g, axes, true) : g;
  return b.reshape(
    summed,
    xs.map((d) => (typeof d === 'number' ? d : 0)),
  );
}
