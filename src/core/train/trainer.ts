/**
 * Training a custom classifier end to end, platform-free: the engine (PWA worker, vitest, CLI) hands
 * in a runtime, the loaded base bundle and a feature cache.
 *
 *   1. split the photos (stratified, by photo) into training and validation
 *   2. features: K variants of each training photo, the plain photo for validation (the book: never
 *      augment validation data), from the cache or through the frozen base
 *   3. head: the generated step graph, early stopping on the validation loss, best weights kept
 *      (from a random start, or from a classifier trained before: TrainRequest.from)
 *   4. optional fine-tuning of block5_conv1..3 + head from cached block4_pool features, RMSprop 1e-5;
 *      kept only if it beats the head-only model on validation
 *   5. the classifier file and a validation report (confusion matrix, misclassified photos)
 *
 * What a run is asked and gives back, and the checked settings, are in request.ts.
 */
import { readWeights, weightRefs } from '../bundle/load';
import type { BundleManifest } from '../bundle/manifest';
import type { GraphBuilder } from '../onnx/builder';
import type { Graph } from '../onnx/ir';
import { openPieces, splitByWeights } from '../onnx/split';
import { winogradRewrite } from '../onnx/winograd';
import { headStart } from './classifier';
import { TrainingCancelledError, TrainStateMismatchError } from './errors';
import type { CancelSignal, FeatureCache, FeatureLayer, PhotoFeatures } from './features';
import { buildFeatureGraph, extractFeatures, featureShape } from './features';
import type { FitState, Params, Sample } from './fit';
import { arraysOf, evaluate, fit, initialFitState } from './fit';
import type { ModelSpec } from './graphs';
import { buildEval, buildTrainStep, lastBlockTrunk, trunkParams } from './graphs';
import type { HeadSpec } from './heads';
import { featureStats, headSpec, initHead } from './heads';
import { packageClassifier, report } from './outcome';
import { initSlots, optimizer } from './optim';
import { Rng, seedOf } from './rng';
import type { GraphRuntime, GraphSession, SessionOptions } from '../runtime';
import { chainSession, discard } from '../runtime';
import type { Split } from './split';
import { stratifiedSplit } from './split';
import type { Settings, TrainPhase, TrainPhoto, TrainProgress, TrainRequest, TrainResult, TrainState } from './request';
import { fingerprint, settings } from './request';

/** The loaded base: its manifest, its base-part shard bytes and its hash (baseModelHash). */
export interface BaseContext {
  manifest: BundleManifest;
  files: ReadonlyMap<string, Uint8Array>;
  hash: string;
  /** Winograd-rewrite the feature graph (faster on WASM), as a chain of sessions (featureSession). */
  winograd?: boolean;
  /** With `winograd`: kernel elements per session of that chain (default FEATURE_PIECE_WEIGHTS). */
  pieceWeights?: number;
}

export interface RunOptions {
  signal?: CancelSignal;
  onProgress?: (p: TrainProgress) => void;
  /**
   * After every epoch but the run's last (its result carries that state): the state to keep for
   * resuming after a reload (awaited; e.g. into IndexedDB). Clone it to keep it: the arrays are given
   * back once training has replaced them (fit's onEpoch).
   */
  onCheckpoint?: (state: TrainState) => void | Promise<void>;
  /** Asks the JS engine for a collection while training steps (FitOptions.collect). */
  collect?: () => void;
}

/**
 * Kernel elements per session of the Winograd feature graph (splitByWeights): VGG16's blocks 1–4 (7.6 M)
 * in one session, block5 (7.1 M) in another, so a batch crosses once, where it is small (block4_pool).
 * Two sessions hold less heap than one; the live view's seven (PIECE_WEIGHTS) hold less still but
 * extract more slowly in Chromium, so two.
 */
const FEATURE_PIECE_WEIGHTS = 7_700_000;

/** The session cache's key prefix of the conv base's feature sessions. */
const FEATURES_KEY = 'features|';

