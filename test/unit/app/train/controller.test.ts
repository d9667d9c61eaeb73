/** The training controller with a scripted engine, fake pictures and the real store on fake-indexeddb. */
import 'fake-indexeddb/auto';
import type * as Comlink from 'comlink';
import { describe, expect, it } from 'vitest';
import { featureEngine } from '../../../../src/app/bridge/features';
import { modelInfo } from '../../../helpers/app';
import type { FeatureContext } from '../../../../src/app/feature';
import { initialState } from '../../../../src/app/state';
import { Store } from '../../../../src/app/store';
import { ACTIVE_KEY, isBetter } from '../../../../src/app/train/classifiers';
import {
  BURST_MAX,
  SETTINGS_KEY,
  TrainController,
  type Bitmap,
  type TrainDeps,
} from '../../../../src/app/train/controller';
import { TrainStore } from '../../../../src/app/train/store';
import type {
  ClassifierInfo,
  EngineApi,
  TrainCheckpointFn,
  TrainingRequest,
  TrainProgressFn,
  TrainResult,
  TrainState,
} from '../../../../workers/engine/protocol';
import { deferred } from '../fake-worker';

const named = (name: string, message = name) => Object.assign(new Error(message), { name });

const info = (id = 'm') => modelInfo(id);

/** A bitmap standing for a camera still: `tag` survives encode → store → decode. */
class FakeBitmap {
  closed = false;
  constructor(readonly tag: number) {}
  width = 4;
  height = 4;
  close() {
    this.closed = true;
  }
}

const state = (n: number): TrainState =>
  ({
    version: 1,
    key: 'k',
    split: { train: [0], val: [1] },
    head: { epoch: n, w: new Float32Array([n, -n]) },
  }) as never;

const classifierInfo = (classes: string[]): ClassifierInfo => ({
  classes,
  head: 'gap',
  fineTuned: false,
  inputSize: 224,
  base: { id: 'm', hash: 'h' },
  metrics: { valLoss: 0.2, valAcc: 0.9, epochs: 3, trainedOn: 4 },
  created: '2026-01-01T00:00:00.000Z',
  bytes: 3,
});

type Script = (
  req: TrainingRequest,
  onProgress?: TrainProgressFn,
  onCheckpoint?: TrainCheckpointFn,
) => Promise<TrainResult>;

const done = (valAcc: number, bytes = [1, 2, 3]): TrainResult => ({
  status: 'done',
  state: state(3),
  history: [],
  classifier: new Uint8Array(bytes),
  chosen: 'head',
  validation: {
    on: 'validation',
    loss: 0.1,
    accuracy: valAcc,
    confusion: [
      [1, 0],
      [0, 1],
    ],
    perClass: [1, 1],
    misclassified: [],
  },
  ms: { extract: 1, head: 1, finetune: 0 },
});

/** The engine worker as the feature context's engine() hands it over. */
class FakeRemote {
  trains: TrainingRequest[] = [];
  used: (number[] | null)[] = [];
  cancels = 0;
  script: Script = async () => done(0.5);
  cancelled = deferred<void>();
  train(req: TrainingRequest, onProgress?: TrainProgressFn, onCheckpoint?: TrainCheckpointFn) {
    this.trains.push(req);
    return this.script(req, onProgress, onCheckpoint);
  }
  forgotten: string[][] = [];
  async forgetFeatures(ids: string[]) {
    this.forgotten.push(ids);
    return ids.length;
  }
  async cancelTraining() {
    this.cancels++;
    this.cancelled.resolve();
  }
  async useClassifier(bytes: Uint8Array | null) {
    this.used.push(bytes && [...bytes]);
    if (bytes?.[0] === 0xff) throw named('ClassifierFormatError', 'not a convlens classifier');
    return bytes ? classifierInfo(['cat', 'dog']) : null;
  }
}

let dbs = 0;

