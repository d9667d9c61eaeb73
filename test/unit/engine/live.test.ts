/**
 * The live graph in two halves (buildLiveGraphs, splitAt) and the engine's two-session live view
 * (LiveSessions): the halves compute what the fused live graph computes; the plain base is replaced
 * by the Winograd base after the first frame (the plain one released first), with the same results;
 * a failed upgrade reopens the plain base; a cut the back half cannot start from is refused by name.
 * The Winograd base is a chain of sessions cut by kernel size (splitByWeights), built largest first.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { buildAnalyzeGraph, buildLiveGraphs, IO } from '../../../src/core/graphs/analyze';
import { GraphBuilder } from '../../../src/core/onnx/builder';
import { encodeModel } from '../../../src/core/onnx/encode';
import type { Graph } from '../../../src/core/onnx/ir';
import { convWeights, splitAt, splitByWeights } from '../../../src/core/onnx/split';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { inlineWeights } from '../../../src/core/vgg16/graph';
import { LiveSessions, type OpenGraph } from '../../../workers/engine/live';
import { WINOGRAD_TINY_PIECE, WINOGRAD_TINY_VGG } from '../../helpers/configs';
import { mulberry32, uniform } from '../../helpers/ort';

const CFG = WINOGRAD_TINY_VGG;
const S = CFG.inputSize;
const weights = demoWeights(CFG, 5);
const options = { cfg: CFG, weights: (b: GraphBuilder) => inlineWeights(b, CFG, weights) };
const open = (g: Graph) => ort.InferenceSession.create(encodeModel(g));
/** The Winograd base's opener, as the engine hands it over once it has read the base's files. */
const reopenWith = (o: OpenGraph) => async () => o;

function feeds(seed: number, target = -1) {
  return {
    [IO.image]: new ort.Tensor('float32', uniform(mulberry32(seed), 3 * S * S, -120, 130), [1, 3, S, S]),
    [IO.target]: new ort.Tensor('int64', BigInt64Array.of(BigInt(target)), [1]),
  };
}

const floats = (out: Record<string, ort.Tensor>, k: string) => Array.from(out[k]!.data as Float32Array);
const ints = (out: Record<string, ort.Tensor>, k: string) => Array.from(out[k]!.data as BigInt64Array, Number);

function expectSameLiveOutputs(got: Record<string, ort.Tensor>, ref: Record<string, ort.Tensor>, digits: number) {
  expect(ints(got, IO.topIndices)).toEqual(ints(ref, IO.topIndices));
  expect(ints(got, IO.targetIndex)).toEqual(ints(ref, IO.targetIndex));
  const [h, r] = [floats(got, IO.heatmap), floats(ref, IO.heatmap)];
  expect(h.length).toBe(r.length);
  expect(Math.max(...r)).toBe(1); // a map with something on it, not a blank one
  h.forEach((v, i) => expect(v).toBeCloseTo(r[i]!, digits));
  floats(got, IO.probs).forEach((v, i) => expect(v).toBeCloseTo(floats(ref, IO.probs)[i]!, digits));
}