/** Sessions of generated graphs, built once per key: a session costs seconds and memory to create. */
export class SessionCache {
  private readonly sessions = new Map<string, Promise<GraphSession>>();
  constructor(private readonly runtime: GraphRuntime) {}

  get(key: string, build: () => Graph, o?: SessionOptions): Promise<GraphSession> {
    return this.open(key, (runtime) => runtime.create(build(), o));
  }

  /** The session under `key`, opened by `open` (e.g. a chain of sessions) if there is none yet. */
  open(key: string, open: (runtime: GraphRuntime) => Promise<GraphSession>): Promise<GraphSession> {
    let s = this.sessions.get(key);
    if (!s) {
      s = open(this.runtime);
      s.catch(() => this.sessions.delete(key));
      this.sessions.set(key, s);
    }
    return s;
  }

  /** Releases the sessions whose key `which` accepts (default: all); they are rebuilt on next use. */
  async release(which: (key: string) => boolean = () => true): Promise<void> {
    const gone = [...this.sessions].filter(([key]) => which(key));
    for (const [key] of gone) this.sessions.delete(key);
    for (const [, s] of gone) await (await s.catch(() => undefined))?.release();
  }
}

export class Trainer {
  readonly sessions: SessionCache;

  constructor(
    runtime: GraphRuntime,
    readonly cache: FeatureCache,
  ) {
    this.sessions = new SessionCache(runtime);
  }

  private featureSession(base: BaseContext, inputSize: number): Promise<GraphSession> {
    const { manifest, files } = base;
    const key = `${FEATURES_KEY}${base.hash}|${inputSize}|${base.winograd ? 'w' : 'd'}`;
    const graph = () =>
      buildFeatureGraph(manifest.architecture, inputSize, (b: GraphBuilder) => weightRefs(b, manifest, ['base']));
    const o: SessionOptions = { externalData: files, foldInt8: manifest.quantization === 'int8', device: 'preferred' };
    if (!base.winograd) return this.sessions.get(key, graph, o);
    // The Winograd base as two sessions (FEATURE_PIECE_WEIGHTS): one session for the whole base would
    // hold its folded kernels about three times over while it is built.
    return this.sessions.open(key, async (runtime) => {
      const pieces = splitByWeights(graph(), base.pieceWeights ?? FEATURE_PIECE_WEIGHTS);
      const sessions = await openPieces(pieces, (p) => runtime.create(winogradRewrite(p), o));
      return chainSession(pieces.map((graph, i) => ({ graph, session: sessions[i]! })));
    });
  }

  /** Features of every photo (K variants each, or 1 for `single`), cached. */
  async features(
    base: BaseContext,
    photos: readonly TrainPhoto[],
    single: ReadonlySet<number>,
    s: Pick<Settings, 'variants' | 'seed' | 'inputSize' | 'augment'>,
    layers: readonly FeatureLayer[],
    o: RunOptions,
  ): Promise<PhotoFeatures> {
    return extractFeatures(
      () => this.featureSession(base, s.inputSize),
      photos.map((p, i) => ({ id: p.id, image: p.image, variants: single.has(i) ? 1 : undefined })),
      this.cache,
      {
        ...s,
        layers,
        preprocessing: base.manifest.preprocessing,
        modelSha: base.hash,
        signal: o.signal,
        onProgress: (done, total) => o.onProgress?.({ phase: 'extract', done, total }),
      },
    );
  }

  /** Extract (and cache) features ahead of training, e.g. while the user is still taking photos. */
  async extract(base: BaseContext, req: TrainRequest, o: RunOptions = {}): Promise<number> {
    const s = settings({ ...req, resume: undefined }, base.manifest.architecture);
    const layers: FeatureLayer[] = s.fineTune ? ['block5_pool', 'block4_pool'] : ['block5_pool'];
    const f = await this.features(base, req.photos, new Set(), s, layers, o);
    return f.reduce((n, v) => n + v.length, 0);
  }

