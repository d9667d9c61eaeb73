/**
 * Stratified validation split by PHOTO: every variant of a photo lands on the same side, so the
 * validation loss never scores an augmented copy of a training photo. Each class with at least two
 * photos holds out round(fraction · count) of them, at least one and never all (fraction 0: none).
 */
import { Rng, seedOf } from './rng';

export interface Split {
  /** Photo indices, ascending. */
  train: number[];
  val: number[];
}

export function stratifiedSplit(labels: readonly number[], classes: number, fraction: number, seed: number): Split {
  const train: number[] = [];
  const val: number[] = [];
  for (let c = 0; c < classes; c++) {
    const members = labels.flatMap((l, i) => (l === c ? [i] : []));
    new Rng(seedOf(seed, 0x5911, c)).shuffle(members);
    const held =
      fraction > 0 && members.length >= 2
        ? Math.min(Math.max(Math.round(members.length * fraction), 1), members.length - 1)
        : 0;
    val.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}
