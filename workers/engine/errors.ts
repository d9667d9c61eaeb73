/**
 * Named errors of the engine. Comlink keeps an error's `name` and message across the worker
 * boundary, not its class: code checks `err.name`. Messages say what to do.
 */
export class EngineStateError extends Error {
  override name = 'EngineStateError';
}

export class ModelNotFoundError extends Error {
  override name = 'ModelNotFoundError';
}

/** The live view and the Inside screen wait while a training runs: its sessions use their memory. */
export class TrainingRunningError extends Error {
  override name = 'TrainingRunningError';
}

/** A frame the host cannot turn into pixels (Node has no ImageBitmap): pass RGBA pixels instead. */
export class UnsupportedFrameError extends Error {
  override name = 'UnsupportedFrameError';
}
