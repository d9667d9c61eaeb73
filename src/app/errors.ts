/**
 * Errors as the UI keeps and shows them. Comlink carries an error's `name` and message across the worker
 * boundary but not its class, so everything here keys on `name`.
 */

/** An error reduced to plain data, so it can live in the reducer's state. */
export interface AppError {
  name: string;
  message: string;
}

/** What the user reads: a short title, the engine's own message (it says what to do), and a hint of ours. */
export interface ErrorText {
  title: string;
  message: string;
  hint?: string;
  /** Only a page reload helps (e.g. another tab upgraded the storage schema). */
  reload?: boolean;
}

/** Any thrown value as plain `{name, message}`; non-Error values keep their text. */
export function toAppError(err: unknown): AppError {
  if (err && typeof err === 'object') {
    const { name, message } = err as { name?: unknown; message?: unknown };
    return {
      name: typeof name === 'string' && name ? name : 'Error',
      message: typeof message === 'string' ? message : String(err),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** What the training screen cannot train or store as asked (a class without a name, too few photos). */
export const inputError = (message: string): AppError => ({ name: 'TrainingInputError', message });

/** A download or job the user stopped: not a failure to report. */
export function isAbort(err: AppError): boolean {
  return err.name === 'AbortError';
}

const REDOWNLOAD = 'The bad data was discarded. Download the model again (verified parts are kept).';
const URL_HINT =
  'Use the direct link of a VGG16 weights file (safetensors from timm or torchvision, Keras .h5, ONNX) or a convlens model folder.';
const CHECKSUM_HINT =
  'Check that the SHA-256 is the one published for this exact file and the URL is its direct link, then download again.';
const IMPORT_HINT =
  'Use vgg16_weights_tf_dim_ordering_tf_kernels(_notop).h5 (Keras) or vgg16-12.onnx (ONNX model zoo), unmodified.';

/**
 * Titles and hints per error name (the names in workers/engine/library/errors.ts, src/core/bundle/errors.ts,
 * the weight importers and the browser's own); the message shown is always the error's own.
 */
const TABLE: Readonly<Record<string, { title: string; hint?: string; reload?: boolean }>> = Object.freeze({
  QuotaError: { title: 'Not enough storage' },
  QuotaExceededError: {
    title: 'Not enough storage',
    hint: 'Delete a model or free space on the device, then download again.',
  },
  ShardHashError: { title: 'Model data is corrupt', hint: REDOWNLOAD },
  ShardLengthError: { title: 'Model data is incomplete', hint: REDOWNLOAD },
  MissingShardError: {
    title: 'Model data is missing',
    hint: 'The browser may have evicted part of it. Download the model again.',
  },
  BundleFormatError: { title: 'Not a convlens model bundle', hint: 'The server sent something else (an error page?).' },
  ModelNotFoundError: {
    title: 'Model not stored',
    hint: 'The browser may have evicted it. Download it again or import the weights.',
  },
  ModelIncompleteError: { title: 'Model not complete', hint: 'Resume the download to fetch the missing parts.' },
  WeightsMismatchError: { title: 'These weights do not fit VGG16', hint: IMPORT_HINT },
  UnsupportedModelError: { title: 'Cannot import this file', hint: IMPORT_HINT },
  QuantizeError: { title: 'Cannot convert these weights', hint: IMPORT_HINT },
  StorageBlockedError: { title: 'convlens was updated in another tab', reload: true },
  StorageUpgradeBlockedError: { title: 'Another convlens tab is open' },
  EngineStateError: { title: 'Engine not ready' },
  WorkerCrashError: { title: 'The engine stopped', hint: 'It restarts by itself; your models are safe.' },
  NetworkError: { title: 'Network problem', hint: 'Check the connection; the download resumes where it stopped.' },
  // weights by URL (workers/engine/library/errors.ts, the safetensors converter)
  WeightsNotFoundError: { title: 'No weights file at this URL', hint: URL_HINT },
  WeightsHtmlError: { title: 'This URL is a web page', hint: URL_HINT },
  UnsupportedWeightsError: { title: 'Not a weights file convlens reads', hint: URL_HINT },
  WeightsNetworkError: { title: 'Download interrupted', hint: 'Press Resume when the connection is back.' },
  WeightsChecksumError: { title: 'Not the published file', hint: CHECKSUM_HINT },
  SourceHashError: { title: 'Not the published file', hint: CHECKSUM_HINT },
  SafetensorsFormatError: { title: 'Not a valid safetensors file', hint: URL_HINT },
  ConversionStateError: {
    title: 'Cannot resume this download',
    hint: 'Press the download button again: it starts from the beginning.',
  },
  // training (src/core/train/errors.ts)
  TrainingInputError: { title: 'Cannot train yet' },
  TrainingBusyError: { title: 'Training is already running' },
  TrainingRunningError: {
    title: 'Paused while training',
    hint: 'The live view and the Inside screen resume when the training finishes or is cancelled.',
  },
  TrainingCancelledError: { title: 'Training cancelled', hint: 'Press Train to resume where it stopped.' },
  TrainingDivergedError: { title: 'Training diverged', hint: 'Try a lower learning rate or the other optimizer.' },
  TrainStateMismatchError: { title: 'Cannot resume this training', hint: 'Start a new training; photos are kept.' },
  MissingPhotoError: { title: 'A photo is missing', hint: 'Delete the photo and capture it again.' },
  ClassifierFormatError: {
    title: 'Not a convlens classifier',
    hint: 'Choose a .classifier file exported by convlens.',
  },
  ClassifierMismatchError: {
    title: 'This classifier belongs to another model',
    hint: 'Load the base model it was trained on, or train it again on this one.',
  },
  ClassifierNotFoundError: { title: 'Classifier not stored', hint: 'It was deleted, maybe in another tab.' },
  NoCameraError: { title: 'No camera picture', hint: 'Allow the camera, or retry it.' },
  // vision and insight
  ImageShapeError: { title: 'Cannot read this image' },
  UnknownLayerError: { title: 'No such layer in this model' },
});

/** The text to show for an error, by name; unknown names still show their message. */
export function describeError(err: AppError): ErrorText {
  const known = TABLE[err.name];
  // A fetch that fails for network reasons rejects with a bare TypeError ("Failed to fetch").
  if (err.name === 'TypeError' && /fetch|network|load failed/i.test(err.message)) {
    return { title: 'Network problem', message: err.message, hint: TABLE.NetworkError!.hint! };
  }
  if (known) {
    return {
      title: known.title,
      message: err.message,
      ...(known.hint ? { hint: known.hint } : {}),
      ...(known.reload ? { reload: true } : {}),
    };
  }
  return { title: err.name === 'Error' ? 'Something went wrong' : err.name, message: err.message };
}
