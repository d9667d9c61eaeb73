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
import type { Classifier, ClassifierManifest } from './classifier';
import { CLASSIFIER_FORMAT, CLASSIFIER_VERSION, encodeClassifier, headStart } from './classifier';
import { TrainingCancelledError, TrainStateMismatchError } from './errors';
import type { CancelSignal, FeatureCache, FeatureLayer, PhotoFeatures } from './features';
import { buildFeatureGraph, extractFeatures, featureShape } from './features';
import type { FitState, Params, Sample } from './fit';
import { argmax, evaluate, fit, initialFitState } from './fit';
import type { ModelSpec } from './graphs';
import { buildEval, buildTrainStep, lastBlockTrunk, trunkParams } from './graphs';
import { featureStats, headSpec, initHead } from './heads';
import { initSlots, optimizer } from './optim';
import { Rng, seedOf } from './rng';
import type { GraphRuntime, GraphSession, SessionOptions } from './runtime';
import { chainSession } from './runtime';
import { stratifiedSplit } from './split';
import type {
  Settings,
  TrainPhase,
  TrainPhoto,
  TrainProgress,
  TrainRequest,
  TrainResult,
  TrainState,
  ValidationReport,
} from './request';
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
  /** After every epoch: the state to keep for resuming after a reload (awaited; e.g. into IndexedDB). */
  onCheckpoint?: (state: TrainState) => void | Promise<void>;
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
    const ms = { extract: 0, head: 0, finetune: 0 };
    const spec = headSpec(s.head, n, featureShape(cfg, 'block5_pool', s.inputSize));
    // Checked before the features are extracted, so a classifier that does not fit fails at once.
    const from =
      req.from &&
      headStart(req.from.classifier, { hash: base.hash, cfg }, { spec, classes: req.classes, inputSize: s.inputSize });

    // 2. features
    let t0 = performance.now();
    const layers: FeatureLayer[] = s.fineTune ? ['block5_pool', 'block4_pool'] : ['block5_pool'];
    let feats: PhotoFeatures;
    try {
      feats = await this.features(base, req.photos, new Set(split.val), s, layers, o);
    } catch (e) {
      if (e instanceof TrainingCancelledError) return { status: 'cancelled', state: req.resume, history: [], ms };
      throw e;
    }
    ms.extract = performance.now() - t0;
    const samples = (layer: FeatureLayer, photos: number[]): Sample[] =>
      photos.flatMap((p) => feats[p]!.map((v) => ({ photo: p, label: labels[p]!, features: v[layer]! })));
    const train5 = samples('block5_pool', split.train);
    // Deterministic in the features (or the classifier continued from), so a resumed run recomputes the same constants.
    const constants =
      from?.constants ??
      featureStats(
        spec,
        train5.map((x) => x.features),
      );
    const data = { train: train5, val: samples('block5_pool', split.val), constants };

    // 3. head
    t0 = performance.now();
    const headModel: ModelSpec = { head: spec };
    const opt = optimizer(s.optimizer);
    const headKey = `${s.head}|${n}|${s.inputSize}`;
    const sessions = {
      step: await this.sessions.get(`head-step|${headKey}|${s.optimizer}`, () => buildTrainStep(headModel, opt).graph),
      eval: await this.sessions.get(`head-eval|${headKey}`, () => buildEval(headModel)),
    };
    const initial = (): FitState => {
      const params = from?.params ?? initHead(spec, new Rng(seedOf(s.seed, 0x4ead)));
      return initialFitState(params, initSlots(opt, params), seedOf(s.seed, 0x7a1));
    };
    const at = { done: 0, total: 0 };
    const onStep = (phase: TrainPhase) => (done: number, total: number) => {
      Object.assign(at, { done, total });
      o.onProgress?.({ phase, done, total });
    };
    const headFit = await fit(sessions, headModel, opt, data, req.resume?.head ?? initial(), {
      phase: 'head',
      epochs: s.epochs,
      batchSize: s.batchSize,
      patience: s.from?.patience ?? s.patience,
      start: from ? 'baseline' : 'candidate',
      lr: s.lr,
      signal: o.signal,
      onStep: onStep('train'),
      onEpoch: async (metrics, head) => {
        o.onProgress?.({ phase: 'train', ...at, metrics });
        await o.onCheckpoint?.({ version: 1, key, split, head });
      },
    });
    ms.head = performance.now() - t0;
    let state: TrainState = { version: 1, key, split, head: headFit.state };
    if (headFit.cancelled) return { status: 'cancelled', state, history: headFit.state.history, ms };
    const headBest = headFit.state.best!;

    // 4. fine-tuning
    let chosen: 'head' | 'fine-tuned' = 'head';
    let best: Params = headBest.params;
    let ftModel: ModelSpec | undefined;
    let ftEval: GraphSession | undefined;
    let history = headFit.state.history;
    if (s.fineTune) {
      t0 = performance.now();
      const trunk = lastBlockTrunk(cfg, s.inputSize);
      ftModel = { head: spec, trunk };
      const ftOpt = optimizer('rmsprop');
      const ftKey = `${headKey}|${base.hash}|${base.winograd ? 'w' : 'd'}`;
      const winograd = base.winograd;
      // The features are all in hand: the conv base's session goes before the fine-tuning graphs are
      // built, so they reuse its memory (onnxruntime's WASM heap only grows). A later call with new
      // photos builds the base session again.
      await this.sessions.release((k) => k.startsWith(FEATURES_KEY));
      const ftSessions = {
        step: await this.sessions.get(`ft-step|${ftKey}`, () => buildTrainStep(ftModel!, ftOpt, { winograd }).graph),
        eval: await this.sessions.get(`ft-eval|${ftKey}`, () => buildEval(ftModel!, { winograd })),
      };
      ftEval = ftSessions.eval;
      let start = req.resume?.finetune;
      if (!start) {
        const conv = readWeights(base.manifest, base.files, ['base']);
        const params: Params = { ...headBest.params };
        for (const p of trunkParams(trunk)) {
          const [layer, which] = p.name.split('/') as [string, 'kernel' | 'bias'];
          params[p.name] = conv.get(layer)![which];
        }
        start = initialFitState(params, initSlots(ftOpt, params), seedOf(s.seed, 0xf1e));
      }
      const ftData = {
        train: samples('block4_pool', split.train),
        val: samples('block4_pool', split.val),
        constants,
      };
      const ftFit = await fit(ftSessions, ftModel, ftOpt, ftData, start, {
        phase: 'finetune',
        epochs: s.fineTune.epochs,
        batchSize: s.batchSize,
        patience: s.fineTune.patience,
        lr: s.fineTune.lr,
        signal: o.signal,
        onStep: onStep('finetune'),
        onEpoch: async (metrics, finetune) => {
          o.onProgress?.({ phase: 'finetune', ...at, metrics });
          await o.onCheckpoint?.({ ...state, finetune });
        },
      });
      ms.finetune = performance.now() - t0;
      state = { ...state, finetune: ftFit.state };
      history = [...history, ...ftFit.state.history];
      if (ftFit.cancelled) return { status: 'cancelled', state, history, ms };
      // Its epoch-0 point is the head-only model measured by the same graph: any later best beat it.
      if (ftFit.state.best!.epoch > 0) {
        chosen = 'fine-tuned';
        best = ftFit.state.best!.params;
      }
    }

    // 5. the file and the report
    const fineTuned = chosen === 'fine-tuned';
    const model = fineTuned ? ftModel! : headModel;
    const evalSession = fineTuned ? ftEval! : sessions.eval;
    const reportOn = split.val.length ? split.val : split.train;
    const reportSamples = reportOn.map((p) => ({
      photo: p,
      label: labels[p]!,
      features: feats[p]![0]![fineTuned ? 'block4_pool' : 'block5_pool']!,
    }));
    const e = await evaluate(evalSession, model, { ...constants, ...best }, reportSamples, s.batchSize);
    const validation = report(e.logits, reportSamples, req, split.val.length ? 'validation' : 'training', e.loss);
    const manifest: Omit<ClassifierManifest, 'tensors'> = {
      format: CLASSIFIER_FORMAT,
      version: CLASSIFIER_VERSION,
      base: {
        hash: base.hash,
        id: base.manifest.id,
        architecture: cfg.name,
        preprocessing: base.manifest.preprocessing,
        inputSize: s.inputSize,
      },
      classes: [...req.classes],
      head: { kind: spec.kind, hidden: spec.hidden, dropout: spec.dropout },
      fineTuned,
      metrics: {
        valLoss: validation.loss,
        valAcc: validation.accuracy,
        epochs: history.length,
        trainedOn: split.train.length,
      },
      created: new Date().toISOString(),
    };
    const classifier: Classifier['weights'] = { ...constants, ...best };
    return {
      status: 'done',
      state,
      history,
      classifier: encodeClassifier({ manifest, weights: classifier }, cfg),
      chosen,
      validation,
      ms,
    };
  }

  async dispose(): Promise<void> {
    await this.sessions.release();
  }
}

function report(
  logits: Float32Array,
  samples: readonly Sample[],
  req: TrainRequest,
  on: ValidationReport['on'],
  loss: number,
): ValidationReport {
  const n = req.classes.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const misclassified: ValidationReport['misclassified'] = [];
  samples.forEach((s, i) => {
    const predicted = argmax(logits, i * n, n);
    confusion[s.label]![predicted]!++;
    if (predicted !== s.label) {
      const row = Array.from(logits.subarray(i * n, (i + 1) * n));
      const max = Math.max(...row);
      const z = row.reduce((a, v) => a + Math.exp(v - max), 0);
      misclassified.push({ photoId: req.photos[s.photo]!.id, label: s.label, predicted, prob: 1 / z });
    }
  });
  const perClass = confusion.map((row, c) => row[c]! / row.reduce((a, b) => a + b, 0));
  const correct = confusion.reduce((a, row, c) => a + row[c]!, 0);
  return { on, loss, accuracy: correct / Math.max(samples.length, 1), confusion, perClass, misclassified };
}
