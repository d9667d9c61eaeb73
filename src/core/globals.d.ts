/**
 * The few platform globals that src/core uses. The core project compiles with lib es2022 only (no DOM, no
 * webworker, no @types/node), so anything beyond the language must be declared here — and only what is used.
 * Browsers, workers and Node all provide these; when core files are compiled by another project, that
 * project's lib supplies the real declarations and this file is not part of it.
 */
export {};

declare global {
  interface TextEncoder {
    readonly encoding: string;
    encode(input?: string): Uint8Array<ArrayBuffer>;
  }
  var TextEncoder: { prototype: TextEncoder; new (): TextEncoder };

  interface TextDecoder {
    readonly encoding: string;
    decode(input?: ArrayBuffer | ArrayBufferView, options?: { stream?: boolean }): string;
  }
  var TextDecoder: {
    prototype: TextDecoder;
    new (label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean }): TextDecoder;
  };

  interface SubtleCrypto {
    digest(algorithm: string | { name: string }, data: ArrayBuffer | ArrayBufferView): Promise<ArrayBuffer>;
  }
  interface Crypto {
    readonly subtle: SubtleCrypto;
  }
  var crypto: Crypto;

  interface Performance {
    now(): number;
  }
  var performance: Performance;

  function structuredClone<T>(value: T, options?: { transfer?: ArrayBuffer[] }): T;
}
