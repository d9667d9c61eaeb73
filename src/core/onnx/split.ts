/**
 * Cut a graph in two at one value, so each half can be a session of its own:
 *
 *   front   the nodes `cut` depends on: the graph's inputs → cut (its only output)
 *   back    every other node: cut (now an input) and the graph's other inputs → the graph's outputs
 *
 * Running front, then back on its output, computes what the whole graph computes. The cut is valid
 * only when the back half needs nothing else the front computes (the live graph's block5_conv3:
 * the Grad-CAM shortcut reads the activation A and the head, never a gradient through the base);
 * otherwise `splitAt` throws, naming the value that crosses.
 *
 * Why: the two halves are created, replaced and sized separately. The engine starts the live view
 * with a plain-conv front (no Winograd kernels to fold: a cold session in a fraction of the time),
 * then swaps in the Winograd front without touching the head's 500 MB of dense weights.
 */
import { ancestors as ancestorsIn, type Graph, type Node } from './ir';

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
  const frontNodes = graph.nodes.filter((n) => inFront.has(n));
  const backNodes = graph.nodes.filter((n) => needed.has(n) && !inFront.has(n));

  const computedInFront = new Set(frontNodes.flatMap((n) => n.outputs));
  for (const n of backNodes)
    for (const i of n.inputs)
      if (i && i !== cut && computedInFront.has(i))
        throw new Error(`splitAt: '${n.name}' (${n.op}) after the cut reads '${i}', computed before '${cut}'`);
  for (const o of graph.outputs)
    if (o.name !== cut && computedInFront.has(o.name))
      throw new Error(`splitAt: the output '${o.name}' is computed before '${cut}'`);

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
    front: half(`${graph.name}-front`, frontNodes, [], [{ ...cutInfo }]),
    back: half(`${graph.name}-back`, backNodes, [{ ...cutInfo }], graph.outputs),
  };
}
