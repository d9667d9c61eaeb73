import { describe, expect, it } from 'vitest';
import { initialState, reducer, type Action } from '../../../../src/app/state';
import {
  DEFAULT_TRAIN_SETTINGS,
  initialTrainState,
  selectActiveClassifier,
  selectPhotoCounts,
  selectTrainBlocker,
  trainReducer,
  type ClassifierEntry,
  type TrainAction,
  type TrainUiState,
} from '../../../../src/app/train/state';
import type { EpochMetrics, ValidationReport } from '../../../../workers/engine/protocol';

const cls = (id: string, name = id) => ({ id, name, colour: '#ff0000' });
const photo = (id: string, classId: string) => ({ id, classId, url: `blob:${id}` });
const clf = (id: string, over: Partial<ClassifierEntry> = {}): ClassifierEntry => ({
  id,
  name: id,
  created: '2026-01-01T00:00:00.000Z',
  modelId: 'm',
  classes: ['a', 'b'],
  head: 'dense',
  fineTuned: false,
  valAcc: 0.5,
  bytes: 10,
  ...over,
});
const metrics = (epoch: number): EpochMetrics => ({
  phase: 'head',
  epoch,
  loss: 1 / epoch,
  acc: 0.5,
  valLoss: 1 / epoch,
  valAcc: 0.5,
});
const report: ValidationReport = {
  on: 'validation',
  loss: 0.3,
  accuracy: 0.75,
  confusion: [
    [1, 1],
    [0, 2],
  ],
  perClass: [0.5, 1],
  misclassified: [{ photoId: 'p1', label: 0, predicted: 1, prob: 0.8 }],
};

const EXAMPLES: { [K in TrainAction['type']]: Extract<TrainAction, { type: K }> } = {
  'train/loaded': {
    type: 'train/loaded',
    classes: [cls('a'), cls('b')],
    photos: [photo('p1', 'a'), photo('p2', 'b')],
    classifiers: [clf('c1')],
    resumable: true,
    settings: { ...DEFAULT_TRAIN_SETTINGS, variants: 2 },
  },
  'train/class-added': { type: 'train/class-added', cls: cls('c') },
  'train/class-removed': { type: 'train/class-removed', id: 'a' },
  'train/class-selected': { type: 'train/class-selected', id: 'b' },
  'train/confirm-remove': { type: 'train/confirm-remove', id: 'a' },
  'train/photo-added': { type: 'train/photo-added', photo: photo('p3', 'a') },
  'train/photo-removed': { type: 'train/photo-removed', id: 'p1' },
  'train/capturing': { type: 'train/capturing', capturing: true },
  'train/settings': { type: 'train/settings', settings: { head: 'gap' } },
  'train/run-start': { type: 'train/run-start', resumed: false, classes: ['a', 'b'] },
  'train/progress': { type: 'train/progress', progress: { phase: 'extract', done: 3, total: 8 } },
  'train/cancel': { type: 'train/cancel' },
  'train/run-done': {
    type: 'train/run-done',
    status: 'done',
    history: [metrics(1), metrics(2)],
    validation: report,
    chosen: 'head',
    outcome: 'new',
  },
  'train/run-failed': { type: 'train/run-failed' },
  'train/resumable': { type: 'train/resumable', resumable: true },
  'train/classifier-added': { type: 'train/classifier-added', entry: clf('c2') },
  'train/classifier-removed': { type: 'train/classifier-removed', id: 'c1' },
  'train/active': { type: 'train/active', id: 'c1' },
};

const run = (actions: TrainAction[], from: TrainUiState = initialTrainState()) => actions.reduce(trainReducer, from);
const loaded = () => run([EXAMPLES['train/loaded']]);
const running = () => run([EXAMPLES['train/run-start']], loaded());

describe('train slice: purity and delegation', () => {
  it.each(Object.values(EXAMPLES))('$type never mutates the state it is given', (action) => {
    for (const start of [initialTrainState(), loaded(), running()]) {
      const frozen = structuredClone(start);
      trainReducer(start, action);
      expect(start).toEqual(frozen);
    }
  });

  it.each(Object.values(EXAMPLES))('the app reducer hands $type to the slice', (action) => {
    const app = initialState();
    const next = reducer(app, action as Action);
    expect(next.train).toEqual(trainReducer(app.train, action));
    expect(next.view).toBe(app.view);
  });

  it('keeps the app state identical when the slice did not change', () => {
    const app = initialState();
    expect(reducer(app, { type: 'train/capturing', capturing: false })).toBe(app);
    expect(reducer(app, { type: 'train/cancel' })).toBe(app);
  });
});