function setup(o: { db?: string; settings?: Map<string, string>; camera?: boolean; remote?: FakeRemote } = {}) {
  const store = new Store(initialState());
  const remote = o.remote ?? new FakeRemote();
  const settings = o.settings ?? new Map<string, string>();
  const log = { revoked: [] as string[], downloads: [] as { bytes: number[]; name: string }[], waits: 0 };
  let ids = 0;
  let clock = 1000;
  let tag = 0;
  const db = o.db ?? `train-controller-${process.pid}-${dbs++}`;
  const ctx: FeatureContext = {
    store,
    dispatch: store.dispatch,
    engine: featureEngine((fn) => fn(remote as unknown as Comlink.Remote<EngineApi>)),
    grabStill: async () => (o.camera === false ? undefined : (new FakeBitmap(++tag) as unknown as ImageBitmap)),
    now: () => clock++,
    settings: { get: (k) => settings.get(k), set: (k, v) => void settings.set(k, v) },
  };
  const deps: TrainDeps = {
    store: new TrainStore(db),
    encode: async (b) => {
      b.close();
      return { bytes: new Uint8Array([(b as unknown as FakeBitmap).tag]), type: 'image/png' };
    },
    decode: async (bytes) => new FakeBitmap(bytes[0]!) as unknown as Bitmap,
    decodeFile: async (file) => new FakeBitmap(100 + file.size) as unknown as Bitmap,
    url: (bytes) => `blob:${bytes[0]}:${ids++}`,
    revoke: (url) => void log.revoked.push(url),
    download: (bytes, name) => void log.downloads.push({ bytes: [...bytes], name }),
    id: () => `id${ids++}`,
    clock: () => clock++,
    wait: async () => {
      log.waits++;
      if (log.waits === 3) controller.stopBurst();
    },
  };
  const controller = new TrainController(ctx, deps);
  const ready = (id = 'm') => {
    store.dispatch({ type: 'model/loading', id });
    store.dispatch({ type: 'model/ready', info: info(id) });
  };
  return { store, remote, settings, controller, log, db, ready, train: () => store.state.train };
}