describe('buildLiveGraphs: the live graph cut at block5_conv3', () => {
  it('front then back computes what the fused graph computes', async () => {
    const halves = buildLiveGraphs(options);
    expect(halves.front.outputs.map((o) => o.name)).toEqual([halves.cut]);
    expect(halves.back.inputs.map((i) => i.name).sort()).toEqual([halves.cut, IO.target].sort());
    // Each half holds only its own weights: the head's dense kernels are not in the front.
    expect([...halves.front.initializers.keys()].some((k) => k.startsWith('fc1'))).toBe(false);
    expect([...halves.back.initializers.keys()].some((k) => k.startsWith('block1'))).toBe(false);
    const [fused, front, back] = await Promise.all([
      open(buildAnalyzeGraph(options)),
      open(halves.front),
      open(halves.back),
    ]);
    for (const [seed, target] of [
      [1, -1],
      [2, 5],
    ] as const) {
      const f = feeds(seed, target);
      const a = (await front.run({ [IO.image]: f[IO.image] }))[halves.cut]!;
      expect(a.dims).toEqual([1, 32, 2, 2]);
      expectSameLiveOutputs(await back.run({ [IO.target]: f[IO.target], [halves.cut]: a }), await fused.run(f), 6);
    }
  });

  it('refuses a cut that the back half cannot start from, naming the value that crosses', () => {
    const b = new GraphBuilder('skip');
    const x = b.input('x', 'float32', [1, 4]);
    const y = b.relu(x, 'y');
    const z = b.relu(y, 'z');
    b.output(b.add(z, y)); // reads y, computed before the cut z
    expect(() => splitAt(b.graph, z)).toThrow(new RegExp(`reads '${y}', computed before '${z}'`));
    expect(() => splitAt(b.graph, 'nowhere')).toThrow(/'nowhere' is not computed/);
  });

  it("gives the front the graph's outputs it computes by itself (an activation named as an output)", () => {
    const b = new GraphBuilder('side');
    const x = b.input('x', 'float32', [1, 4]);
    const y = b.relu(x, 'y');
    const z = b.neg(y);
    b.output(b.relu(z, 'out'));
    b.graph.nodes.push({ op: 'Identity', inputs: [y], outputs: ['side'], attrs: {}, name: 'side_out' });
    b.graph.values.set('side', { ...b.graph.values.get(y)!, name: 'side' });
    b.output('side');
    const { front, back } = splitAt(b.graph, z);
    expect(front.nodes.map((n) => n.op)).toEqual(['Relu', 'Neg', 'Identity']);
    expect(front.outputs.map((o) => o.name)).toEqual([z, 'side']);
    expect(back.nodes.map((n) => n.op)).toEqual(['Relu']);
    expect(back.inputs.map((i) => i.name)).toEqual([z]);
    expect(back.outputs.map((o) => o.name)).toEqual([b.graph.outputs[0]!.name]);
  });

  it('drops nodes no output needs (a base pool that a custom head does not read)', () => {
    const b = new GraphBuilder('dangling');
    const x = b.input('x', 'float32', [1, 4]);
    const y = b.relu(x, 'y');
    b.relu(y, 'unused'); // reads y, computed before the cut, but nothing reads it
    const z = b.neg(y);
    b.output(b.relu(z, 'out'));
    const { front, back } = splitAt(b.graph, z);
    expect(front.nodes.map((n) => n.op)).toEqual(['Relu', 'Neg']);
    expect(back.nodes.map((n) => n.op)).toEqual(['Relu']);
    expect(back.inputs.map((i) => i.name)).toEqual([z]);
  });
});

