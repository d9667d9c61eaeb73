/**
 * What the core needs from an ONNX runtime, for live, insight and training alike: build a session from
 * a generated graph, run it with CPU tensors. The engine implements it with onnxruntime-web
 * (workers/engine/sessions.ts); nothing in the core knows onnxruntime, so the graphs and loops stay
 * testable and the sessions live wherever the engine lives.
 */
import type { Graph, Shape } from './onnx/ir';

/** A dense CPU tensor: float32, or int64 for class indices. */
export interface Feed {
  dims: readonly number[];
  data: Float32Array | BigInt64Array;
}

export interface GraphSession {
  /** Runs the graph; its outputs come back as fresh arrays. */
  run(feeds: Record<string, Feed>): Promise<Record<string, Feed>>;
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

/** Creates a session for a graph whose weights were declared by the host's WeightRef. */
export type OpenSession = (graph: Graph) => Promise<GraphSession>;

export const f32 = (data: Float32Array, dims: readonly number[]): Feed => ({ data, dims });

/**
 * Gives an array's memory back now, not at the JS engine's next full collection: its buffer is
 * detached by ArrayBuffer.prototype.transfer(0) (ES2024), which releases the store at once. Only for an
 * array that nothing reads again and that owns its whole buffer (a shared one is left alone). Where
 * transfer is missing (Node 20) the buffer is detached all the same (moved into a clone that is dropped),
 * so a later read fails there too, and the collector frees it. A training step's outputs are
 * 50–110 MB of fresh arrays: left to the collector they pile up to hundreds of MB before it runs.
 */
export function discard(a: Float32Array): void {
  const b = a.buffer as ArrayBuffer & { transfer?: (length: number) => ArrayBuffer };
  if (a.byteOffset !== 0 || a.byteLength !== b.byteLength || !(b instanceof ArrayBuffer)) return;
  if (typeof b.transfer === 'function') b.transfer(0);
  else structuredClone(b, { transfer: [b] });
}

/** A float32 output by name, or an Error naming what the graph returned. */
export function floatOut(out: Record<string, Feed>, name: string): Float32Array {
  const t = out[name];
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`the session returned no float32 output '${name}'`);
  return t.data;
}

/**
 * One GraphSession over the sessions of a graph's pieces (src/core/onnx/split.ts splitByWeights, in
 * chain order): each piece after the first reads the previous one's cut, whose dims are its declared
 * shape with the one symbolic dimension (the batch) taken from its length; the result holds every
 * piece's graph outputs except the cuts. Releasing it releases the pieces.
 */
export function chainSession(pieces: readonly { graph: Graph; session: GraphSession }[]): GraphSession {
  return {
    async run(feeds) {
      const result: Record<string, Feed> = {};
      let carry = feeds;
      for (const [i, { graph, session }] of pieces.entries()) {
        const out = await session.run(carry);
        const cut = pieces[i + 1]?.graph.inputs[0];
        for (const o of graph.outputs) if (o.name !== cut?.name) result[o.name] = out[o.name]!;
        if (cut) {
          const x = floatOut(out, cut.name);
          carry = { [cut.name]: f32(x, resolveDims(cut.shape, x.length)) };
        }
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