describe('train slice: classes and photos', () => {
  it('loads what was stored, selects the first class and sanitises settings', () => {
    const s = run([
      { ...EXAMPLES['train/loaded'], settings: { ...DEFAULT_TRAIN_SETTINGS, variants: 99, epochs: NaN } },
    ]);
    expect(s.loaded).toBe(true);
    expect(s.selected).toBe('a');
    expect(s.resumable).toBe(true);
    expect(s.settings.variants).toBe(16);
    expect(s.settings.epochs).toBe(DEFAULT_TRAIN_SETTINGS.epochs);
    expect(selectPhotoCounts(s)).toEqual({ a: 1, b: 1 });
  });

  it('adds (and selects) a class, ignores a duplicate id, removes one with its photos', () => {
    let s = run([EXAMPLES['train/class-added']], loaded());
    expect(s.classes.map((c) => c.id)).toEqual(['a', 'b', 'c']);
    expect(s.selected).toBe('c');
    expect(trainReducer(s, EXAMPLES['train/class-added'])).toBe(s);
    s = run([EXAMPLES['train/class-selected'], { type: 'train/class-removed', id: 'b' }], s);
    expect(s.classes.map((c) => c.id)).toEqual(['a', 'c']);
    expect(s.photos.map((p) => p.id)).toEqual(['p1']);
    expect(s.selected).toBe('a');
    expect(trainReducer(s, { type: 'train/class-removed', id: 'zz' })).toBe(s);
    expect(trainReducer(s, { type: 'train/class-selected', id: 'zz' })).toBe(s);
  });

  it('asks before removing a class, and forgets the question once it is gone', () => {
    let s = trainReducer(loaded(), EXAMPLES['train/confirm-remove']);
    expect(s.confirmRemove).toBe('a');
    expect(trainReducer(s, EXAMPLES['train/confirm-remove'])).toBe(s);
    expect(trainReducer(s, { type: 'train/confirm-remove', id: 'zz' })).toBe(s);
    expect(trainReducer(s, { type: 'train/confirm-remove' }).confirmRemove).toBeUndefined();
    s = trainReducer(s, { type: 'train/class-removed', id: 'a' });
    expect(s.confirmRemove).toBeUndefined();
  });

  it('adds photos only to existing classes and removes them', () => {
    let s = run([EXAMPLES['train/photo-added']], loaded());
    expect(selectPhotoCounts(s)).toEqual({ a: 2, b: 1 });
    expect(trainReducer(s, { type: 'train/photo-added', photo: photo('x', 'nope') })).toBe(s);
    s = trainReducer(s, EXAMPLES['train/photo-removed']);
    expect(s.photos.map((p) => p.id)).toEqual(['p2', 'p3']);
    expect(trainReducer(s, EXAMPLES['train/photo-removed'])).toBe(s);
  });

  it('says why training cannot start', () => {
    expect(selectTrainBlocker(initialTrainState())).toMatch(/two classes/);
    const s = run([EXAMPLES['train/class-added']], loaded());
    expect(selectTrainBlocker(s)).toBe('add photos to c');
    expect(selectTrainBlocker(loaded())).toBeUndefined();
    expect(selectTrainBlocker(running())).toMatch(/running/);
  });

  it('merges and clamps settings', () => {
    const s = run([
      { type: 'train/settings', settings: { head: 'gap', fineTune: true } },
      { type: 'train/settings', settings: { variants: 0, epochs: 1000, patience: 3.4 } },
      { type: 'train/settings', settings: { continueFrom: 'yes' as unknown as boolean } },
    ]);
    expect(s.settings).toEqual({
      head: 'gap',
      fineTune: true,
      variants: 1,
      epochs: 200,
      patience: 3,
      continueFrom: true,
    });
    expect(run([{ type: 'train/settings', settings: { continueFrom: false } }]).settings.continueFrom).toBe(false);
  });
});

