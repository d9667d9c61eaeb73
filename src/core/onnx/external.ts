/** Turn external-data initializers into inline ones, for a standalone .onnx file. */
import type { DType, Graph, TypedArray } from './ir';

function view(dtype: DType, bytes: Uint8Array): TypedArray {
  const copy = new Uint8Array(bytes).buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(copy);
    case 'float64':
      return new Float64Array(copy);
    case 'int64':
      return new BigInt64Array(copy);
    case 'int32':
      return new Int32Array(copy);
    case 'int8':
      return new Int8Array(copy);
    case 'uint8':
    case 'bool':
      return new Uint8Array(copy);
  }
}

export function embedExternalData(g: Graph, files: ReadonlyMap<string, Uint8Array>): Graph {
  const initializers = new Map(g.initializers);
  for (const [name, init] of initializers) {
    if (!init.external) continue;
    const { location, offset, length } = init.external;
    const file = files.get(location);
    if (!file) throw new Error(`external data file '${location}' for '${name}' is missing`);
    initializers.set(name, {
      name,
      dtype: init.dtype,
      dims: init.dims,
      data: view(init.dtype, file.subarray(offset, offset + length)),
    });
  }
  return { ...g, initializers };
}
