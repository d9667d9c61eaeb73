/**
 * What the training code needs from an ONNX runtime: build a session from a generated graph, run it
 * with CPU tensors. The engine passes onnxruntime-web (ort-runtime.ts); nothing else here knows ORT,
 * so the loops and graphs stay testable and the session lives wherever the engine lives.
 */
import type { Graph } from '../onnx/ir';

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
