/**
 * The in-memory ONNX graph: plain data, no protobuf. The builder writes it, the gradient generator
 * extends it, encode.ts turns it into a ModelProto. Names and attribute spellings follow the ONNX spec.
 */

export type DType = 'float32' | 'float64' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool';

export type TypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** A dimension is a number, or a symbolic name (e.g. 'N' for a free batch size). */
export type Dim = number | string;
export type Shape = Dim[];

/** A tensor held in memory. */
export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TypedArray;
}

/** Where an initializer's bytes live when they are not inline (ONNX external data). */
export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}

export interface Initializer {
  name: string;
  dtype: DType;
  dims: number[];
  data?: TypedArray;
  external?: ExternalRef;
}

export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'string'; value: string }
  | { type: 'tensor'; value: Tensor };

export interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  name: string;
  domain?: string;
}

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Shape;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Initializer>;
  /** Every value's dtype and static shape, recorded by the builder (the gradient generator reads it). */
  values: Map<string, ValueInfo>;
}

/**
 * `graph` without its nodes, for a rewrite to refill (winograd.ts, integer-dense.ts): its inputs,
 * outputs, initializers and values copied, so the rewrite's additions leave the original untouched.
 */
export function withoutNodes(graph: Graph): Graph {
  return {
    name: graph.name,
    nodes: [],
    inputs: graph.inputs.map((v) => ({ ...v })),
    outputs: graph.outputs.map((v) => ({ ...v })),
    initializers: new Map(graph.initializers),
    values: new Map(graph.values),
  };
}

/** Opset 18: every Reduce* op takes its axes as an input, which keeps the builder uniform. */
export const OPSET = 18;

export function bytesPerElement(dtype: DType): number {
  switch (dtype) {
    case 'float64':
    case 'int64':
      return 8;
    case 'float32':
    case 'int32':
      return 4;
    case 'int8':
    case 'uint8':
    case 'bool':
      return 1;
  }
}

export function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function isStatic(shape: Shape): shape is number[] {
  return shape.every((d) => typeof d === 'number');
}

/** The nodes `values` are computed from (walked back through their producers, the producers included). */
export function ancestors(nodes: readonly Node[], values: readonly string[]): Set<Node> {
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) producer.set(o, n);
  const seen = new Set<Node>();
  const todo = [...values];
  while (todo.length) {
    const n = producer.get(todo.pop()!);
    if (!n || seen.has(n)) continue;
    seen.add(n);
    todo.push(...n.inputs.filter(Boolean));
  }
  return seen;
}
