/**
 * Stratified validation split by PHOTO: every variant of a photo lands on the same side, so the
 * validation loss never scores an augmented copy of a training photo. Each class with at least two
 * photos holds out round(fraction · count) of them, at least one and never all (fraction 0: none).
 *
 * Which ones: the class's photos ranked by a seeded hash of their ids, the first ones held out. A
 * photo's rank does not depend on the others, so adding a photo moves at most one other photo of its
 * class across the split (a shuffle by index reshuffled the whole class, and every photo that changed
 * side had its features re-extracted: a training photo has K variants, a validation photo one).
 */
import { hashString, seedOf } from './rng';

export interface Split {
  /** Photo indices, ascending. */
  train: number[];
  val: number[];
}

export function stratifiedSplit(
  labels: readonly number[],
  ids: readonly string[],
  classes: number,
  fraction: number,
  seed: number,
): Split {
  if (ids.length !== labels.length) throw new Error(`split: ${labels.length} labels but ${ids.length} ids`);
  const rank = ids.map((id) => seedOf(seed, 0x5911, hashString(id)));
  const train: number[] = [];
  const val: number[] = [];
  for (let c = 0; c < classes; c++) {
    const members = labels.flatMap((l, i) => (l === c ? [i] : []));
    members.sort((a, b) => rank[a]! - rank[b]! || (ids[a]! < ids[b]! ? -1 : ids[a]! > ids[b]! ? 1 : a - b));
    const held =
      fraction > 0 && members.length >= 2
        ? Math.min(Math.max(Math.round(members.length * fraction), 1), members.length - 1)
        : 0;
    val.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  return { train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}
