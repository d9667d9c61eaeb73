/**
 * Named errors of the model library (code checks `err.name`: Comlink keeps names, not classes).
 * Bundle format and shard errors come from src/core/bundle/errors.
 */

/** Sizes as people read them: MB, or kB below one megabyte (a tiny model is not "0.0 MB"). */
const mb = (bytes: number) => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`);

/**
 * Not enough storage for a model: thrown before downloading when the estimate is too small, or when
 * the browser refused a write (after the partial download was removed). `available` is undefined in
 * the second case: the estimate was evidently wrong (Chrome's estimate() need not reflect the real limit).
 */
export class QuotaError extends Error {
  override name = 'QuotaError';
  constructor(
    readonly needed: number,
    readonly available: number | undefined,
  ) {
    super(
      available === undefined
        ? `not enough storage for this model: it needs ${mb(needed)} and the browser refused to store it; ` +
            'what was partly stored is removed. Delete a model or free space on the device, then try again.'
        : `not enough storage for this model: it needs ${mb(needed)}, ${mb(Math.max(0, available))} is available. ` +
            'Delete a model or free space on the device, then try again.',
    );
  }
}

/** The user cancelled a download; verified shards were kept, so downloading again resumes. */
export class AbortError extends Error {
  override name = 'AbortError';
  constructor(message = 'download cancelled; verified parts were kept and the next download resumes from them') {
    super(message);
  }
}

/** Another tab upgraded the storage schema; this tab's connection was closed and it must reload. */
export class StorageBlockedError extends Error {
  override name = 'StorageBlockedError';
}

/** A model whose base is not (or no longer) fully stored and verified. */
export class ModelIncompleteError extends Error {
  override name = 'ModelIncompleteError';
}
