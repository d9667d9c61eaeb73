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
