/**
 * What the training code needs from an ONNX runtime: build a session from a generated graph, run it
 * with CPU tensors. The engine passes onnxruntime-web (ort-runtime.ts); nothing else here knows ORT,
 * so the loops and graphs stay testable and the session lives wherever the engine lives.
 */
import type { Graph, Shape } from '../onnx/ir';

export type Feed =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] };

export interface GraphSession {
  /** Runs the graph; every requested output must be float32 and comes back as a fresh array. */
  run(feeds: Record<string, Feed>): Promise<Record<string, Float32Array>>;
  release(): Promise<void>;
}

export interface SessionOptions {
  /** ONNX external-data files (shard name → bytes) the graph's initializers point into. */
  externalData?: ReadonlyMap<string, Uint8Array>;
  /** The model is an int8 bundle: fold its DequantizeLinear weights once at session creation. */
  foldInt8?: boolean;
  /** Run on the engine's preferred device (feature extraction, live graph) or always on WASM. */
  device?: 'preferred' | 'wasm';
}

export interface GraphRuntime {
  create(graph: Graph, options?: SessionOptions): Promise<GraphSession>;
}

export const f32 = (data: Float32Array, dims: readonly number[]): Feed => ({ type: 'float32', data, dims });

/**
 * One GraphSession over the sessions of a graph's pieces (src/core/onnx/split.ts splitByWeights, in
 * chain order): each piece after the first reads the previous one's cut, whose dims are its declared
 * shape with the one symbolic dimension (the batch) taken from its length; the result holds every
 * piece's graph outputs except the cuts. Releasing it releases the pieces.
 */
export function chainSession(pieces: readonly { graph: Graph; session: GraphSession }[]): GraphSession {
  return {
    async run(feeds) {
      const result: Record<string, Float32Array> = {};
      let carry = feeds;
      for (const [i, { graph, session }] of pieces.entries()) {
        const out = await session.run(carry);
        const cut = pieces[i + 1]?.graph.inputs[0];
        for (const o of graph.outputs) if (o.name !== cut?.name) result[o.name] = out[o.name]!;
        if (cut) carry = { [cut.name]: f32(out[cut.name]!, resolveDims(cut.shape, out[cut.name]!.length)) };
      }
      return result;
    },
    async release() {
      await Promise.all(pieces.map((p) => p.session.release()));
    },
  };
}

function resolveDims(shape: Shape, length: number): number[] {
  const known = shape.reduce<number>((p, d) => (typeof d === 'number' ? p * d : p), 1);
  const free = shape.filter((d) => typeof d !== 'number').length;
  if (free > 1 || length % known !== 0 || (free === 0 && length !== known))
    throw new Error(`chainSession: cannot size [${shape.join(', ')}] from ${length} values`);
  return shape.map((d) => (typeof d === 'number' ? d : length / known));
}
