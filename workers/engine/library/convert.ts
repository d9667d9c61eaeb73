/**
 * What the URL import needs from the streaming safetensors converter (src/core/vgg16/safetensors*):
 * bytes in chunk by chunk, shards out through a sink, a structured-clonable snapshot with the source
 * offset to resume from, and an incremental SHA-256 whose state can be stored. The library takes
 * factories for both, so tests can count what it feeds them.
 */
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import type { VggConfig } from '../../../src/core/vgg16/spec';

/** The converter's resumable state: `offset` is the source byte to request next. */
export interface ConverterSnapshot {
  offset: number;
}

export interface StreamConverter {
  /** The next bytes of the source; completed shards reach the sink before it resolves. */
  push(chunk: Uint8Array): Promise<void>;
  /** The source ended: the last shards go to the sink, then the bundle's manifest. */
  finish(): Promise<BundleManifest>;
  snapshot(): ConverterSnapshot;
}

export interface ConverterOptions {
  id: string;
  cfg: VggConfig;
  sink: (file: string, bytes: Uint8Array) => Promise<void>;
  /** A snapshot taken earlier: the converter goes on from its offset. */
  resume?: ConverterSnapshot;
}

export type ConverterFactory = (options: ConverterOptions) => StreamConverter | Promise<StreamConverter>;

export interface IncrementalHash {
  update(bytes: Uint8Array): void;
  /** Structured-clonable state; `createHash(state)` goes on from it. */
  state(): unknown;
  /** Lower-case hex digest of everything given. */
  hex(): string;
}

export type HashFactory = (state?: unknown) => IncrementalHash;

/** The app's converter, loaded on demand (only imports from a URL need it). */
export const defaultConverter: ConverterFactory = async () => {
  throw new Error('internal: the safetensors converter is not linked yet');
};

export const defaultHash: HashFactory = () => {
  throw new Error('internal: the incremental SHA-256 is not linked yet');
};