  async train(base: BaseContext, req: TrainRequest, o: RunOptions = {}): Promise<TrainResult> {
    const run = await plan(base, req, o);
    const { ms } = run;
    // 2. features
    const t0 = performance.now();
    const layers: FeatureLayer[] = run.s.fineTune ? ['block5_pool', 'block4_pool'] : ['block5_pool'];
    let feats: PhotoFeatures;
    try {
      feats = await this.features(base, req.photos, new Set(run.split.val), run.s, layers, o);
    } catch (e) {
      if (e instanceof TrainingCancelledError) return { status: 'cancelled', state: req.resume, history: [], ms };
      throw e;
    }
    ms.extract = performance.now() - t0;
    const samples = (layer: FeatureLayer, photos: number[]): Sample[] =>
      photos.flatMap((p) => feats[p]!.map((v) => ({ photo: p, label: run.labels[p]!, features: v[layer]! })));

    // 3. head
    const head = await this.fitHead(run, samples);
    let state: TrainState = { version: 1, key: run.key, split: run.split, head: head.fit.state };
    let history = head.fit.state.history;
    if (head.fit.cancelled) return { status: 'cancelled', state, history, ms };
    let kept: Kept = { model: head.model, eval: head.eval, params: head.fit.state.best!.params, fineTuned: false };
    // A finished head phase resumes from its best weights alone: fine-tuning's checkpoints do not
    // carry its last parameters and optimizer slots too.
    state = { ...state, head: { ...head.fit.state, params: kept.params, slots: {} } };

    // 4. fine-tuning
    if (run.s.fineTune) {
      // It starts from the head's best: the head phase's last parameters and slots go now, unless a
      // resumed state or the classifier continued from (the caller's) still holds them.
      const keep = new Set([...Object.values(kept.params), ...callers(req, run.from)]);
      const last = head.fit.state;
      for (const a of [...Object.values(last.params), ...Object.values(last.slots)]) if (!keep.has(a)) discard(a);
      const ft = await this.fineTune(run, samples, head.constants, kept.params, state);
      state = { ...state, finetune: ft.fit.state };
      history = [...history, ...ft.fit.state.history];
      if (ft.fit.cancelled) return { status: 'cancelled', state, history, ms };
      // Its epoch-0 point is the head-only model measured by the same graph: any later best beat it.
      const best = ft.fit.state.best!;
      if (best.epoch > 0) kept = { model: ft.model, eval: ft.eval, params: best.params, fineTuned: true };
    }

    // 5. the file and the report
    const layer = kept.fineTuned ? 'block4_pool' : 'block5_pool';
    const reportOn = run.split.val.length ? run.split.val : run.split.train;
    const reportSamples = reportOn.map((p) => ({ photo: p, label: run.labels[p]!, features: feats[p]![0]![layer]! }));
    const weights = { ...head.constants, ...kept.params };
    const e = await evaluate(kept.eval, kept.model, weights, reportSamples, run.s.batchSize);
    const validation = report(e.logits, reportSamples, req, run.split.val.length ? 'validation' : 'training', e.loss);
    const classifier = packageClassifier(
      base,
      req,
      run.s,
      run.spec,
      { fineTuned: kept.fineTuned, validation, history, trainedOn: run.split.train.length },
      weights,
    );
    return {
      status: 'done',
      state,
      history,
      classifier,
      chosen: kept.fineTuned ? 'fine-tuned' : 'head',
      validation,
      ms,
    };
  }

