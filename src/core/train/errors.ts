/**
 * Named errors of training and classifier files. Comlink keeps an error's `name` and message across
 * the worker boundary, not its class: callers check `err.name`. Messages say what to do.
 */

/** A classifier file is not a well-formed convlens classifier (truncated, damaged, hostile). */
export class ClassifierFormatError extends Error {
  override name = 'ClassifierFormatError';
}

/** A well-formed classifier that was trained on another base model than the one loaded. */
export class ClassifierMismatchError extends Error {
  override name = 'ClassifierMismatchError';
}

/** Training was cancelled (AbortSignal); the last completed epoch's state is kept for resuming. */
export class TrainingCancelledError extends Error {
  override name = 'TrainingCancelledError';
}

/** The training request cannot be trained (too few classes or photos, bad settings). */
export class TrainingInputError extends Error {
  override name = 'TrainingInputError';
}

/** A saved training state does not belong to this request (other photos, classes or settings). */
export class TrainStateMismatchError extends Error {
  override name = 'TrainStateMismatchError';
}

/** A training or extraction is already running in this engine. */
export class TrainingBusyError extends Error {
  override name = 'TrainingBusyError';
}

/** The loss became NaN or infinite: the learning rate is too high for these features. */
export class TrainingDivergedError extends Error {
  override name = 'TrainingDivergedError';
}
