/**
 * Every gradient rule against central finite differences, one case per entry of
 * test/fixtures/ops/*.json (one file per op family). `attrs` uses ONNX attribute names, and ONNX
 * input names for what opset 18 takes as constant inputs (Reshape shape; axes of Reduce*, Squeeze,
 * Unsqueeze; Slice starts/ends/axes/steps). An input with `value` is a constant, not a graph input.
 * Plus exact checks: MaxPool ties, and a free (symbolic) batch size.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backward } from '../../../src/core/autodiff/backward';
import { UnsupportedGradientError } from '../../../src/core/autodiff/errors';
import { RULES } from '../../../src/core/autodiff/rules';
import { DTYPE_OF_CODE, GraphBuilder } from '../../../src/core/onnx/builder';
import type { Dim, DType } from '../../../src/core/onnx/ir';
import { AttributeError, numel } from '../../../src/core/onnx/ir';
import type { AutoPad } from '../../../src/core/onnx/shape';
import { AUTO_PADS } from '../../../src/core/onnx/shape';
import type { Dist } from '../../helpers/gradcheck';
import { gradcheck } from '../../helpers/gradcheck';
import type { FloatFeeds } from '../../helpers/ort';
import { compile, mulberry32, uniform } from '../../helpers/ort';

interface CaseInput {
  name: string;
  shape: number[];
  dist?: Dist;
  dtype?: 'float32' | 'bool';
  value?: number[];
}

interface Case {
  name: string;
  op: string;
  inputs: CaseInput[];
  attrs?: Record<string, number | number[] | string>;
  wrt: string[];
  h?: number;
}

const FIXTURES = join(import.meta.dirname, '../../fixtures/ops');

const cases: [string, Case][] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .flatMap((f) =>
    (JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as Case[]).map((c): [string, Case] => [
      `${f.replace('.json', '')}: ${c.name}`,
      c,
    ]),
  );

function declare(b: GraphBuilder, i: CaseInput): string {
  const dtype: DType = i.dtype ?? 'float32';
  if (i.value === undefined) return b.input(i.name, dtype, i.shape);
  if (i.value.length !== numel(i.shape))
    throw new Error(`constant '${i.name}': ${i.value.length} values for shape [${i.shape}]`);
  const data = dtype === 'bool' ? Uint8Array.from(i.value) : Float32Array.from(i.value);
  return b.constant({ dtype, dims: i.shape, data }, i.name);
}

/** The forward graph of one case: op → builder call. */
function forward(b: GraphBuilder, c: Case): string {
  const xs = c.inputs.map((i) => declare(b, i));
  const at = c.attrs ?? {};
  const num = (k: string, d: number): number => (at[k] as number | undefined) ?? d;
  const list = (k: string): number[] => {
    const v = at[k];
    if (!Array.isArray(v)) throw new Error(`case '${c.name}': attribute '${k}' must be a list`);
    return v;
  };
  const opt = (k: string): number[] | undefined => (at[k] === undefined ? undefined : list(k));
  const autoPad = (): AutoPad | undefined => {
    const v = at.auto_pad;
    if (v === undefined) return undefined;
    if (!AUTO_PADS.some((p) => p === v)) throw new Error(`case '${c.name}': auto_pad must be one of ${AUTO_PADS}`);
    return v as AutoPad;
  };
  const [x, y, z] = xs as [string, string, string | undefined];
  const like = (op: string) => b.node(op, xs, {}, [{ dtype: b.dtype(x), shape: b.shape(x) }])[0]!;
  switch (c.op) {
    case 'Add':
      return b.add(x, y);
    case 'Sub':
      return b.sub(x, y);
    case 'Mul':
      return b.mul(x, y);
    case 'Div':
      return b.div(x, y);
    case 'Pow':
      return b.pow(x, y);
    case 'Neg':
      return b.neg(x);
    case 'Exp':
      return b.exp(x);
    case 'Log':
      return b.log(x);
    case 'Sqrt':
      return b.sqrt(x);
    case 'Abs':
      return b.abs(x);
    case 'Where':
      return b.where(x, y, z!);
    case 'Identity':
      return b.identity(x);
    case 'Cast':
      return b.cast(x, DTYPE_OF_CODE[num('to', 1)]!);
    case 'Relu':
      return b.relu(x);
    case 'Sigmoid':
      return like('Sigmoid');
    case 'Softmax':
      return b.softmax(x, num('axis', -1));
    case 'LogSoftmax':
      return b.logSoftmax(x, num('axis', -1));
    // Composite: the stable fused softmax cross-entropy, −mean_n Σ_c onehot·log softmax(logits).
    case 'SoftmaxCrossEntropy':
      return b.neg(b.reduce('ReduceMean', b.reduce('ReduceSum', b.mul(y, b.logSoftmax(x, 1)), [1], false), [0], false));
    case 'Gemm':
      return b.gemm(x, y, z, {
        alpha: num('alpha', 1),
        beta: num('beta', 1),
        transA: num('transA', 0),
        transB: num('transB', 0),
      });
    case 'MatMul':
      return b.matmul(x, y);
    case 'Conv':
      return b.conv(x, y, z, { strides: opt('strides'), pads: opt('pads'), auto_pad: autoPad() });
    case 'MaxPool':
      return b.maxPool(x, {
        kernel_shape: list('kernel_shape'),
        strides: opt('strides'),
        pads: opt('pads'),
        auto_pad: autoPad(),
      });
    case 'GlobalAveragePool':
      return b.globalAveragePool(x);
    case 'ReduceMean':
    case 'ReduceSum':
    case 'ReduceSumSquare':
      return b.reduce(c.op, x, list('axes'), num('keepdims', 1) === 1);
    case 'Reshape':
      return b.reshape(x, list('shape'));
    case 'Flatten':
      return b.flatten(x, num('axis', 1));
    case 'Transpose':
      return b.transpose(x, list('perm'));
    case 'Unsqueeze':
      return b.unsqueeze(x, list('axes'));
    case 'Squeeze':
      return b.squeeze(x, list('axes'));
    case 'Concat':
      return b.concat(xs, num('axis', 0));
    case 'Slice':
      return b.slice(x, list('starts'), list('ends'), list('axes'), opt('steps'));
    case 'Expand':
      return b.expand(x, list('shape'));
    case 'Pad': {
      // No builder method: constant mode, pads (and optional axes) as constant inputs.
      const pads = list('pads');
      const rank = b.shape(x).length;
      const axes = opt('axes') ?? [...Array(rank).keys()];
      const shape = [...b.shape(x)] as number[];
      axes.forEach((a, i) => (shape[a] = shape[a]! + pads[i]! + pads[i + axes.length]!));
      const inputs = [x, b.int64s(pads, 'pads'), ...(opt('axes') ? [b.scalar(0), b.int64s(axes, 'axes')] : [])];
      return b.node('Pad', inputs, { mode: { type: 'string', value: 'constant' } }, [{ dtype: 'float32', shape }])[0]!;
    }
    default:
      throw new Error(`case '${c.name}': no builder mapping for op '${c.op}'`);
  }
}

