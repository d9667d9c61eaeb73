/** The backward driver: fan-out, path pruning, missing rules, checked rule outputs, which gradients it emits. */
import { describe, expect, it } from 'vitest';
import { backward } from '../../../src/core/autodiff/backward';
import type { GradientProblem } from '../../../src/core/autodiff/errors';
import { InvalidGradientError, MissingGradientRuleError } from '../../../src/core/autodiff/errors';
import { RULES } from '../../../src/core/autodiff/rules';
import type { Rule } from '../../../src/core/autodiff/types';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import type { FloatFeeds } from '../../helpers/ort';
import { compile, mulberry32, uniform } from '../../helpers/ort';

/** Ops emitted after the first `from` nodes, counted by type. */
function opsAfter(b: GraphBuilder, from: number): Record<string, number> {
  const count: Record<string, number> = {};
  for (const n of b.graph.nodes.slice(from)) count[n.op] = (count[n.op] ?? 0) + 1;
  return count;
}

/** A unary node through the generic builder call (for ops the builder has no method for). */
function unary(b: GraphBuilder, op: string, x: string): string {
  return b.node(op, [x], {}, [{ dtype: b.dtype(x), shape: b.shape(x) }])[0]!;
}

async function evaluate(b: GraphBuilder, outputs: string[], feeds: FloatFeeds): Promise<Float32Array[]> {
  const names = outputs.map((o) => b.output(b.identity(o)));
  const out = await (await compile(b.graph)).run(feeds);
  return names.map((n) => out[n]!);
}

/** Multiples of 1/4 in [−2, 2]: every sum and product below is exact in float32. */
const QUARTERS = Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 4 + (i % 3) * 0.25);

