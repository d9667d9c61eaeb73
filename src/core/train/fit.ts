/**
 * The JS loop that drives the generated step graph: seeded shuffles and dropout masks, mini-batches,
 * per-epoch validation, early stopping on the monitored loss with patience, best parameters kept
 * (Keras's EarlyStopping(restore_best_weights=True)). Cancellable between steps; the state after
 * each completed epoch is plain data (numbers and Float32Arrays), so it can be stored (IndexedDB
 * structured clone, or encodeTrainState) and resumed bit-exactly.
 */
import type { HeadSpec } from './heads';
import { dropoutWidth } from './heads';
import type { CancelSignal } from './features';
import type { ModelSpec } from './graphs';
import { modelParams, modelTensors, nextName, TRAIN_IO } from './graphs';
import type { OptimizerSpec } from './optim';
import { slotNames } from './optim';
import { TrainingDivergedError } from './errors';
import { Rng } from './rng';
import type { Feed, GraphSession } from '../runtime';
import { discard, f32, floatOut } from '../runtime';

export type Params = Record<string, Float32Array>;

/** One training example: the input features of the graph (block5_pool or block4_pool) and its class. */
export interface Sample {
  /** Index of the photo it comes from (variants of one photo share it). */
  photo: number;
  label: number;
  features: Float32Array;
}

export interface EpochMetrics {
  phase: 'head' | 'finetune';
  /** 1-based. */
  epoch: number;
  /** Running mean over the epoch's steps (with dropout), as Keras reports it. */
  loss: number;
  acc: number;
  /** On the validation photos (no augmentation, no dropout); on the training set if there are none. */
  valLoss: number;
  valAcc: number;
}

export interface FitState {
  /** Completed epochs. */
  epoch: number;
  /** Optimizer steps taken (Adam's t). */
  step: number;
  /** PRNG state for the next epoch. */
  rng: number;
  params: Params;
  slots: Params;
  best: { params: Params; loss: number; acc: number; epoch: number } | null;
  /** The starting point's loss when it is a baseline, not a candidate (FitOptions.start). */
  baseline?: number;
  /** Epochs since the monitored loss last improved. */
  wait: number;
  history: EpochMetrics[];
  /** Early stopping fired, or every epoch ran. */
  finished: boolean;
}

export interface FitOptions {
  phase: 'head' | 'finetune';
  epochs: number;
  batchSize: number;
  patience: number;
  lr: number;
  /**
   * The starting point is a 'candidate' for the best weights (default: fine-tuning keeps the head-only
   * model unless an epoch beats it), or a 'baseline' (Keras's EarlyStopping(baseline=…)): epochs must
   * beat its loss to count as improving, but the weights returned are a trained epoch's (a run that
   * continues from a classifier always takes the new photos in).
   */
  start?: 'candidate' | 'baseline';
  signal?: CancelSignal;
  /** After every step: steps done and the total for all epochs. */
  onStep?: (done: number, total: number) => void;
  /**
   * After every epoch, with the state to save for resuming (awaited). Its arrays are fit's: copy (clone)
   * them to keep them, for fit gives them back once the next epoch has replaced them.
   */
  onEpoch?: (m: EpochMetrics, state: FitState) => void | Promise<void>;
  /**
   * Asks the JS engine for a collection (e.g. workers/engine/collect.ts collectShardGarbage), called
   * once the parameters and slots that steps replaced add up to COLLECT_BYTES: every step returns them
   * as fresh arrays, and the replaced ones would otherwise pile up until the engine's next full collection.
   */
  collect?: () => void;
  /**
   * Arrays of the start state that fit may give back once training has replaced them (the caller made
   * them for this run and reads them nowhere else); the rest of the start is the caller's.
   */
  owned?: Iterable<Float32Array>;
  /** How fit gives an array back (default: runtime.ts discard). */
  discard?: (a: Float32Array) => void;
}

/** Every array a state holds: parameters, slots and the best parameters. */
export function arraysOf(s: FitState): Float32Array[] {
  return [...Object.values(s.params), ...Object.values(s.slots), ...Object.values(s.best?.params ?? {})];
}

/** How many bytes of replaced parameters and slots fit lets pile up before it calls FitOptions.collect. */
export const COLLECT_BYTES = 96 * 2 ** 20;

export function initialFitState(params: Params, slots: Params, seed: number): FitState {
  return {
    epoch: 0,
    step: 0,
    rng: new Rng(seed).state,
    params,
    slots,
    best: null,
    wait: 0,
    history: [],
    finished: false,
  };
}

