/**
 * Cut a graph in two at one value, so each half can be a session of its own:
 *
 *   front   the nodes `cut` depends on: the graph's inputs → cut (and any of the graph's outputs it
 *           computes, e.g. an activation named as an output that it can compute by itself)
 *   back    every other node: cut (now an input) and the graph's other inputs → the other outputs
 *
 * Running front, then back on its output, computes what the whole graph computes. The cut is valid
 * only when the back half needs nothing else the front computes (the live graph's block5_conv3:
 * the Grad-CAM shortcut reads the activation A and the head, never a gradient through the base);
 * otherwise `splitAt` throws, naming the value that crosses.
 *
 * Why: the two halves are created, replaced and sized separately. In the live view the front is the
 * conv base and the back the head (workers/engine/live.ts names them so): the engine starts with a
 * plain-conv base (no Winograd kernels to fold: a cold session in a fraction of the time), then swaps
 * in the Winograd base without touching the head's dense weights.
 */
import { ancestors as ancestorsIn, isStatic, numel, type Graph, type Node } from './ir';

export interface SplitGraph {
  front: Graph;
  back: Graph;
}

export function splitAt(graph: Graph, cut: string): SplitGraph {
  const producer = new Map<string, Node>();
  for (const n of graph.nodes) for (const o of n.outputs) producer.set(o, n);
  const cutInfo = graph.values.get(cut);
  if (!producer.has(cut) || !cutInfo) throw new Error(`splitAt: '${cut}' is not computed by the graph`);

  const ancestors = (values: string[]) => ancestorsIn(graph.nodes, values);
  // The front: cut's ancestors; the back: the rest of what the outputs need (nodes nothing reads,
  // e.g. a base's block5_pool under a head that pools its own way, are dropped). In graph order.
  const inFront = ancestors([cut]);
  const needed = ancestors(graph.outputs.map((o) => o.name));
  // A node that only names one of the graph's outputs from what the front computes or reads, other
  // than the cut (the feature graph's Identity of block4_pool, cut after block5_conv1), goes with
  // the front, so the back need not read it too.
  const isOutput = new Set(graph.outputs.map((o) => o.name));
  const read = new Set(graph.nodes.flatMap((n) => n.inputs));
  const available = new Set([...graph.initializers.keys()]);
  for (const n of inFront) for (const v of [...n.inputs, ...n.outputs]) available.add(v);
  for (const n of graph.nodes)
    if (
      !inFront.has(n) &&
      n.inputs.every((i) => !i || (i !== cut && available.has(i))) &&
      n.outputs.every((o) => isOutput.has(o) && !read.has(o))
    )
      inFront.add(n);
  const frontNodes = graph.nodes.filter((n) => inFront.has(n));
  const backNodes = graph.nodes.filter((n) => needed.has(n) && !inFront.has(n));

  const computedInFront = new Set(frontNodes.flatMap((n) => n.outputs));
  for (const n of backNodes)
    for (const i of n.inputs)
      if (i && i !== cut && computedInFront.has(i))
        throw new Error(`splitAt: '${n.name}' (${n.op}) after the cut reads '${i}', computed before '${cut}'`);
  const frontOutputs = graph.outputs.filter((o) => o.name !== cut && computedInFront.has(o.name));

  const half = (name: string, nodes: Node[], extraInputs: Graph['inputs'], outputs: Graph['outputs']): Graph => {
    const used = new Set(nodes.flatMap((n) => n.inputs));
    return {
      name,
      nodes,
      inputs: [...extraInputs, ...graph.inputs.filter((v) => used.has(v.name))],
      outputs,
      initializers: new Map([...graph.initializers].filter(([k]) => used.has(k))),
      values: graph.values,
    };
  };
  return {
    front: half(`${graph.name}-front`, frontNodes, [], [{ ...cutInfo }, ...frontOutputs]),
    back: half(
      `${graph.name}-back`,
      backNodes,
      [{ ...cutInfo }],
      graph.outputs.filter((o) => !computedInFront.has(o.name)),
    ),
  };
}

/**
 * Cut a chain of convolutions (a conv base) into pieces of at most `maxWeights` kernel elements each
 * (more only where one conv alone is larger), cutting at the input of the conv that would overflow a
 * piece. pieces[0] reads the graph's inputs; each next piece reads only the previous one's first
 * output (its cut); each piece outputs the graph's outputs it computes. A graph that is not such a
 * chain at those cuts is refused, naming the value that crosses, not mis-cut.
 *
 * Why: onnxruntime builds a session's constants all at once — a Winograd base holds its folded
 * kernels about three times over while it builds (the graph's copy, the session's, the packed one) —
 * so a session's build peak grows with its constants; sessions of one or two layers each keep that
 * peak to a layer's worth.
 */
export function splitByWeights(graph: Graph, maxWeights: number): Graph[] {
  const cuts: string[] = [];
  let weights = 0;
  for (const n of graph.nodes) {
    if (n.op !== 'Conv') continue;
    const k = kernelElements(graph, n);
    if (weights > 0 && weights + k > maxWeights) {
      cuts.push(n.inputs[0]!);
      weights = 0;
    }
    weights += k;
  }
  const pieces: Graph[] = [];
  let rest = graph;
  for (const [i, cut] of cuts.entries()) {
    const { front, back } = splitAt(rest, cut);
    pieces.push({ ...front, name: `${graph.name}-${i}` });
    rest = back;
    // splitAt lets the back half read the graph's inputs and values before its own; a chain's piece reads only the cut.
    const extra = back.inputs.find((v) => v.name !== cut);
    if (extra)
      throw new Error(`splitByWeights: the piece after '${cut}' also reads '${extra.name}', computed before it`);
  }
  pieces.push(cuts.length ? { ...rest, name: `${graph.name}-${cuts.length}` } : rest);
  return pieces;
}

/** How many kernel elements a graph's convolutions hold (what `splitByWeights` counts). */
export function convWeights(graph: Graph): number {
  return graph.nodes.filter((n) => n.op === 'Conv').reduce((sum, n) => sum + kernelElements(graph, n), 0);
}

function kernelElements(graph: Graph, conv: Node): number {
  const w = conv.inputs[1]!;
  const shape = graph.values.get(w)?.shape ?? graph.initializers.get(w)?.dims;
  if (!shape || !isStatic(shape)) throw new Error(`splitByWeights: '${conv.name}' has a kernel of unknown size`);
  return numel(shape);
}

/**
 * Kernel elements per piece for the Winograd conv bases: one 512→512 3×3 conv (2.36 M; its F(4×4)
 * kernels are 38 MB in fp32, block5's F(2×2) ones 17 MB). VGG16's base becomes seven pieces: blocks
 * 1–3, then one per conv.
 */
export const PIECE_WEIGHTS = 2_400_000;

/**
 * Sessions for a graph's pieces (splitByWeights), in chain order, opened from the largest kernels
 * down: a build's transient memory is freed when it ends, so the smaller builds after it reuse that
 * space and the peak is the largest build on top of the sessions before it. If one fails, the ones
 * already open are released.
 */
export async function openPieces<S extends { release(): Promise<unknown> }>(
  pieces: readonly Graph[],
  open: (piece: Graph) => Promise<S>,
): Promise<S[]> {
  const sessions: S[] = [];
  const weights = pieces.map(convWeights);
  const order = [...pieces.keys()].sort((a, b) => weights[b]! - weights[a]!);
  try {
    for (const i of order) sessions[i] = await open(pieces[i]!);
  } catch (e) {
    await Promise.all(sessions.map((s) => s?.release()));
    throw e;
  }
  return sessions;
}
