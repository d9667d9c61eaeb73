/**
 * When a training run's checkpoint is kept: the first epoch's, then at most every CHECKPOINT_EVERY_MS of
 * training and CHECKPOINT_COST_FACTOR times the last checkpoint's own time (Engine.train applies it to
 * the host's and the caller's checkpoint callbacks).
 */
import type { TrainState } from '../../src/core/train/request';

const now = () => performance.now();

/**
 * After the first epoch's, a training checkpoint is at least this much training apart from the last.
 * The trainer waits for each: the book's dense head's state (parameters, optimizer slots and best
 * parameters) is tens of MB to clone to the page and put into IndexedDB, so a checkpoint after every
 * epoch would double a head-only retrain. A reload loses at most this much training: the run
 * resumes from the last checkpoint and replays the rest.
 */
export const CHECKPOINT_EVERY_MS = 10_000;
/**
 * …and at least this many times the last checkpoint's own time apart, so that checkpoints take at most
 * ≈ 5 % of the training: fine-tuning's state (block5 and the head) takes over a second to store, and
 * its epochs are longer than CHECKPOINT_EVERY_MS, so the time alone would store after nearly every epoch.
 */
export const CHECKPOINT_COST_FACTOR = 20;

/**
 * `keep`, called for the first state (or, `first` false, once `every` ms have passed since this call),
 * then only once `every` ms (and CHECKPOINT_COST_FACTOR times the last call's own time) have passed
 * since the last call returned; `every` 0: for every state.
 */
export function paced(
  every: number,
  keep: (state: TrainState) => Promise<void>,
  first = true,
): (state: TrainState) => Promise<void> {
  let last = first ? -Infinity : now();
  let cost = 0;
  return async (state) => {
    if (every > 0 && now() - last < Math.max(every, CHECKPOINT_COST_FACTOR * cost)) return;
    const t = now();
    await keep(state);
    last = now();
    cost = last - t;
  };
}