/** Concatenate sample features, one-hot labels. */
function batchFeeds(samples: readonly Sample[], classes: number, dims: readonly number[]): Record<string, Feed> {
  const per = samples[0]!.features.length;
  const x = new Float32Array(samples.length * per);
  const y = new Float32Array(samples.length * classes);
  samples.forEach((s, i) => {
    x.set(s.features, i * per);
    y[i * classes + s.label] = 1;
  });
  return {
    [TRAIN_IO.features]: f32(x, [samples.length, ...dims]),
    [TRAIN_IO.labels]: f32(y, [samples.length, classes]),
  };
}

/** Name → dims of every parameter and optimizer slot of a model. */
export function tensorDims(model: ModelSpec, opt: OptimizerSpec): Map<string, readonly number[]> {
  const dims = new Map<string, readonly number[]>(modelTensors(model).map((p) => [p.name, p.dims]));
  for (const p of modelParams(model)) {
    dims.set(p.name, p.dims);
    for (const s of slotNames(opt, p.name)) dims.set(s, p.dims);
  }
  return dims;
}

function tensorFeeds(p: Params, dims: ReadonlyMap<string, readonly number[]>): Record<string, Feed> {
  const out: Record<string, Feed> = {};
  for (const [name, data] of Object.entries(p)) {
    const d = dims.get(name);
    if (!d) throw new RangeError(`'${name}' is not a tensor of this model`);
    out[name] = f32(data, d);
  }
  return out;
}

/** Numerically stable softmax cross-entropy of one row of logits, in float64. */
export function crossEntropy(logits: ArrayLike<number>, offset: number, classes: number, label: number): number {
  let max = -Infinity;
  for (let c = 0; c < classes; c++) max = Math.max(max, logits[offset + c]!);
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += Math.exp(logits[offset + c]! - max);
  return -(logits[offset + label]! - max - Math.log(sum));
}

export function argmax(a: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (a[offset + c]! > a[offset + best]!) best = c;
  return best;
}

export interface Evaluation {
  loss: number;
  acc: number;
  /** Logits per sample, (samples, classes) row-major. */
  logits: Float32Array;
}

/** Logits, mean loss and accuracy of `samples` under `params` (eval graph: no dropout). */
export async function evaluate(
  session: GraphSession,
  model: ModelSpec,
  /** Parameters and constants. */
  params: Params,
  samples: readonly Sample[],
  batchSize: number,
): Promise<Evaluation> {
  const n = model.head.classes;
  const dims = inputDims(model);
  const tdims = new Map(modelTensors(model).map((p) => [p.name, p.dims]));
  const logits = new Float32Array(samples.length * n);
  let loss = 0;
  let hits = 0;
  for (let i = 0; i < samples.length; i += batchSize) {
    const chunk = samples.slice(i, i + batchSize);
    const feeds = batchFeeds(chunk, n, dims);
    delete feeds[TRAIN_IO.labels];
    const out = floatOut(await session.run({ ...feeds, ...tensorFeeds(params, tdims) }), TRAIN_IO.logits);
    logits.set(out, i * n);
    chunk.forEach((s, j) => {
      loss += crossEntropy(out, j * n, n, s.label);
      if (argmax(out, j * n, n) === s.label) hits++;
    });
  }
  const count = Math.max(samples.length, 1);
  return { loss: loss / count, acc: hits / count, logits };
}

export function inputDims(m: ModelSpec): readonly number[] {
  return m.trunk ? m.trunk.inputShape : m.head.featureShape;
}

/** A dropout mask (N, hidden): 0 with probability `rate`, else 1/(1 − rate) (inverted dropout). */
function dropoutMask(rng: Rng, n: number, head: HeadSpec): Float32Array | undefined {
  const width = dropoutWidth(head);
  if (width === undefined) return undefined;
  const keep = 1 - head.dropout;
  const m = new Float32Array(n * width);
  for (let i = 0; i < m.length; i++) m[i] = rng.float() < keep ? 1 / keep : 0;
  return m;
}

export interface FitOutcome {
  state: FitState;
  cancelled: boolean;
}

/**
 * Train from `state` until `epochs` epochs are done or early stopping fires. Returns the state of
 * the last completed epoch (on cancellation, the epoch in progress is dropped: resuming redoes it
 * from the same PRNG state, so the result is the same as an uninterrupted run).
 */
