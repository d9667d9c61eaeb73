/**
 * The training half of the engine, kept out of the Engine class: the loaded base's bytes and hash,
 * the Trainer with its session cache, cancellation, and the classifier in use. The Engine (PWA
 * worker, vitest, CLI) delegates its training methods here and builds the live session itself.
 */
import type { AnalyzeGraphOptions } from '../graphs/analyze';
import { loadBundle, weightRefs } from '../bundle/load';
import type { BundleManifest, BundleStore } from '../bundle/manifest';
import type { Classifier } from './classifier';
import { baseModelHash, parseClassifier } from './classifier';
import type { FeatureCache } from './features';
import { MemoryFeatureCache } from './features';
import { TrainingBusyError } from './errors';
import { classifierAnalyzeOptions } from './live';
import type { GraphRuntime } from '../runtime';
import type { TrainProgress, TrainRequest, TrainResult, TrainState } from './request';
import type { BaseContext } from './trainer';
import { Trainer } from './trainer';

/** What the UI is told about a classifier. */
export interface ClassifierInfo {
  classes: string[];
  head: 'dense' | 'gap';
  fineTuned: boolean;
  inputSize: number;
  base: { id: string; hash: string };
  metrics?: { valLoss: number; valAcc: number; epochs: number; trainedOn: number };
  created: string;
  bytes: number;
}

export function classifierInfo(c: Classifier, bytes: number): ClassifierInfo {
  const m = c.manifest;
  return {
    classes: [...m.classes],
    head: m.head.kind,
    fineTuned: m.fineTuned,
    inputSize: m.base.inputSize,
    base: { id: m.base.id, hash: m.base.hash },
    metrics: m.metrics,
    created: m.created,
    bytes,
  };
}

export class TrainingService {
  private readonly trainer: Trainer;
  private base: { manifest: BundleManifest; ctx: Promise<BaseContext> } | undefined;
  private cancel: { aborted: boolean } | undefined;
  private lastTrained: Uint8Array | undefined;

  constructor(
    runtime: GraphRuntime,
    cache: FeatureCache = new MemoryFeatureCache(),
    private readonly winograd: () => boolean = () => false,
    /** Asks the JS engine for a collection while training steps (FitOptions.collect). */
    private readonly collect?: () => void,
  ) {
    this.trainer = new Trainer(runtime, cache);
  }

  /** The base part's verified bytes and hash for the loaded model (read once per manifest). */
  baseContext(store: BundleStore, manifest: BundleManifest): Promise<BaseContext> {
    if (this.base?.manifest !== manifest) {
      const ctx = (async () => {
        const { files } = await loadBundle(store, manifest.id, ['base']);
        return { manifest, files, hash: await baseModelHash(manifest), winograd: this.winograd() };
      })();
      ctx.catch(() => (this.base = undefined));
      // Another model: its sessions are of no further use.
      if (this.base) void this.trainer.sessions.release();
      this.base = { manifest, ctx };
    }
    return this.base.ctx;
  }

  async extract(
    store: BundleStore,
    manifest: BundleManifest,
    req: TrainRequest,
    onProgress?: (p: TrainProgress) => void,
  ): Promise<number> {
    const signal = this.begin();
    try {
      return await this.trainer.extract(await this.baseContext(store, manifest), req, { signal, onProgress });
    } finally {
      this.end(signal);
    }
  }

  async train(
    store: BundleStore,
    manifest: BundleManifest,
    req: TrainRequest,
    onProgress?: (p: TrainProgress) => void,
    onCheckpoint?: (state: TrainState) => void | Promise<void>,
  ): Promise<TrainResult> {
    const signal = this.begin();
    try {
      const base = await this.baseContext(store, manifest);
      const r = await this.trainer.train(base, req, { signal, onProgress, onCheckpoint, collect: this.collect });
      if (r.classifier) this.lastTrained = r.classifier;
      return r;
    } finally {
      this.end(signal);
    }
  }

  /** Ask the running extraction or training to stop after its current step. */
  cancelTraining(): void {
    if (this.cancel) this.cancel.aborted = true;
  }

  /** Parse a classifier against the loaded base; returns it with the live graph's options. */
  async prepare(
    store: BundleStore,
    manifest: BundleManifest,
    bytes: Uint8Array,
  ): Promise<{
    classifier: Classifier;
    info: ClassifierInfo;
    graph: Pick<AnalyzeGraphOptions, 'cfg' | 'weights' | 'head' | 'classes' | 'topK' | 'camLayer'>;
    files: ReadonlyMap<string, Uint8Array>;
  }> {
    const base = await this.baseContext(store, manifest);
    const classifier = parseClassifier(bytes, { hash: base.hash, cfg: manifest.architecture });
    const graph = classifierAnalyzeOptions(classifier, manifest.architecture, (b) => weightRefs(b, manifest, ['base']));
    return { classifier, info: classifierInfo(classifier, bytes.length), graph, files: base.files };
  }

  /** Releases training's sessions (rebuilt on next use): the live view's take their memory. */
  async releaseSessions(): Promise<void> {
    await this.trainer.sessions.release();
  }

  /** The last classifier trained in this session, if any. */
  lastClassifier(): Uint8Array | undefined {
    return this.lastTrained;
  }

  async dispose(): Promise<void> {
    this.cancelTraining();
    this.base = undefined;
    await this.trainer.dispose();
  }

  private begin(): { aborted: boolean } {
    if (this.cancel) throw new TrainingBusyError('training is already running: cancel it or wait for it to finish');
    this.cancel = { aborted: false };
    return this.cancel;
  }

  private end(signal: { aborted: boolean }): void {
    if (this.cancel === signal) this.cancel = undefined;
  }
}