  /** Step 3: the head on the block5_pool features, from a random start or the classifier continued from. */
  private async fitHead(run: Run, samples: Samples) {
    const { s, req, o, from, spec } = run;
    const t0 = performance.now();
    const train5 = samples('block5_pool', run.split.train);
    // Deterministic in the features (or the classifier continued from), so a resumed run recomputes the same constants.
    const constants =
      from?.constants ??
      featureStats(
        spec,
        train5.map((x) => x.features),
      );
    const data = { train: train5, val: samples('block5_pool', run.split.val), constants };
    const model: ModelSpec = { head: spec };
    const opt = optimizer(s.optimizer);
    const sessions = {
      step: await this.sessions.get(`head-step|${run.headKey}|${s.optimizer}`, () => buildTrainStep(model, opt).graph),
      eval: await this.sessions.get(`head-eval|${run.headKey}`, () => buildEval(model)),
    };
    const initial = (): FitState => {
      const params = from?.params ?? initHead(spec, new Rng(seedOf(s.seed, 0x4ead)));
      return initialFitState(params, initSlots(opt, params), seedOf(s.seed, 0x7a1));
    };
    const start = req.resume?.head ?? initial();
    // What this run made (a random start, zero slots) fit may give back; a resumed state or the
    // classifier continued from is the caller's.
    const owned = req.resume ? [] : [...Object.values(start.slots), ...(from ? [] : Object.values(start.params))];
    const fitted = await fit(sessions, model, opt, data, start, {
      owned,
      phase: 'head',
      epochs: s.epochs,
      batchSize: s.batchSize,
      patience: s.from?.patience ?? s.patience,
      start: from ? 'baseline' : 'candidate',
      lr: s.lr,
      signal: o.signal,
      collect: o.collect,
      onStep: run.onStep('train'),
      onEpoch: async (metrics, head) => {
        o.onProgress?.({ phase: 'train', ...run.at, metrics });
        // The run's last epoch needs none: the result follows at once, with its state (a checkpoint of
        // the head is 77 MB, cloned once more to be kept). A finished head phase before fine-tuning keeps one.
        if (!head.finished || s.fineTune) await o.onCheckpoint?.({ version: 1, key: run.key, split: run.split, head });
      },
    });
    run.ms.head = performance.now() - t0;
    return { fit: fitted, model, eval: sessions.eval, constants };
  }

  /** Step 4: block5_conv1..3 and the head from the block4_pool features, starting at the base's weights and the best head. */
  private async fineTune(run: Run, samples: Samples, constants: Params, head: Params, state: TrainState) {
    const { base, req, o, s } = run;
    const fineTune = s.fineTune!;
    const t0 = performance.now();
    const trunk = lastBlockTrunk(base.manifest.architecture, s.inputSize);
    const model: ModelSpec = { head: run.spec, trunk };
    const opt = optimizer('rmsprop');
    const key = `${run.headKey}|${base.hash}`;
    // The features are all in hand: the conv base's session goes before the fine-tuning graphs are
    // built, so they reuse its memory (onnxruntime's WASM heap only grows). A later call with new
    // photos builds the base session again.
    await this.sessions.release((k) => k.startsWith(FEATURES_KEY));
    const sessions = {
      // Plain convolutions, never Winograd: forward + backward of a batch through Winograd's transformed
      // tiles and kernels needs about three times the heap (one tab's memory on a phone).
      step: await this.sessions.get(`ft-step|${key}`, () => buildTrainStep(model, opt).graph),
      eval: await this.sessions.get(`ft-eval|${key}`, () => buildEval(model)),
    };
    let start = req.resume?.finetune;
    // The block5 weights and zero slots made here fit may give back; the head's are the head-only model's.
    const owned: Float32Array[] = [];
    if (!start) {
      const named = trunkParams(trunk).map(
        (p) => [p.name, ...p.name.split('/')] as [string, string, 'kernel' | 'bias'],
      );
      // block5's weights only: the whole base in float32 would be 59 MB more for a moment.
      const conv = readWeights(base.manifest, base.files, ['base'], new Set(named.map(([, layer]) => layer)));
      const params: Params = { ...head };
      for (const [name, layer, which] of named) owned.push((params[name] = conv.get(layer)![which]));
      start = initialFitState(params, initSlots(opt, params), seedOf(s.seed, 0xf1e));
      owned.push(...Object.values(start.slots));
    }
    const data = {
      train: samples('block4_pool', run.split.train),
      val: samples('block4_pool', run.split.val),
      constants,
    };
    const fitted = await fit(sessions, model, opt, data, start, {
      owned,
      phase: 'finetune',
      epochs: fineTune.epochs,
      batchSize: s.batchSize,
      patience: fineTune.patience,
      lr: fineTune.lr,
      signal: o.signal,
      collect: o.collect,
      onStep: run.onStep('finetune'),
      onEpoch: async (metrics, finetune) => {
        o.onProgress?.({ phase: 'finetune', ...run.at, metrics });
        if (!finetune.finished) await o.onCheckpoint?.({ ...state, finetune });
      },
    });
    run.ms.finetune = performance.now() - t0;
    return { fit: fitted, model, eval: sessions.eval };
  }

