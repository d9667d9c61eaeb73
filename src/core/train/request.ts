/**
 * What a training run is asked (TrainRequest) and gives back (TrainResult, TrainState, the validation
 * report), and the request checked and completed with the defaults (the book's, where it has one):
 * settings() for the Trainer, fingerprint() for what a resumed run must share with the cancelled one.
 */
import { sha256Hex } from '../bundle/sha256';
import type { AugmentConfig } from '../vision/augment';
import type { RgbaImage } from '../vision/image';
import type { VggConfig } from '../vgg16/spec';
import { TrainingInputError } from './errors';
import type { EpochMetrics, FitState } from './fit';
import type { HeadKind } from './heads';
import type { OptimizerKind } from './optim';
import type { Split } from './split';

export interface TrainPhoto {
  /** Stable id (the photo's storage key): features are cached under it. */
  id: string;
  /** Class index into `classes`. */
  label: number;
  /** Pixels; may be left out when the photo's features are already cached. */
  image?: RgbaImage;
}

export interface FineTuneOptions {
  epochs?: number;
  /** Default 1e-5 (the book). */
  lr?: number;
  patience?: number;
}

export interface TrainRequest {
  classes: string[];
  photos: TrainPhoto[];
  /** Default 'dense' (the book's head). */
  head?: HeadKind;
  /** Default 'rmsprop' (the book). */
  optimizer?: OptimizerKind;
  /** Default: RMSprop 2e-5 for the dense head (the book), 1e-3 otherwise. */
  lr?: number;
  /** Maximum epochs of the head (default 30, the book). */
  epochs?: number;
  /** Default 20 (the book). */
  batchSize?: number;
  /** Early stopping: epochs without a better validation loss (default 5). */
  patience?: number;
  /** Feature variants per training photo: the photo plus K − 1 augmentations (default 4). */
  variants?: number;
  seed?: number;
  /** Fraction of each class's photos held out for validation (default 0.2; at least one when possible). */
  valFraction?: number;
  /** Network input size, a multiple of 32 (default: the model's, 224 for VGG16). */
  inputSize?: number;
  augment?: AugmentConfig;
  /** Fine-tune block5 after the head (default off). */
  fineTune?: boolean | FineTuneOptions;
  /**
   * Continue from a classifier trained before on the same classes (a retrain after adding photos):
   * the head starts at its weights and keeps its feature statistics instead of a random start, and
   * early stopping waits `patience` epochs (default 1, not 5: the start is already trained, the run
   * only has to take the new photos in; Keras's EarlyStopping also stops at the first epoch without
   * a gain by default). The start's validation loss is early stopping's baseline: an epoch improves
   * only by beating it, but the result is a trained epoch's weights, so the new photos are always
   * learned (FitOptions.start). Not for fine-tuned classifiers (headStart).
   */
  from?: { classifier: Uint8Array; patience?: number };
  /** Continue a cancelled run (same photos, classes and settings). */
  resume?: TrainState;
}

export type TrainPhase = 'extract' | 'train' | 'finetune';

export interface TrainProgress {
  phase: TrainPhase;
  done: number;
  total: number;
  /** Present once per epoch. */
  metrics?: EpochMetrics;
}

/** Everything needed to resume: plain data, structured-clonable, or encodeTrainState → bytes. */
export interface TrainState {
  version: 1;
  /** Fingerprint of the request (model, photos, classes, settings that change the data). */
  key: string;
  split: Split;
  head: FitState;
  finetune?: FitState;
}

export interface ValidationReport {
  /** 'validation' photos, or the training photos when no class had two photos to hold one out. */
  on: 'validation' | 'training';
  loss: number;
  accuracy: number;
  /** confusion[true][predicted], photo counts. */
  confusion: number[][];
  /** Accuracy per class (NaN for a class with no photo in the set). */
  perClass: number[];
  misclassified: { photoId: string; label: number; predicted: number; prob: number }[];
}

export interface TrainResult {
  status: 'done' | 'cancelled';
  /**
   * Pass back as `resume` to continue; absent if cancelled before the first epoch (features stay cached),
   * and from the engine worker when the run is done (nothing resumes a finished run).
   */
  state?: TrainState;
  history: EpochMetrics[];
  /** The classifier file (status 'done'). */
  classifier?: Uint8Array;
  chosen?: 'head' | 'fine-tuned';
  validation?: ValidationReport;
  ms: { extract: number; head: number; finetune: number };
}

