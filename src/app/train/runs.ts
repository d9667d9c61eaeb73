/**
 * Training runs of the training screen: a fresh run on every stored photo (continuing from the
 * classifier in use when it fits: selectContinueFrom), resuming the stored checkpoint's run after a
 * reload, cancelling; progress into the reducer, checkpoints into IndexedDB, the result offered to the
 * classifier shelf. Part of the training screen's controller (controller.ts), which owns the
 * dependencies and the first read of the store.
 */
import type { TrainingRequest, TrainProgress, TrainState } from '../../../workers/engine/protocol';
import { isCrash } from '../bridge/lifecycle';
import { inputError, type AppError } from '../errors';
import type { FeatureContext } from '../feature';
import type { ClassifierShelf, ShelfHost } from './classifiers';
import type { TrainDeps } from './controller';
import { selectContinueFrom, selectRunning, selectTrainBlocker } from './state';
import type { ClassifierRecord, RunRequest } from './store';

/** What runs need from the training controller: the shelf's host, and the shelf to offer results to. */
export interface RunsHost extends ShelfHost {
  shelf: ClassifierShelf;
}

export class TrainRuns {
  constructor(private readonly host: RunsHost) {}

  private get ctx(): FeatureContext {
    return this.host.ctx;
  }

  private get state() {
    return this.ctx.store.state.train;
  }

  private get d(): TrainDeps {
    return this.host.deps();
  }

  /** Train on every stored photo with the current settings (a fresh run). */
  async train(): Promise<void> {
    await this.host.open();
    const s = this.ctx.store.state;
    const blocker = selectTrainBlocker(s.train);
    if (blocker) return this.host.fail(inputError(blocker));
    if (s.model.status !== 'ready') return;
    const index = new Map(s.train.classes.map((c, i) => [c.id, i]));
    const req: RunRequest = {
      modelId: s.model.id,
      classes: s.train.classes.map((c) => c.name),
      photos: s.train.photos.map((p) => ({ id: p.id, label: index.get(p.classId)! })),
      settings: s.train.settings,
      fromId: selectContinueFrom(s.train, s.model.id)?.id,
    };
    await this.run(req, undefined);
  }

  /** Continue the stored checkpoint's run (same photos, classes and settings). */
  async resume(): Promise<void> {
    await this.host.open();
    const checkpoint = await this.d.store.checkpoint().catch(() => undefined);
    if (!checkpoint) {
      this.ctx.dispatch({ type: 'train/resumable', resumable: false });
      return this.train();
    }
    await this.run(checkpoint.request, checkpoint.state);
  }

  private async run(req: RunRequest, resume: TrainState | undefined): Promise<void> {
    const from =
      req.fromId === undefined ? undefined : await this.d.store.classifier(req.fromId).catch(() => undefined);
    // After the lookup's await, so that of two presses only the first starts a run.
    if (selectRunning(this.state)) return;
    this.ctx.dispatch({
      type: 'train/run-start',
      resumed: resume !== undefined,
      classes: req.classes,
      continued: from?.name,
    });
    try {
      if (req.fromId !== undefined && !from)
        throw {
          name: 'TrainStateMismatchError',
          message: 'the classifier this training continued from was deleted: start a new training instead',
        } as AppError;
      if (!resume) await this.setCheckpoint(undefined);
      const photos = await Promise.all(
        req.photos.map(async ({ id, label }) => {
          const rec = await this.d.store.photo(id);
          if (!rec)
            throw { name: 'TrainStateMismatchError', message: 'a photo of the saved training was deleted' } as AppError;
          return { id, label, image: await this.d.decode(rec.bytes, rec.type) };
        }),
      );
      const { head, fineTune, variants, epochs, patience } = req.settings;
      const request: TrainingRequest = {
        classes: req.classes,
        photos,
        head,
        fineTune,
        variants,
        epochs,
        patience,
        from: from && { classifier: from.bytes },
        resume,
      };
      const result = await this.ctx.engine.train(
        request,
        (progress: TrainProgress) => this.ctx.dispatch({ type: 'train/progress', progress }),
        (state: TrainState) => this.setCheckpoint({ request: req, state }),
      );
      if (result.status === 'cancelled') {
        if (result.state) await this.setCheckpoint({ request: req, state: result.state });
        this.ctx.dispatch({ type: 'train/run-done', status: 'cancelled', history: result.history });
        return;
      }
      await this.setCheckpoint(undefined);
      const record: ClassifierRecord = {
        id: this.d.id(),
        name: req.classes.join(' · '),
        created: new Date(this.d.clock()).toISOString(),
        modelId: req.modelId,
        classes: req.classes,
        head: head,
        fineTuned: result.chosen === 'fine-tuned',
        valAcc: result.validation?.on === 'validation' ? result.validation.accuracy : undefined,
        bytes: result.classifier!,
      };
      const better = await this.host.shelf.offer(record);
      this.ctx.dispatch({
        type: 'train/run-done',
        status: 'done',
        history: result.history,
        validation: result.validation,
        chosen: result.chosen,
        outcome: better ? 'new' : 'kept-previous',
      });
    } catch (err) {
      this.ctx.dispatch({ type: 'train/run-failed' });
      this.host.fail(err);
    }
  }

  private async setCheckpoint(c: { request: RunRequest; state: TrainState } | undefined): Promise<void> {
    await this.d.store.putCheckpoint(c && { ...c, at: this.d.clock() });
    this.ctx.dispatch({ type: 'train/resumable', resumable: c !== undefined });
  }

  /** Stop after the current step; the run ends 'cancelled' with a checkpoint to resume from. */
  async cancel(): Promise<void> {
    if (this.state.run?.status !== 'running') return;
    this.ctx.dispatch({ type: 'train/cancel' });
    await this.ctx.engine.cancelTraining().catch((err: unknown) => isCrash(err) || this.host.fail(err));
  }
}