describe('train slice: a run', () => {
  it('tracks phases, the cached count of the first extract report, and epoch metrics', () => {
    let s = run(
      [
        { type: 'train/progress', progress: { phase: 'extract', done: 5, total: 8 } },
        { type: 'train/progress', progress: { phase: 'extract', done: 8, total: 8 } },
        { type: 'train/progress', progress: { phase: 'train', done: 1, total: 2 } },
        { type: 'train/progress', progress: { phase: 'train', done: 2, total: 2, metrics: metrics(1) } },
      ],
      running(),
    );
    expect(s.run).toMatchObject({
      status: 'running',
      cached: 5,
      features: 8,
      phases: { extract: { done: 8, total: 8 }, train: { done: 2, total: 2 } },
    });
    expect(s.run!.history).toEqual([metrics(1)]);
    s = trainReducer(s, EXAMPLES['train/run-done']);
    expect(s.run).toMatchObject({ status: 'done', validation: report, chosen: 'head', outcome: 'new' });
    expect(s.run!.history).toHaveLength(2);
    // Not running any more: progress is a late message.
    expect(trainReducer(s, EXAMPLES['train/progress'])).toBe(s);
    expect(trainReducer(s, EXAMPLES['train/run-done'])).toBe(s);
  });

  it('does not start twice, cancels once, and ends cancelled or failed', () => {
    const r = running();
    expect(trainReducer(r, EXAMPLES['train/run-start'])).toBe(r);
    const c = trainReducer(r, EXAMPLES['train/cancel']);
    expect(c.run!.status).toBe('cancelling');
    expect(trainReducer(c, EXAMPLES['train/cancel'])).toBe(c);
    expect(trainReducer(c, { type: 'train/run-done', status: 'cancelled', history: [] }).run!.status).toBe('cancelled');
    expect(trainReducer(r, EXAMPLES['train/run-failed']).run!.status).toBe('failed');
    expect(trainReducer(loaded(), EXAMPLES['train/run-failed'])).toEqual(loaded());
    // A finished run can be followed by a new one.
    const again = trainReducer(trainReducer(r, EXAMPLES['train/run-failed']), EXAMPLES['train/run-start']);
    expect(again.run).toMatchObject({ status: 'running', phases: {}, history: [] });
  });

  it('keeps the longer history (a resumed run reports its whole history at the end)', () => {
    const s = run(
      [
        { type: 'train/progress', progress: { phase: 'train', done: 1, total: 1, metrics: metrics(3) } },
        { type: 'train/run-done', status: 'done', history: [metrics(1), metrics(2), metrics(3)] },
      ],
      running(),
    );
    expect(s.run!.history.map((m) => m.epoch)).toEqual([1, 2, 3]);
  });
});

describe('train slice: classifiers', () => {
  it('adds, activates, deactivates and removes classifiers', () => {
    let s = run([EXAMPLES['train/classifier-added'], { type: 'train/active', id: 'c2' }], loaded());
    expect(s.classifiers.map((c) => c.id)).toEqual(['c1', 'c2']);
    expect(selectActiveClassifier(s)?.id).toBe('c2');
    expect(trainReducer(s, { type: 'train/active', id: 'nope' })).toBe(s);
    s = trainReducer(s, { type: 'train/classifier-removed', id: 'c2' });
    expect(s.active).toBeUndefined();
    expect(trainReducer(s, { type: 'train/classifier-removed', id: 'c2' })).toBe(s);
    s = run([EXAMPLES['train/active'], { type: 'train/active' }], s);
    expect(s.active).toBeUndefined();
  });

  it('drops an active id that a reload no longer finds', () => {
    const s = run([EXAMPLES['train/active'], { ...EXAMPLES['train/loaded'], classifiers: [] }], loaded());
    expect(s.active).toBeUndefined();
  });

  it('tracks resumability and capturing without needless changes', () => {
    const s = loaded();
    expect(trainReducer(s, EXAMPLES['train/resumable'])).toBe(s);
    expect(trainReducer(s, { type: 'train/resumable', resumable: false }).resumable).toBe(false);
    expect(trainReducer(s, EXAMPLES['train/capturing']).capturing).toBe(true);
  });
});
