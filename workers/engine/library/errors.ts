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

/** The weights URL answered 404/410 (or another HTTP error): nothing to download there. */
export class WeightsNotFoundError extends Error {
  override name = 'WeightsNotFoundError';
  constructor(
    readonly url: string,
    readonly status: number,
  ) {
    super(
      status === 404 || status === 410
        ? `no file at ${url} (HTTP ${status}): check the URL; on Hugging Face use the file's download link (…/resolve/main/…)`
        : `${url} answered HTTP ${status}: check the URL, or try again later if the server is busy`,
    );
  }
}

/** The URL gives a web page, not a weights file (a sign-in page, a "blob" view, a server's index page). */
export class WeightsHtmlError extends Error {
  override name = 'WeightsHtmlError';
  constructor(readonly url: string) {
    super(
      `${url} is a web page, not a weights file: use the file's direct download link ` +
        "(on Hugging Face, '…/resolve/main/model.safetensors', not '…/blob/…')",
    );
  }
}

/** The file is none of the formats the app converts (safetensors, Keras .h5, ONNX, a bundle folder). */
export class UnsupportedWeightsError extends Error {
  override name = 'UnsupportedWeightsError';
}

/** The server could not be reached, or the browser blocked the answer (CORS). */
export class WeightsNetworkError extends Error {
  override name = 'WeightsNetworkError';
  constructor(
    readonly url: string,
    cause: string,
  ) {
    super(
      `could not download ${url} (${cause}): check the URL or your connection; the download resumes where it stopped. ` +
        'A server must allow this site (CORS) to serve files to it.',
    );
  }
}

/** The whole file's sha256 is not the published one: another or a damaged file; nothing was kept. */
export class WeightsChecksumError extends Error {
  override name = 'WeightsChecksumError';
  constructor(
    readonly url: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `${url} has sha256 ${actual}, not the published ${expected}: it is another or a damaged file, so ` +
        'the converted model was removed. Check the URL (or the sha256 setting) and download again.',
    );
  }
}