describe('backward driver', () => {
  it('sums the gradients of a value used several times: y = x·x + x → 2x + 1 exactly', async () => {
    const b = new GraphBuilder('fan-out');
    const x = b.input('x', 'float32', [3, 4]);
    const y = b.add(b.mul(x, x), x);
    const g = backward(b, [{ name: y }], [x]);
    const [dx] = await evaluate(b, [g.get(x)!], { x: QUARTERS });
    expect(Array.from(dx!)).toEqual(Array.from(QUARTERS, (v) => 2 * v + 1));
  });

  it('sums over several targets: y1 = 3x, y2 = x·x → 3 + 2x', async () => {
    const b = new GraphBuilder('targets');
    const x = b.input('x', 'float32', [3, 4]);
    const y1 = b.mul(x, b.scalar(3));
    const y2 = b.mul(x, x);
    const g = backward(b, [{ name: y1 }, { name: y2 }], [x]);
    const [dx] = await evaluate(b, [g.get(x)!], { x: QUARTERS });
    expect(Array.from(dx!)).toEqual(Array.from(QUARTERS, (v) => 3 + 2 * v));
  });

  describe('differentiates only the nodes on a path from wrt to the target', () => {
    it('the ops used here have no gradient rule', () => {
      expect(RULES).not.toHaveProperty('Cos');
      expect(RULES).not.toHaveProperty('Floor');
    });

    it('ignores a rule-less branch that leaves the path (x → Cos, not feeding y)', async () => {
      const b = new GraphBuilder('side-branch');
      const x = b.input('x', 'float32', [3, 4]);
      const side = unary(b, 'Cos', x);
      b.output(side);
      const y = b.mul(x, x);
      const g = backward(b, [{ name: y }], [x]);
      const [dx] = await evaluate(b, [g.get(x)!], { x: QUARTERS });
      expect(Array.from(dx!)).toEqual(Array.from(QUARTERS, (v) => 2 * v));
    });

    it('ignores a rule-less op that feeds y but does not depend on wrt (y = x · Floor(k))', async () => {
      const b = new GraphBuilder('constant-branch');
      const x = b.input('x', 'float32', [3, 4]);
      const k = b.input('k', 'float32', [3, 4]);
      const y = b.mul(x, unary(b, 'Floor', k));
      const g = backward(b, [{ name: y }], [x]);
      expect(g.has(k)).toBe(false);
      const ks = uniform(mulberry32(3), 12, -3, 3);
      const [dx] = await evaluate(b, [g.get(x)!], { x: QUARTERS, k: ks });
      expect(Array.from(dx!)).toEqual(Array.from(ks, Math.floor));
    });

    it('stops at integer values: y = x·Gather(W, ArgMax(x)) → ∂y/∂x = W[argmax x] (an index has no gradient)', async () => {
      expect(RULES).not.toHaveProperty('ArgMax');
      expect(RULES).not.toHaveProperty('Gather');
      const b = new GraphBuilder('index-branch');
      const x = b.input('x', 'float32', [1, 4]);
      const W = b.input('W', 'float32', [4, 4]);
      const row = b.gather(W, b.argMax(x, 1, false), 0); // [1, 4]: row argmax(x) of W
      const y = b.reduce('ReduceSum', b.mul(x, row), [1], false);
      const g = backward(b, [{ name: y }], [x]);
      const xs = Float32Array.of(0.5, -1, 1.75, 0.25);
      const ws = uniform(mulberry32(4), 16, -2, 2);
      const [dx] = await evaluate(b, [g.get(x)!], { x: xs, W: ws });
      const top = xs.indexOf(Math.max(...xs));
      expect(Array.from(dx!)).toEqual(Array.from(ws.subarray(4 * top, 4 * top + 4)));
    });

    it('throws MissingGradientRuleError naming the op when a rule-less op is on the path', () => {
      const b = new GraphBuilder('on-path');
      const x = b.input('x', 'float32', [3, 4]);
      const y = b.mul(unary(b, 'Cos', b.relu(x)), b.scalar(2));
      let caught: unknown;
      try {
        backward(b, [{ name: y }], [x]);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(MissingGradientRuleError);
      const err = caught as MissingGradientRuleError;
      expect(err.name).toBe('MissingGradientRuleError');
      expect(err.op).toBe('Cos');
      expect(err.message).toContain("'Cos'");
    });
  });

  describe('emits only the gradients that are asked for', () => {
    /** x → Gemm(W1) → Relu → Gemm(W2) → y; returns the Gemm/other nodes backward adds for `wrt`. */
    function mlp(wrt: ('x' | 'w1' | 'w2')[]) {
      const b = new GraphBuilder('mlp');
      const x = b.input('x', 'float32', [2, 6]);
      const w1 = b.input('w1', 'float32', [4, 6]);
      const w2 = b.input('w2', 'float32', [3, 4]);
      const y = b.gemm(b.relu(b.gemm(x, w1, undefined, { transB: 1 })), w2, undefined, { transB: 1 });
      const before = b.graph.nodes.length;
      const grads = backward(b, [{ name: y }], wrt);
      return { ops: opsAfter(b, before), grads };
    }

    it.each([
      [['x'], 2],
      [['w2'], 1],
      [['w1'], 2],
      [['x', 'w1', 'w2'], 4],
      [['w1', 'w2'], 3],
    ] as const)('wrt %j adds %i Gemm nodes', (wrt, gemms) => {
      const { ops, grads } = mlp([...wrt]);
      expect(ops.Gemm ?? 0).toBe(gemms);
      expect([...grads.keys()].sort()).toEqual([...wrt].sort());
    });

    it('a Conv input gradient needs no weight gradient (no Conv, no bias ReduceSum), and vice versa', () => {
      const build = (wrt: ('x' | 'w' | 'bias')[]) => {
        const b = new GraphBuilder('conv');
        const x = b.input('x', 'float32', [1, 2, 6, 6]);
        const w = b.input('w', 'float32', [3, 2, 3, 3]);
        const bias = b.input('bias', 'float32', [3]);
        const y = b.conv(x, w, bias, { pads: [1, 1, 1, 1] });
        const before = b.graph.nodes.length;
        backward(b, [{ name: y, seed: b.input('seed', 'float32', b.shape(y)) }], wrt);
        return opsAfter(b, before);
      };
      const onlyX = build(['x']);
      expect(onlyX.ConvTranspose).toBe(1);
      expect(onlyX.Conv ?? 0).toBe(0);
      expect(onlyX.ReduceSum ?? 0).toBe(0);
      const onlyW = build(['w']);
      expect(onlyW.ConvTranspose ?? 0).toBe(0);
      expect(onlyW.Conv).toBe(1);
      expect(onlyW.ReduceSum ?? 0).toBe(0);
      const onlyBias = build(['bias']);
      expect(onlyBias).toEqual({ ReduceSum: 1 });
    });
  });

  it('gives no entry to a wrt tensor without a path to the target', () => {
    const b = new GraphBuilder('no-path');
    const x = b.input('x', 'float32', [3, 4]);
    const unused = b.input('unused', 'float32', [3, 4]);
    const elsewhere = b.input('elsewhere', 'float32', [3, 4]);
    b.output(b.exp(elsewhere));
    const y = b.mul(x, x);
    const g = backward(b, [{ name: y }], [x, unused, elsewhere]);
    expect([...g.keys()]).toEqual([x]);
  });

  describe('checks what a rule returns', () => {
    /** backward through y = op(x) (x [3, 4]) with `op`'s rule replaced by `rule`; the error it throws. */
    function brokenRule(op: 'Relu' | 'Transpose', rule: Rule): InvalidGradientError {
      const b = new GraphBuilder('broken');
      const x = b.input('x', 'float32', [3, 4]);
      const y = op === 'Relu' ? b.relu(x) : b.transpose(x, [1, 0]);
      try {
        backward(b, [{ name: b.mul(y, b.scalar(2)) }], [x], { ...RULES, [op]: rule });
      } catch (e) {
        expect(e).toBeInstanceOf(InvalidGradientError);
        return e as InvalidGradientError;
      }
      throw new Error('backward accepted the broken rule');
    }

    const expectError = (err: InvalidGradientError, op: string, input: number, problem: GradientProblem) => {
      expect(err.name).toBe('InvalidGradientError');
      expect({ op: err.op, node: err.node, input: err.input, problem: err.problem }).toEqual({
        op,
        node: expect.stringMatching(op.toLowerCase()) as unknown,
        input,
        problem,
      });
      expect(err.message).toContain(`input ${input} of node '${err.node}'`);
    };

    it('one gradient per input: two for Relu’s one input', () => {
      const err = brokenRule('Relu', (_, [dy]) => [dy!, dy!]);
      expectError(err, 'Relu', 1, 'count');
      expect(err.message).toContain('2 gradients for 1 inputs');
    });

    it('one gradient per input: none at all', () => {
      expectError(
        brokenRule('Relu', () => []),
        'Relu',
        0,
        'count',
      );
    });

    it('the input’s float dtype: an int64 gradient', () => {
      const err = brokenRule('Relu', ({ b }, [dy]) => [b.cast(dy!, 'int64')]);
      expectError(err, 'Relu', 0, 'dtype');
      expect(err.message).toContain('int64 for a float32 input');
    });

    it('a shape the input broadcasts to: a Transpose rule that forgets to transpose back', () => {
      const err = brokenRule('Transpose', (_, [dy]) => [dy!]);
      expectError(err, 'Transpose', 0, 'shape');
      expect(err.message).toContain('[4,3] for an input of shape [3,4]');
    });

    it('a shape the input broadcasts to: a lower rank', () => {
      const err = brokenRule('Relu', ({ b }, [dy]) => [b.reduce('ReduceSum', dy!, [0], false)]);
      expectError(err, 'Relu', 0, 'shape');
    });

    it('accepts a gradient at a broadcast shape and reduces it: y = x + c, x [1, 4], c [3, 4] → 3', async () => {
      const b = new GraphBuilder('broadcast');
      const x = b.input('x', 'float32', [1, 4]);
      const c = b.input('c', 'float32', [3, 4]);
      const g = backward(b, [{ name: b.add(x, c) }], [x]);
      expect(b.shape(g.get(x)!)).toEqual([1, 4]);
      const [dx] = await evaluate(b, [g.get(x)!], { x: QUARTERS.subarray(0, 4), c: QUARTERS });
      expect(Array.from(dx!)).toEqual([3, 3, 3, 3]);
    });
  });
});
