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
interface ExternalRef {
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

/** The value type of each attribute type. */
type AttrValue = { [A in Attr as A['type']]: A['value'] };

export class AttributeError extends Error {
  override name = 'AttributeError';
}

/**
 * Typed reads of a node's attributes: the fallback where an attribute is absent; an AttributeError
 * naming the op, node and attribute where it has another type, is absent without a fallback, or
 * holds a value outside `allowed`.
 */
export interface AttrReader {
  int(name: string, fallback?: number): number;
  float(name: string, fallback?: number): number;
  ints(name: string, fallback?: number[]): number[];
  floats(name: string, fallback?: number[]): number[];
  string(name: string, fallback?: string): string;
  /** A string attribute that must be one of `allowed` (an enum such as auto_pad). */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback?: T): T;
}

export function readAttrs(node: Node): AttrReader {
  const fail = (name: string, why: string) =>
    new AttributeError(`${node.op} node '${node.name}': attribute '${name}' ${why}`);
  const read = <T extends keyof AttrValue>(type: T, name: string, fallback?: AttrValue[T]): AttrValue[T] => {
    const a = node.attrs[name];
    if (a === undefined) {
      if (fallback === undefined) throw fail(name, 'is required; set it on the node');
      return fallback;
    }
    if (a.type !== type) throw fail(name, `is ${a.type}, the op takes ${type}`);
    return a.value as AttrValue[T];
  };
  return {
    int: (name, fallback) => read('int', name, fallback),
    float: (name, fallback) => read('float', name, fallback),
    ints: (name, fallback) => read('ints', name, fallback),
    floats: (name, fallback) => read('floats', name, fallback),
    string: (name, fallback) => read('string', name, fallback),
    oneOf: (name, allowed, fallback) => {
      const v = read('string', name, fallback);
      if (!allowed.some((a) => a === v)) throw fail(name, `= '${v}' is not supported (${allowed.join(', ')})`);
      return v as (typeof allowed)[number];
    },
  };
}

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