  async dispose(): Promise<void> {
    await this.sessions.release();
  }
}

/** What every step of one training run shares. */
interface Run {
  base: BaseContext;
  req: TrainRequest;
  o: RunOptions;
  s: Settings;
  key: string;
  labels: number[];
  split: Split;
  spec: HeadSpec;
  /** The classifier continued from (TrainRequest.from), checked against this run. */
  from: ReturnType<typeof headStart> | undefined;
  /** The sessions' key part that the head's shape decides. */
  headKey: string;
  ms: TrainResult['ms'];
  /** The current phase's last step, for the epoch's progress report. */
  at: { done: number; total: number };
  onStep(phase: TrainPhase): (done: number, total: number) => void;
}

/** The samples of `photos` for one feature layer (every variant of each photo). */
type Samples = (layer: FeatureLayer, photos: number[]) => Sample[];

/** The model a run keeps: the head alone, or fine-tuned block5 and head. */
interface Kept {
  model: ModelSpec;
  eval: GraphSession;
  params: Params;
  fineTuned: boolean;
}

/** The arrays a run was handed rather than made: a resumed state's and the classifier continued from's. */
function callers(req: TrainRequest, from: Run['from']): Float32Array[] {
  const r = req.resume;
  return [
    ...(r ? arraysOf(r.head) : []),
    ...(r?.finetune ? arraysOf(r.finetune) : []),
    ...Object.values(from?.params ?? {}),
  ];
}

/** Step 1: the checked settings, the resume check, the split and the head; before any feature is extracted. */
async function plan(base: BaseContext, req: TrainRequest, o: RunOptions): Promise<Run> {
  const cfg = base.manifest.architecture;
  const s = settings(req, cfg);
  const n = req.classes.length;
  const key = await fingerprint(base.hash, req, s);
  if (req.resume && (req.resume.version !== 1 || req.resume.key !== key))
    throw new TrainStateMismatchError(
      'the saved training state belongs to other photos, classes or settings: start a new training instead',
    );
  const labels = req.photos.map((p) => p.label);
  const split =
    req.resume?.split ??
    stratifiedSplit(
      labels,
      req.photos.map((p) => p.id),
      n,
      s.valFraction,
      s.seed,
    );
  const spec = headSpec(s.head, n, featureShape(cfg, 'block5_pool', s.inputSize));
  // Checked before the features are extracted, so a classifier that does not fit fails at once.
  const from =
    req.from &&
    headStart(req.from.classifier, { hash: base.hash, cfg }, { spec, classes: req.classes, inputSize: s.inputSize });
  const at = { done: 0, total: 0 };
  const onStep = (phase: TrainPhase) => (done: number, total: number) => {
    Object.assign(at, { done, total });
    o.onProgress?.({ phase, done, total });
  };
  const ms = { extract: 0, head: 0, finetune: 0 };
  return { base, req, o, s, key, labels, split, spec, from, headKey: `${s.head}|${n}|${s.inputSize}`, ms, at, onStep };
}
