/**
 * Named bundle errors. Each message says what went wrong and what to do about it; `name` survives
 * Comlink's structured clone, so the UI can tell them apart.
 */

/** The manifest (or a shard's contents) is not a well-formed convlens bundle. */
export class BundleFormatError extends Error {
  override name = 'BundleFormatError';
}

/** A shard's byte length differs from the manifest's: a cut-short download, or the wrong file. */
export class ShardLengthError extends Error {
  override name = 'ShardLengthError';
  constructor(
    readonly file: string,
    readonly expected: number,
    readonly actual: number,
    message: string,
  ) {
    super(message);
  }
}

/** A shard has the right length but the wrong sha256: corrupt or altered bytes. */
export class ShardHashError extends Error {
  override name = 'ShardHashError';
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    message: string,
  ) {
    super(message);
  }
}

/** A file of the bundle (a shard, or the manifest itself) is not in the store. */
export class MissingShardError extends Error {
  override name = 'MissingShardError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** The source weight file is not a safetensors file (an HTML page, a cut-off header, another format). */
export class SafetensorsFormatError extends Error {
  override name = 'SafetensorsFormatError';
}

/** The whole source file's sha256 differs from the published one: a corrupt or different file. */
export class SourceHashError extends Error {
  override name = 'SourceHashError';
  constructor(
    readonly expected: string,
    readonly actual: string,
    message: string,
  ) {
    super(message);
  }
}

/** A saved conversion state cannot continue this conversion (another model, or not a saved state). */
export class ConversionStateError extends Error {
  override name = 'ConversionStateError';
}