/** The request's settings with the defaults filled in, after validation. */
export interface Settings {
  head: HeadKind;
  optimizer: OptimizerKind;
  lr: number;
  epochs: number;
  batchSize: number;
  patience: number;
  variants: number;
  seed: number;
  valFraction: number;
  inputSize: number;
  augment?: AugmentConfig;
  fineTune?: Required<FineTuneOptions>;
  /** Early stopping's patience when the head continues from `from`. */
  from?: { patience: number };
}

const bad = (msg: string): never => {
  throw new TrainingInputError(msg);
};

const intIn = (v: number, lo: number, hi: number, what: string) => {
  if (!Number.isInteger(v) || v < lo || v > hi) bad(`${what} must be an integer in ${lo}…${hi}, got ${v}`);
  return v;
};

export function settings(req: TrainRequest, cfg: VggConfig): Settings {
  const n = req.classes.length;
  if (n < 2) bad('a classifier needs at least two classes');
  if (req.classes.some((c) => typeof c !== 'string' || !c.trim())) bad('every class needs a name');
  if (new Set(req.classes).size !== n) bad('class names must differ');
  if (new Set(req.photos.map((p) => p.id)).size !== req.photos.length) bad('photo ids must be unique');
  for (const p of req.photos)
    if (!Number.isInteger(p.label) || p.label < 0 || p.label >= n)
      bad(`photo '${p.id}' has no valid class (${p.label})`);
  const missing = req.classes.filter((_, c) => !req.photos.some((p) => p.label === c));
  if (missing.length) bad(`add at least one photo to: ${missing.join(', ')}`);
  const head = req.head ?? 'dense';
  if (head !== 'dense' && head !== 'gap') bad(`head must be dense or gap, got ${head}`);
  const opt = req.optimizer ?? 'rmsprop';
  if (opt !== 'rmsprop' && opt !== 'adam') bad(`optimizer must be rmsprop or adam, got ${opt}`);
  const lr = req.lr ?? (opt === 'rmsprop' && head === 'dense' ? 2e-5 : 1e-3);
  if (!(lr > 0 && lr < 10)) bad(`the learning rate must be in (0, 10), got ${lr}`);
  const inputSize = req.inputSize ?? cfg.inputSize;
  const unit = 2 ** cfg.blocks.length;
  if (!Number.isInteger(inputSize) || inputSize < unit || inputSize > 1024 || inputSize % unit)
    bad(`the input size must be a multiple of ${unit} up to 1024, got ${inputSize}`);
  const valFraction = req.valFraction ?? 0.2;
  if (!(valFraction >= 0 && valFraction < 1)) bad(`valFraction must be in [0, 1), got ${valFraction}`);
  const ft = req.fineTune === true ? {} : req.fineTune || undefined;
  return {
    head,
    optimizer: opt,
    lr,
    epochs: intIn(req.epochs ?? 30, 1, 10_000, 'epochs'),
    batchSize: intIn(req.batchSize ?? 20, 1, 1024, 'batchSize'),
    patience: intIn(req.patience ?? 5, 1, 10_000, 'patience'),
    variants: intIn(req.variants ?? 4, 1, 64, 'variants'),
    seed: intIn(req.seed ?? 1, 0, 2 ** 32 - 1, 'seed'),
    valFraction,
    inputSize,
    augment: req.augment,
    fineTune: ft && {
      epochs: intIn(ft.epochs ?? 10, 1, 10_000, 'fine-tuning epochs'),
      lr: ft.lr ?? 1e-5,
      patience: intIn(ft.patience ?? 3, 1, 10_000, 'fine-tuning patience'),
    },
    from: req.from && { patience: intIn(req.from.patience ?? 1, 1, 10_000, 'patience of a continued run') },
  };
}

/** What must not change between a cancelled run and its resumption. */
export async function fingerprint(hash: string, req: TrainRequest, s: Settings): Promise<string> {
  const what = {
    hash,
    classes: req.classes,
    photos: req.photos.map((p) => [p.id, p.label]),
    head: s.head,
    optimizer: s.optimizer,
    variants: s.variants,
    seed: s.seed,
    valFraction: s.valFraction,
    inputSize: s.inputSize,
    batchSize: s.batchSize,
    augment: s.augment ?? null,
    from: req.from ? await sha256Hex(req.from.classifier) : null,
  };
  return sha256Hex(new TextEncoder().encode(JSON.stringify(what)));
}
