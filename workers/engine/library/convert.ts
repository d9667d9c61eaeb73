/**
 * What the URL import needs from the streaming safetensors converter (src/core/vgg16/safetensors.ts):
 * bytes in chunk by chunk, shards out through a sink, a structured-clonable snapshot with the source
 * offset to resume from (the whole file's SHA-256 mid-state inside it). The library takes the factory
 * as an option, so tests can wrap it.
 */
import type { BundleManifest, PartName, Quantization } from '../../../src/core/bundle/manifest';
import type { VggConfig } from '../../../src/core/vgg16/spec';

/** A finished shard, every byte final. */
export interface ShardOut {
  part: PartName;
  file: string;
  bytes: Uint8Array;
}

export interface StreamConverter {
  /** The next bytes of the file; shards they finish reach the sink before it resolves. */
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes consumed so far: where a resumed download continues. */
  readonly offset: number;
  /** Structured-clonable state at `offset` (also valid inside the sink, once the shard is stored). */
  snapshot(): { offset: number };
  /** After the last byte: checks the length and the sha256, returns the manifest. */
  finish(): Promise<BundleManifest>;
}

export interface ConverterOptions {
  id: string;
  quantization: Quantization;
  config?: VggConfig;
  /** A snapshot from earlier: the converter continues from its offset. */
  snapshot?: unknown;
  /** The whole file's published sha256. */
  sha256?: string;
}

export type ConverterFactory = (
  options: ConverterOptions,
  sink: (shard: ShardOut) => Promise<void>,
) => StreamConverter | Promise<StreamConverter>;

/** The app's converter, loaded on demand (only imports from a URL need it). */
export const defaultConverter: ConverterFactory = async () => {
  throw new Error('internal: the safetensors converter is not linked yet');
};