describe('gradient rules vs central finite differences', () => {
  it('loads the fixtures', () => {
    expect(cases.length).toBeGreaterThan(50);
  });

  it('has a fixture for every op of the rule table (lists the ops without one)', () => {
    const covered = new Set(cases.map(([, c]) => c.op));
    expect(Object.keys(RULES).filter((op) => !covered.has(op))).toEqual([]);
  });

  it.each(cases)('%s', async (_, c) => {
    const dist = Object.fromEntries(c.inputs.filter((i) => i.dist).map((i) => [i.name, i.dist!]));
    const reports = await gradcheck((b) => forward(b, c), { wrt: c.wrt, h: c.h, dist });
    expect(reports.map((r) => r.wrt)).toEqual(c.wrt);
  });
});

describe('MaxPool routing', () => {
  // Exact values, not FD: a tie has no derivative, the rule's contract is "first position wins".
  it('sends the whole gradient of a tied window to its first position', async () => {
    const b = new GraphBuilder('maxpool-ties');
    const x = b.input('x', 'float32', [1, 2, 4, 6]);
    const y = b.maxPool(x, { kernel_shape: [2, 2], strides: [2, 2] });
    const seed = b.input('seed', 'float32', [1, 2, 2, 3]);
    b.output(y);
    b.output(b.identity(backward(b, [{ name: y, seed }], [x]).get(x)!));
    // Channel 0: every window constant (a different constant per window). Channel 1: a strict max
    // at the last position of each window, the rest tied below it.
    const xs = new Float32Array(48);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 6; j++) {
        const win = Math.floor(i / 2) * 3 + Math.floor(j / 2);
        xs[i * 6 + j] = win - 2.5;
        xs[24 + i * 6 + j] = i % 2 === 1 && j % 2 === 1 ? 5 + win : -1;
      }
    const seeds = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const run = await compile(b.graph);
    const out = await run.run({ x: xs, seed: seeds });
    const dx = out[b.graph.outputs[1]!.name]!;
    const expected = new Float32Array(48);
    for (let c = 0; c < 2; c++)
      for (let wi = 0; wi < 2; wi++)
        for (let wj = 0; wj < 3; wj++) {
          const [i, j] = c === 0 ? [2 * wi, 2 * wj] : [2 * wi + 1, 2 * wj + 1];
          expected[c * 24 + i * 6 + j] = seeds[c * 6 + wi * 3 + wj]!;
        }
    expect(Array.from(dx)).toEqual(Array.from(expected));
  });
});