describe('splitByWeights: a conv base as a chain of pieces', () => {
  const { front, cut } = buildLiveGraphs(options);
  const max = WINOGRAD_TINY_PIECE;
  const firstConv = (g: Graph) => convWeights({ ...g, nodes: [g.nodes.find((n) => n.op === 'Conv')!] });

  it('cuts where the next conv would overflow a piece, and the chain computes the base', async () => {
    const pieces = splitByWeights(front, max);
    expect(pieces.length).toBeGreaterThan(2);
    expect(pieces.reduce((sum, p) => sum + convWeights(p), 0)).toBe(convWeights(front));
    pieces.forEach((p, i) => {
      expect(convWeights(p)).toBeLessThanOrEqual(max);
      // greedy: the next piece's first conv would not have fitted in this one
      if (i + 1 < pieces.length) expect(convWeights(p) + firstConv(pieces[i + 1]!)).toBeGreaterThan(max);
      if (i > 0) expect(p.inputs.map((v) => v.name)).toEqual(pieces[i - 1]!.outputs.map((v) => v.name));
    });
    expect(pieces.at(-1)!.outputs.map((v) => v.name)).toEqual([cut]);

    const image = { [IO.image]: feeds(6)[IO.image] };
    const whole = (await (await open(front)).run(image))[cut]!.data as Float32Array;
    let x: Record<string, ort.Tensor> = image;
    for (const p of pieces) x = await (await open(p)).run(x);
    const chained = x[cut]!.data as Float32Array;
    expect(Math.max(...whole)).toBeGreaterThan(0);
    chained.forEach((v, i) => expect(v).toBeCloseTo(whole[i]!, 5));
  });

  it('keeps the graph whole under a large budget, and a conv larger than the budget alone', () => {
    expect(splitByWeights(front, convWeights(front))).toEqual([front]);
    const one = splitByWeights(front, 1);
    expect(one).toHaveLength(front.nodes.filter((n) => n.op === 'Conv').length);
    one.forEach((p) => expect(p.nodes.filter((n) => n.op === 'Conv')).toHaveLength(1));
  });

  it('refuses to cut where the graph is not a chain', () => {
    const b = new GraphBuilder('skip');
    const x = b.input('x', 'float32', [1, 4, 4, 4]);
    const w = b.constant({ dtype: 'float32', dims: [4, 4, 1, 1], data: new Float32Array(16).fill(0.1) }, 'w');
    const y = b.relu(b.conv(x, w), 'y');
    const z = b.conv(y, w);
    b.output(b.add(b.conv(z, w), y)); // the last conv's piece reads y from the first piece
    expect(() => splitByWeights(b.graph, 16)).toThrow(/the piece after '.*' also reads '.*'/);
  });
});