/** Two classes with two photos each, the second class selected last. */
async function twoClasses(s: ReturnType<typeof setup>) {
  s.ready();
  await s.controller.open();
  await s.controller.addClass('cat');
  await s.controller.capture();
  await s.controller.capture();
  await s.controller.addClass('dog');
  await s.controller.capture();
  await s.controller.capture();
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('TrainController: classes and photos', () => {
  it('stores classes and captured photos at once; a new controller (a reload) finds them', async () => {
    const s = setup();
    await twoClasses(s);
    const t = s.train();
    expect(t.classes.map((c) => c.name)).toEqual(['cat', 'dog']);
    expect(t.photos.map((p) => p.classId)).toEqual([
      t.classes[0]!.id,
      t.classes[0]!.id,
      t.classes[1]!.id,
      t.classes[1]!.id,
    ]);
    expect(t.photos[0]!.url).toMatch(/^blob:1:/);
    const again = setup({ db: s.db });
    await again.controller.open();
    const u = again.train();
    expect(u.loaded).toBe(true);
    expect(u.classes).toEqual(t.classes);
    expect(u.photos.map((p) => p.id)).toEqual(t.photos.map((p) => p.id));
    expect(u.photos.map((p) => p.url.split(':')[1])).toEqual(['1', '2', '3', '4']);
  });

  it('refuses empty and duplicate class names', async () => {
    const s = setup();
    await s.controller.open();
    await s.controller.addClass('  ');
    expect(s.store.state.error?.name).toBe('TrainingInputError');
    await s.controller.addClass('cat');
    await s.controller.addClass(' cat ');
    expect(s.store.state.error?.message).toMatch(/already exists/);
    expect(s.train().classes).toHaveLength(1);
  });

  it('reports a capture without a live camera and stores nothing', async () => {
    const s = setup({ camera: false });
    await s.controller.open();
    await s.controller.addClass('cat');
    expect(await s.controller.capture()).toBe(false);
    expect(s.store.state.error?.message).toMatch(/camera is not running/);
    expect(s.train().photos).toEqual([]);
  });

  it('bursts until stopped, and never beyond BURST_MAX', async () => {
    const s = setup();
    await s.controller.open();
    await s.controller.addClass('cat');
    await s.controller.startBurst();
    expect(s.train().photos).toHaveLength(3); // stopped during the third pause
    expect(s.train().capturing).toBe(false);
    s.log.waits = 10; // no more stops
    await s.controller.startBurst();
    expect(s.train().photos).toHaveLength(3 + BURST_MAX);
  });

  it('adds picked files, deletes photos (revoking their URLs) and classes with their photos', async () => {
    const s = setup();
    await twoClasses(s);
    await s.controller.addFiles([new Blob(['abc'])]);
    const dog = s.train().classes[1]!.id;
    expect(s.train().photos.filter((p) => p.classId === dog)).toHaveLength(3);
    const first = s.train().photos[0]!;
    await s.controller.deletePhoto(first.id);
    expect(s.log.revoked).toEqual([first.url]);
    expect(s.remote.forgotten).toEqual([[first.id]]);
    const dogPhotos = s
      .train()
      .photos.filter((p) => p.classId === dog)
      .map((p) => p.id);
    await s.controller.removeClass(dog);
    expect(s.train().confirmRemove).toBe(dog);
    expect(s.train().classes).toHaveLength(2);
    s.controller.cancelRemove();
    await s.controller.removeClass(dog);
    await s.controller.removeClass(dog);
    expect(s.train().classes).toHaveLength(1);
    expect(s.log.revoked).toHaveLength(4);
    expect(s.remote.forgotten[1]).toEqual(dogPhotos);
    const again = setup({ db: s.db });
    await again.controller.open();
    expect(again.train().classes.map((c) => c.name)).toEqual(['cat']);
    expect(again.train().photos).toHaveLength(1);
  });

  it('keeps settings in the small settings store', async () => {
    const s = setup();
    s.controller.setSettings({ head: 'gap', variants: 2 });
    expect(JSON.parse(s.settings.get(SETTINGS_KEY)!)).toMatchObject({ head: 'gap', variants: 2 });
    const again = setup({ settings: s.settings });
    await again.controller.open();
    expect(again.train().settings).toMatchObject({ head: 'gap', variants: 2 });
  });
});

describe('TrainController: training', () => {
  it('refuses to train without two classes with photos', async () => {
    const s = setup();
    s.ready();
    await s.controller.open();
    await s.controller.addClass('cat');
    await s.controller.runs.train();
    expect(s.store.state.error).toEqual({ name: 'TrainingInputError', message: 'add at least two classes' });
    expect(s.remote.trains).toEqual([]);
  });

  it('trains on every stored photo, shows progress and checkpoints, stores and uses the classifier', async () => {
    const s = setup();
    await twoClasses(s);
    s.controller.setSettings({ variants: 2, epochs: 7 });
    const seen: { resumable: boolean; stored: boolean }[] = [];
    s.remote.script = async (req, onProgress, onCheckpoint) => {
      onProgress?.({ phase: 'extract', done: 0, total: 6 });
      onProgress?.({ phase: 'extract', done: 6, total: 6 });
      await onCheckpoint?.(state(1));
      seen.push({ resumable: s.train().resumable, stored: (await new TrainStore(s.db).checkpoint()) !== undefined });
      onProgress?.({
        phase: 'train',
        done: 1,
        total: 1,
        metrics: { phase: 'head', epoch: 1, loss: 1, acc: 0.5, valLoss: 1, valAcc: 0.5 },
      });
      return done(0.75, [7, 7, 7]);
    };
    await s.controller.runs.train();
    const req = s.remote.trains[0]!;
    expect(req.classes).toEqual(['cat', 'dog']);
    expect(req.photos.map((p) => p.label)).toEqual([0, 0, 1, 1]);
    expect(req.photos.map((p) => (p.image as unknown as FakeBitmap).tag)).toEqual([1, 2, 3, 4]);
    expect(req).toMatchObject({ head: 'dense', variants: 2, epochs: 7, fineTune: false, resume: undefined });
    expect(seen).toEqual([{ resumable: true, stored: true }]);
    const t = s.train();
    expect(t.run).toMatchObject({ status: 'done', cached: 0, features: 6, outcome: 'new', chosen: 'head' });
    expect(t.run!.phases).toEqual({ extract: { done: 6, total: 6 }, train: { done: 1, total: 1 } });
    expect(t.resumable).toBe(false);
    expect(await new TrainStore(s.db).checkpoint()).toBeUndefined();
    expect(t.classifiers).toHaveLength(1);
    expect(t.classifiers[0]).toMatchObject({ classes: ['cat', 'dog'], valAcc: 0.75, modelId: 'm', bytes: 3 });
    expect(t.active).toBe(t.classifiers[0]!.id);
    expect(s.remote.used).toEqual([[7, 7, 7]]);
    expect(s.settings.get(ACTIVE_KEY)).toBe(t.active);
    expect(s.store.state.live.choice).toBe('auto');
  });

  it('keeps the last good classifier when the new one is worse on validation', async () => {
    const s = setup();
    await twoClasses(s);
    s.remote.script = async () => done(0.9, [1]);
    await s.controller.runs.train();
    const first = s.train().active;
    s.remote.script = async () => done(0.6, [2]);
    await s.controller.runs.train();
    expect(s.train().run!.outcome).toBe('kept-previous');
    expect(s.train().active).toBe(first);
    expect(s.train().classifiers).toHaveLength(2);
    expect(s.remote.used).toEqual([[1]]);
    s.remote.script = async () => done(0.9, [3]);
    await s.controller.runs.train();
    expect(s.train().run!.outcome).toBe('new');
    expect(s.remote.used).toEqual([[1], [3]]);
  });

  it('continues from the classifier in use when it fits, and trains from scratch otherwise', async () => {
    const s = setup();
    await twoClasses(s);
    s.remote.script = async () => done(0.9, [1]);
    await s.controller.runs.train();
    expect(s.remote.trains[0]!.from).toBeUndefined();
    // Same model, classes and head: the next run starts at the classifier in use (a photo more).
    await s.controller.capture(s.train().classes[0]!.id);
    s.remote.script = async () => done(0.95, [2]);
    await s.controller.runs.train();
    expect([...s.remote.trains[1]!.from!.classifier]).toEqual([1]);
    expect(s.train().run).toMatchObject({ status: 'done', continued: 'cat · dog' });
    // Two presses while the classifier to continue from is read: one run.
    s.remote.script = async () => done(0.5, [9]);
    await Promise.all([s.controller.runs.train(), s.controller.runs.train()]);
    expect(s.remote.trains).toHaveLength(3);
    expect(s.remote.used).toEqual([[1], [2]]);
    const from = () => s.remote.trains.at(-1)!.from;
    // Worse classifiers from now on (set above): [2] stays in use.
    s.controller.setSettings({ continueFrom: false });
    await s.controller.runs.train();
    expect(from()).toBeUndefined();
    expect(s.train().run!.continued).toBeUndefined();
    s.controller.setSettings({ continueFrom: true, head: 'gap' });
    await s.controller.runs.train();
    expect(from()).toBeUndefined();
    s.controller.setSettings({ head: 'dense' });
    await s.controller.runs.train();
    expect([...from()!.classifier]).toEqual([2]);
    await s.controller.addClass('bird');
    await s.controller.capture();
    await s.controller.runs.train();
    expect(from()).toBeUndefined();
    expect(s.remote.trains).toHaveLength(7);
  });

  it('fails a resume whose classifier to continue from was deleted', async () => {
    const s = setup();
    await twoClasses(s);
    s.remote.script = async () => done(0.9, [1]);
    await s.controller.runs.train();
    const first = s.train().active!;
    s.remote.script = async (_r, _p, onCheckpoint) => {
      await onCheckpoint?.(state(1));
      throw named('WorkerCrashError', 'the engine stopped');
    };
    await s.controller.runs.train();
    expect(s.remote.trains[1]!.from).toBeDefined();
    await s.controller.classifiers.delete(first);
    await s.controller.runs.resume();
    expect(s.train().run!.status).toBe('failed');
    expect(s.store.state.error?.message).toMatch(/continued from was deleted/);
    expect(s.remote.trains).toHaveLength(2);
  });

  it('cancels, keeps the checkpoint, and resumes it after a reload with the same request', async () => {
    const s = setup();
    await twoClasses(s);
    s.controller.setSettings({ variants: 3 });
    s.remote.script = async (_req, _p, onCheckpoint) => {
      await onCheckpoint?.(state(1));
      await s.remote.cancelled.promise;
      return { status: 'cancelled', state: state(2), history: [], ms: { extract: 0, head: 0, finetune: 0 } };
    };
    const running = s.controller.runs.train();
    await flush();
    await flush();
    expect(s.train().run!.status).toBe('running');
    await s.controller.runs.cancel();
    expect(s.train().run!.status).toBe('cancelling');
    await running;
    expect(s.remote.cancels).toBe(1);
    expect(s.train().run!.status).toBe('cancelled');
    expect(s.train().resumable).toBe(true);

    // A reload: settings changed since, a photo added; the resumed run trains what the checkpoint names.
    const again = setup({ db: s.db, settings: s.settings });
    again.ready();
    await again.controller.open();
    expect(again.train().resumable).toBe(true);
    again.controller.setSettings({ variants: 5 });
    await again.controller.capture(again.train().classes[0]!.id);
    await again.controller.runs.resume();
    const req = again.remote.trains[0]!;
    expect(req.resume).toEqual(state(2));
    expect((req.resume!.head as unknown as { w: Float32Array }).w).toBeInstanceOf(Float32Array);
    expect(req.variants).toBe(3);
    expect(req.photos).toHaveLength(4);
    expect(again.train().run).toMatchObject({ status: 'done', resumed: true });
    expect(again.train().resumable).toBe(false);
  });

  it('fails a resume whose photo was deleted, and a run whose engine crashed', async () => {
    const s = setup();
    await twoClasses(s);
    s.remote.script = async (_r, _p, onCheckpoint) => {
      await onCheckpoint?.(state(1));
      throw named('WorkerCrashError', 'the engine stopped');
    };
    await s.controller.runs.train();
    expect(s.train().run!.status).toBe('failed');
    expect(s.store.state.error?.name).toBe('WorkerCrashError');
    expect(s.train().resumable).toBe(true);
    await s.controller.deletePhoto(s.train().photos[0]!.id);
    await s.controller.runs.resume();
    expect(s.train().run!.status).toBe('failed');
    expect(s.store.state.error?.message).toMatch(/photo .* was deleted/);
    expect(s.remote.trains).toHaveLength(1);
  });
});

describe('TrainController: classifiers', () => {
  it('switches to ImageNet and back, deletes the active one, exports the stored bytes', async () => {
    const s = setup();
    await twoClasses(s);
    s.remote.script = async () => done(0.8, [5, 6]);
    await s.controller.runs.train();
    const id = s.train().active!;
    await s.controller.classifiers.use(undefined);
    expect(s.train().active).toBeUndefined();
    expect(s.settings.get(ACTIVE_KEY)).toBe('');
    await s.controller.classifiers.use(id);
    expect(s.train().active).toBe(id);
    expect(s.remote.used).toEqual([[5, 6], null, [5, 6]]);
    await s.controller.classifiers.export(id);
    expect(s.log.downloads).toEqual([{ bytes: [5, 6], name: 'cat-dog.classifier' }]);
    await s.controller.classifiers.delete(id);
    expect(s.train().classifiers).toEqual([]);
    expect(s.train().active).toBeUndefined();
    expect(s.remote.used.at(-1)).toBeNull();
    expect(await new TrainStore(s.db).classifiers()).toEqual([]);
  });

  it('imports a file the engine accepts, and rejects one it does not', async () => {
    const s = setup();
    s.ready();
    await s.controller.open();
    const file = (name: string, bytes: number[]) => ({ name, arrayBuffer: async () => new Uint8Array(bytes).buffer });
    await s.controller.classifiers.import(file('pets.classifier', [1, 2, 3]));
    const t = s.train();
    expect(t.classifiers).toHaveLength(1);
    expect(t.classifiers[0]).toMatchObject({ name: 'pets', classes: ['cat', 'dog'], head: 'gap', valAcc: 0.9 });
    expect(t.active).toBe(t.classifiers[0]!.id);
    await s.controller.classifiers.import(file('bad.classifier', [0xff, 0]));
    expect(s.store.state.error?.name).toBe('ClassifierFormatError');
    expect(s.train().classifiers).toHaveLength(1);
    expect(s.train().active).toBe(t.active);
    expect((await new TrainStore(s.db).classifier(t.active!))!.bytes).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('applies the chosen classifier again whenever a model becomes ready (reload, worker restart)', async () => {
    const s = setup();
    await twoClasses(s);
    s.remote.script = async () => done(0.8, [4, 2]);
    await s.controller.runs.train();
    const id = s.train().active!;

    const again = setup({ db: s.db, settings: s.settings });
    again.ready();
    await flush();
    await again.controller.open();
    for (let i = 0; i < 5 && again.remote.used.length === 0; i++) await flush();
    expect(again.remote.used).toEqual([[4, 2]]);
    expect(again.train().active).toBe(id);
    // The worker restarted: the model is ready again (a new info object) and the classifier re-applied.
    again.store.dispatch({ type: 'engine/restarting', reason: 'crash' });
    again.store.dispatch({ type: 'model/ready', info: info() });
    for (let i = 0; i < 5 && again.remote.used.length === 1; i++) await flush();
    expect(again.remote.used).toEqual([
      [4, 2],
      [4, 2],
    ]);
    // Another model: its base does not fit the classifier, so the live view goes back to ImageNet.
    again.ready('other');
    for (let i = 0; i < 5 && again.train().active; i++) await flush();
    expect(again.train().active).toBeUndefined();
    expect(again.remote.used).toHaveLength(2);
  });

  it('touches nothing at a model start when no classifier was ever chosen', async () => {
    const s = setup();
    s.ready();
    await flush();
    expect(s.train().loaded).toBe(false);
    expect(s.remote.used).toEqual([]);
  });

  it('prefers the new classifier unless a comparable previous one is better', () => {
    const rec = {
      id: 'n',
      name: 'n',
      created: '',
      modelId: 'm',
      classes: ['a', 'b'],
      head: 'dense' as const,
      fineTuned: false,
      valAcc: 0.5,
      bytes: new Uint8Array(),
    };
    const prev = { ...rec, id: 'p', bytes: 1, valAcc: 0.7 };
    expect(isBetter(rec, undefined)).toBe(true);
    expect(isBetter(rec, prev)).toBe(false);
    expect(isBetter({ ...rec, valAcc: 0.7 }, prev)).toBe(true);
    expect(isBetter(rec, { ...prev, classes: ['a', 'c'] })).toBe(true);
    expect(isBetter(rec, { ...prev, modelId: 'x' })).toBe(true);
    expect(isBetter({ ...rec, valAcc: undefined }, prev)).toBe(true);
  });
});