describe('padding the rules cannot differentiate', () => {
  const grad = (b: GraphBuilder, x: string, y: string) =>
    backward(b, [{ name: y, seed: b.input('seed', 'float32', b.shape(y)) }], [x]);

  it('rejects a MaxPool whose auto_pad pads (SAME_UPPER on 5×5), naming the node', () => {
    const b = new GraphBuilder('maxpool-same');
    const x = b.input('x', 'float32', [1, 1, 5, 5]);
    const y = b.maxPool(x, { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' });
    expect(() => grad(b, x, y)).toThrow(UnsupportedGradientError);
    expect(() => grad(b, x, y)).toThrow(/MaxPool gradient .*maxpool/);
  });

  it('rejects a dilated MaxPool (its windows are not the tiles the rule routes through)', () => {
    const b = new GraphBuilder('maxpool-dilated');
    const x = b.input('x', 'float32', [1, 1, 8, 8]);
    const ints = (value: number[]) => ({ type: 'ints', value }) as const;
    const attrs = { kernel_shape: ints([2, 2]), strides: ints([2, 2]), dilations: ints([2, 2]) };
    const [y] = b.node('MaxPool', [x], attrs, [{ dtype: 'float32', shape: [1, 1, 3, 3] }]);
    expect(() => grad(b, x, y!)).toThrow(UnsupportedGradientError);
  });

  it('rejects an auto_pad value outside the spec with an AttributeError naming op and attribute', () => {
    const b = new GraphBuilder('conv-bad-pad');
    const x = b.input('x', 'float32', [1, 2, 5, 5]);
    const w = b.input('w', 'float32', [3, 2, 3, 3]);
    const y = b.conv(x, w, undefined, { pads: [1, 1, 1, 1] });
    b.graph.nodes.at(-1)!.attrs.auto_pad = { type: 'string', value: 'SAME' };
    expect(() => grad(b, x, y)).toThrow(AttributeError);
    expect(() => grad(b, x, y)).toThrow(/Conv node .*'auto_pad' = 'SAME' is not supported/);
  });
});

describe('a free batch size', () => {
  // Training graphs keep the batch symbolic ('N'): no rule may need it static. The gradients must
  // equal those of the same graph with the batch fixed (checked against FD case by case above).
  const shapes: Record<string, number[]> = {
    x: [2, 3, 6, 6],
    gamma: [1, 3, 1, 1],
    w: [4, 3, 3, 3],
    bias: [4],
    d: [5, 28],
    db: [5],
  };
  const wrt = Object.keys(shapes);

  async function gradients(batch: Dim, feeds: FloatFeeds, onehot: Float32Array): Promise<Float32Array[]> {
    const b = new GraphBuilder('free-batch');
    const v = Object.fromEntries(
      wrt.map((k) => [k, b.input(k, 'float32', k === 'x' ? [batch, ...shapes[k]!.slice(1)] : shapes[k]!)]),
    );
    const labels = b.input('onehot', 'float32', [batch, 5]);
    const p = b.maxPool(b.relu(b.conv(b.mul(v.x!, v.gamma!), v.w!, v.bias, { pads: [1, 1, 1, 1] })), {
      kernel_shape: [2, 2],
      strides: [2, 2],
    });
    const features = b.concat([b.flatten(b.slice(p, [1], [3], [2])), b.flatten(b.globalAveragePool(p))], 1);
    const logits = b.gemm(features, v.d!, v.db, { transB: 1 });
    const loss = b.neg(
      b.reduce('ReduceMean', b.reduce('ReduceSum', b.mul(labels, b.logSoftmax(logits, 1)), [1], false), [0], false),
    );
    const grads = backward(
      b,
      [{ name: loss }],
      wrt.map((k) => v[k]!),
    );
    const names = wrt.map((k) => b.output(b.identity(grads.get(v[k]!)!)));
    const out = await (await compile(b.graph, { x: shapes.x!, onehot: [2, 5] })).run({ ...feeds, onehot });
    return names.map((n) => out[n]!);
  }

  it('gives the same gradients as a fixed batch (conv, max-pool, slice, concat, GAP, mean loss)', async () => {
    const rng = mulberry32(5);
    const feeds = Object.fromEntries(wrt.map((k) => [k, uniform(rng, numel(shapes[k]!))]));
    const onehot = Float32Array.from({ length: 10 }, (_, i) => (i === 1 || i === 8 ? 1 : 0));
    const fixed = await gradients(2, feeds, onehot);
    const free = await gradients('N', feeds, onehot);
    fixed.forEach((g, i) => {
      expect(g.some((e) => e !== 0)).toBe(true);
      expect(Array.from(free[i]!)).toEqual(Array.from(g));
    });
  });
});