export async function fit(
  sessions: { step: GraphSession; eval: GraphSession },
  model: ModelSpec,
  opt: OptimizerSpec,
  data: { train: readonly Sample[]; val: readonly Sample[]; constants: Params },
  start: FitState,
  o: FitOptions,
): Promise<FitOutcome> {
  const { train } = data;
  const monitor = data.val.length ? data.val : train;
  const n = model.head.classes;
  const dims = inputDims(model);
  const tdims = tensorDims(model, opt);
  const perEpoch = Math.ceil(train.length / o.batchSize);
  const total = perEpoch * o.epochs;
  let state = start;
  const stepBytes = [...Object.values(start.params), ...Object.values(start.slots)].reduce(
    (a, p) => a + p.byteLength,
    0,
  );
  let dropped = 0;
  // Memory is given back as soon as nothing can read it again (discard), not at the collector's leisure:
  // a step's outputs when the next step replaces them, and a finished epoch's state when the next one
  // finishes (until then a cancelled run returns it). The caller's start arrays stay, unless `owned`.
  const give = o.discard ?? discard;
  const owned = new Set(o.owned);
  const callers = new Set(arraysOf(start).filter((a) => !owned.has(a)));
  const giveBack = (old: Float32Array[], now: FitState) => {
    const held = new Set([...arraysOf(now), ...callers]);
    for (const a of new Set(old)) if (!held.has(a)) give(a);
  };
  if (!state.best && state.baseline === undefined) {
    const e = await evaluate(sessions.eval, model, { ...data.constants, ...state.params }, monitor, o.batchSize);
    state =
      o.start === 'baseline'
        ? { ...state, baseline: e.loss }
        : { ...state, best: { params: state.params, loss: e.loss, acc: e.acc, epoch: state.epoch } };
  }
  o.onStep?.(Math.min(state.epoch * perEpoch, total), total);
  while (!state.finished && state.epoch < o.epochs) {
    const rng = Rng.resume(state.rng);
    const order = rng.shuffle([...train.keys()]);
    let params = state.params;
    let slots = state.slots;
    let step = state.step;
    let lossSum = 0;
    let accSum = 0;
    for (let i = 0; i < order.length; i += o.batchSize) {
      if (o.signal?.aborted) return { state, cancelled: true };
      const batch = order.slice(i, i + o.batchSize).map((k) => train[k]!);
      const feeds: Record<string, Feed> = {
        ...batchFeeds(batch, n, dims),
        ...tensorFeeds(data.constants, tdims),
        ...tensorFeeds(params, tdims),
        ...tensorFeeds(slots, tdims),
      };
      const mask = dropoutMask(rng, batch.length, model.head);
      if (mask) feeds[TRAIN_IO.mask] = f32(mask, [batch.length, dropoutWidth(model.head)!]);
      feeds[TRAIN_IO.lr] = f32(Float32Array.of(o.lr), []);
      step++;
      if (opt.kind === 'adam') feeds[TRAIN_IO.step] = f32(Float32Array.of(step), []);
      const out = await sessions.step.run(feeds);
      // The previous step's outputs were read by this step only (the epoch's start is in `state`).
      const replaced = i > 0 ? [...Object.values(params), ...Object.values(slots)] : [];
      params = Object.fromEntries(Object.keys(params).map((k) => [k, floatOut(out, nextName(k))]));
      slots = Object.fromEntries(Object.keys(slots).map((k) => [k, floatOut(out, nextName(k))]));
      replaced.forEach(give);
      lossSum += floatOut(out, TRAIN_IO.loss)[0]! * batch.length;
      accSum += floatOut(out, TRAIN_IO.accuracy)[0]! * batch.length;
      dropped += stepBytes;
      if (o.collect && dropped >= COLLECT_BYTES) {
        dropped = 0;
        o.collect();
      }
      o.onStep?.(state.epoch * perEpoch + i / o.batchSize + 1, total);
    }
    if (!Number.isFinite(lossSum))
      throw new TrainingDivergedError(
        `training diverged in epoch ${state.epoch + 1} (the loss is not finite): lower the learning rate`,
      );
    const e = await evaluate(sessions.eval, model, { ...data.constants, ...params }, monitor, o.batchSize);
    const epoch = state.epoch + 1;
    const m: EpochMetrics = {
      phase: o.phase,
      epoch,
      loss: lossSum / train.length,
      acc: accSum / train.length,
      valLoss: e.loss,
      valAcc: e.acc,
    };
    const improved = e.loss < Math.min(state.best?.loss ?? Infinity, state.baseline ?? Infinity);
    const best = !state.best || e.loss < state.best.loss ? { params, loss: e.loss, acc: e.acc, epoch } : state.best;
    const wait = improved ? 0 : state.wait + 1;
    const previous = state;
    state = {
      epoch,
      step,
      rng: rng.state,
      params,
      slots,
      best,
      ...(state.baseline === undefined ? {} : { baseline: state.baseline }),
      wait,
      history: [...state.history, m],
      finished: wait >= o.patience || epoch >= o.epochs,
    };
    giveBack(arraysOf(previous), state);
    await o.onEpoch?.(m, state);
  }
  o.onStep?.(total, total);
  return { state, cancelled: false };
}
