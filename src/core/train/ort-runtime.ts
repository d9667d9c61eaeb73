/**
 * GraphRuntime over onnxruntime-web. onnxruntime-web is itself platform-free (the same package runs
 * in Node, pages and workers); the engine decides the execution providers and thread count.
 */
import * as ort from 'onnxruntime-web';
import { encodeModel } from '../onnx/encode';
import type { Graph } from '../onnx/ir';
import type { Feed, GraphRuntime, GraphSession, SessionOptions } from './runtime';

export function ortRuntime(preferred: readonly string[] = ['wasm']): GraphRuntime {
  return {
    async create(graph: Graph, o: SessionOptions = {}): Promise<GraphSession> {
      const session = await ort.InferenceSession.create(encodeModel(graph), {
        executionProviders: [...(o.device === 'preferred' ? preferred : ['wasm'])],
        graphOptimizationLevel: 'all',
        ...(o.externalData ? { externalData: [...o.externalData].map(([path, data]) => ({ path, data })) } : {}),
        // Without this, ORT keeps DequantizeLinear of int8 weights in the graph and redoes it each run.
        ...(o.foldInt8 ? { extra: { session: { disable_quant_qdq: '1' } } } : {}),
      });
      return {
        async run(feeds: Record<string, Feed>) {
          const t: Record<string, ort.Tensor> = {};
          for (const [name, f] of Object.entries(feeds)) t[name] = new ort.Tensor(f.type, f.data, [...f.dims]);
          const out = await session.run(t);
          const res: Record<string, Float32Array> = {};
          for (const [name, v] of Object.entries(out)) {
            if (v.type !== 'float32') throw new TypeError(`graph output '${name}' is ${v.type}, expected float32`);
            res[name] = v.data as Float32Array;
          }
          return res;
        },
        release: () => session.release(),
      };
    },
  };
}