describe('LiveSessions: plain base for the first frame, Winograd base from the second', () => {
  it('swaps the base after the first frame and keeps the results', async () => {
    const halves = buildLiveGraphs(options);
    const opened: Graph[] = [];
    const counting = (g: Graph) => (opened.push(g), open(g));
    const live = await LiveSessions.create(halves, counting, reopenWith(counting));
    const fused = await open(buildAnalyzeGraph(options));
    expect(live.form).toBe('plain');
    expect(opened.flatMap((g) => g.nodes).some((n) => n.name.includes('_wino'))).toBe(false);

    const first = await live.run(feeds(7));
    expect(opened).toHaveLength(2); // a one-shot caller builds no Winograd base
    const second = await live.run(feeds(7)); // builds the Winograd base, then runs on it
    expect(live.form).toBe('winograd');
    expect(opened).toHaveLength(3);
    expect(opened[2]!.nodes.some((n) => n.name.includes('_wino'))).toBe(true);
    expect(opened[2]!.nodes.some((n) => n.op === 'Gemm' && n.name.startsWith('fc'))).toBe(false);
    const ref = await fused.run(feeds(7));
    expectSameLiveOutputs(first, ref, 5);
    expectSameLiveOutputs(second, ref, 4); // F(4×4) Winograd: ≈ 1e-5 relative
    await live.release();
  });

  it('releases the plain base before it builds the Winograd base (one base in memory at a time)', async () => {
    const log: string[] = [];
    const kind = (g: Graph) =>
      g.nodes.some((n) => n.name.includes('_wino')) ? 'winograd' : g.outputs.length > 1 ? 'head' : 'plain';
    const logged = async (g: Graph) => {
      const s = await open(g);
      log.push(`open ${kind(g)}`);
      const release = s.release.bind(s);
      s.release = async () => (log.push(`release ${kind(g)}`), release());
      return s;
    };
    const live = await LiveSessions.create(buildLiveGraphs(options), logged, reopenWith(logged));
    await live.run(feeds(2));
    await live.run(feeds(2));
    expect(log).toEqual(['open head', 'open plain', 'release plain', 'open winograd']);
    await live.release();
  });

  it('reopens the plain base, and says why, when the Winograd base cannot be built', async () => {
    const halves = buildLiveGraphs(options);
    const reopened: Graph[] = [];
    const live = await LiveSessions.create(
      halves,
      open,
      reopenWith(async (g) => {
        if (g.nodes.some((n) => n.name.includes('_wino'))) throw new Error('out of memory');
        reopened.push(g);
        return open(g);
      }),
    );
    const first = await live.run(feeds(9));
    const second = await live.run(feeds(9));
    expect(live.form).toBe('final');
    expect(live.upgradeError?.message).toBe('out of memory');
    expect(reopened).toEqual([halves.front]);
    expectSameLiveOutputs(second, first, 6);
    await live.release();
  });

  it('fails later frames with the build error when no base can be reopened', async () => {
    const live = await LiveSessions.create(buildLiveGraphs(options), open, async () => {
      throw new Error('out of memory');
    });
    await live.run(feeds(9));
    await expect(live.run(feeds(9))).rejects.toThrow('out of memory');
    await expect(live.run(feeds(9))).rejects.toThrow('out of memory');
    await live.release();
  });

  it('runs a base alone (no head): its output, plain first, then Winograd', async () => {
    const { front, cut } = buildLiveGraphs(options);
    const live = await LiveSessions.create({ front, cut }, open, reopenWith(open));
    const plain = await open(front);
    const image = { [IO.image]: feeds(4)[IO.image] };
    const ref = (await plain.run(image))[cut]!.data as Float32Array;
    const first = (await live.run(image))[cut]!.data as Float32Array;
    expect(Array.from(first)).toEqual(Array.from(ref));
    const second = (await live.run(image))[cut]!.data as Float32Array;
    expect(live.form).toBe('winograd');
    expect(Math.max(...ref)).toBeGreaterThan(0);
    second.forEach((v, i) => expect(v).toBeCloseTo(ref[i]!, 3));
    await live.release();
  });

  it('builds the Winograd base as a chain of sessions, largest kernels first, with the same results', async () => {
    const halves = buildLiveGraphs(options);
    const max = WINOGRAD_TINY_PIECE;
    const built: string[] = [];
    const logging = (g: Graph) => (built.push(g.outputs[0]!.name), open(g));
    const live = await LiveSessions.create(halves, open, reopenWith(logging), max);
    const fused = await open(buildAnalyzeGraph(options));
    await live.run(feeds(8));
    const second = await live.run(feeds(8));
    expect(live.form).toBe('winograd');
    const pieces = splitByWeights(halves.front, max);
    const largestFirst = [...pieces].sort((a, b) => convWeights(b) - convWeights(a));
    expect(largestFirst).not.toEqual(pieces); // the order is a choice, not the chain's
    expect(built).toEqual(largestFirst.map((p) => p.outputs[0]!.name));
    expectSameLiveOutputs(second, await fused.run(feeds(8)), 4);
    await live.release();
  });

  it('releases the pieces already built when one fails, and reopens the plain base', async () => {
    const halves = buildLiveGraphs(options);
    const log: string[] = [];
    let wino = 0;
    const failing = async (g: Graph) => {
      const isWino = g.nodes.some((n) => n.name.includes('_wino'));
      if (isWino && ++wino === 3) throw new Error('out of memory');
      const s = await open(g);
      const name = isWino ? `winograd ${wino}` : 'plain';
      log.push(`open ${name}`);
      const release = s.release.bind(s);
      s.release = async () => (log.push(`release ${name}`), release());
      return s;
    };
    const live = await LiveSessions.create(halves, open, reopenWith(failing), WINOGRAD_TINY_PIECE);
    const first = await live.run(feeds(5));
    const second = await live.run(feeds(5));
    expect(live.form).toBe('final');
    expect(live.upgradeError?.message).toBe('out of memory');
    expect(log).toEqual([
      'open winograd 1',
      'open winograd 2',
      'release winograd 1',
      'release winograd 2',
      'open plain',
    ]);
    expectSameLiveOutputs(second, first, 6);
    await live.release();
  });

  it('stays plain without a way to reopen (WebGPU)', async () => {
    const live = await LiveSessions.create(buildLiveGraphs(options), open);
    await live.run(feeds(3));
    await live.run(feeds(3));
    expect(live.form).toBe('final');
    await live.release();
  });
});
