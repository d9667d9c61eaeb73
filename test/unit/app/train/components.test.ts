/** The training screen's components rendered to HTML from reducer states (no DOM needed). */
import { h, type VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { expectLabelled, modelInfo } from '../../../helpers/app';
import { ClassifierSwitch } from '../../../../src/app/components/ClassifierSwitch';
import { LiveView, type LiveViewActions } from '../../../../src/app/components/LiveView';
import { chartPoints, TrainChart } from '../../../../src/app/components/TrainChart';
import { TrainScreen, type TrainScreenActions } from '../../../../src/app/components/TrainScreen';
import { initialState, reducer, type Action, type AppState } from '../../../../src/app/state';
import type { ClassifierEntry } from '../../../../src/app/train/state';
import type { EpochMetrics } from '../../../../workers/engine/protocol';

const noop = () => {};
const actions = new Proxy({}, { get: () => noop }) as TrainScreenActions;
const liveActions = new Proxy({}, { get: () => noop }) as LiveViewActions;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any component's vnode
const html = (node: VNode<any>): string => renderToString(node);
const info = modelInfo();
const clf = (id: string, modelId = 'm'): ClassifierEntry => ({
  id,
  name: `clf ${id}`,
  created: '2026-01-01T00:00:00.000Z',
  modelId,
  classes: ['cup', 'mug'],
  head: 'gap',
  fineTuned: true,
  valAcc: 0.8,
  bytes: 100,
});
const metrics = (epoch: number, loss: number, valLoss: number): EpochMetrics => ({
  phase: 'head',
  epoch,
  loss,
  acc: 0.5,
  valLoss,
  valAcc: 0.75,
});

const state = (actions: Action[]): AppState => actions.reduce(reducer, initialState());
const base: Action[] = [
  { type: 'model/loading', id: 'm' },
  { type: 'model/ready', info },
  { type: 'view', view: 'train' },
  {
    type: 'train/loaded',
    classes: [
      { id: 'a', name: 'cup', colour: '#ff0000' },
      { id: 'b', name: 'mug', colour: '#00ff00' },
    ],
    photos: [
      { id: 'p1', classId: 'a', url: 'blob:p1' },
      { id: 'p2', classId: 'a', url: 'blob:p2' },
      { id: 'p3', classId: 'b', url: 'blob:p3' },
    ],
    classifiers: [clf('k1'), clf('k2')],
    resumable: false,
  },
];

describe('TrainScreen', () => {
  it('lists classes with counts, the selected class photos, and a Train button ready to press', () => {
    const out = html(h(TrainScreen, { state: state(base), actions }));
    expect(out).toContain('cup <span class="count">(2 photos)</span>');
    expect(out).toContain('mug <span class="count">(1 photos)</span>');
    expect(out).toContain('Photos of cup (2)');
    expect(out.match(/data-testid="thumb"/g)).toHaveLength(2);
    expect(out).toContain('src="blob:p1"');
    expect(out).not.toContain('src="blob:p3"');
    // No live camera: no capture yet.
    expect(out).toMatch(/<button[^>]*data-testid="capture"[^>]*disabled/);
    expect(out).not.toMatch(/<button[^>]*data-testid="train"[^>]*disabled/);
    expect(out).not.toContain('data-testid="resume"');
    expect(out).toContain('My classifiers');
    expectLabelled(out);
  });

  it('asks before deleting a class with its photos', () => {
    const s = state([...base, { type: 'train/confirm-remove', id: 'a' }]);
    const out = html(h(TrainScreen, { state: s, actions }));
    expect(out).toContain('Delete 2 photos too');
    expect(out).toContain('aria-label="Really delete cup and its 2 photos"');
    expect(out).toContain('>Keep</button>');
    expectLabelled(out);
  });

  it('says why it cannot train, and offers Resume for a stored checkpoint', () => {
    const s = state([
      ...base,
      { type: 'train/class-added', cls: { id: 'c', name: 'jar', colour: '#0000ff' } },
      { type: 'train/resumable', resumable: true },
      { type: 'camera/live', canSwitch: false },
    ]);
    const out = html(h(TrainScreen, { state: s, actions }));
    expect(out).toContain('To train: add photos to jar.');
    expect(out).toMatch(/<button[^>]*data-testid="train"[^>]*disabled/);
    expect(out).toContain('data-testid="resume"');
    expect(out).toContain('Photos of jar (0)');
    expect(out).not.toMatch(/<button[^>]*data-testid="capture"[^>]*disabled/);
  });

  it('shows phase bars, curves and Cancel while training', () => {
    const s = state([
      ...base,
      { type: 'train/run-start', resumed: false, classes: ['cup', 'mug'] },
      { type: 'train/progress', progress: { phase: 'extract', done: 2, total: 10 } },
      { type: 'train/progress', progress: { phase: 'extract', done: 10, total: 10 } },
      { type: 'train/progress', progress: { phase: 'train', done: 3, total: 6, metrics: metrics(1, 0.9, 1) } },
      { type: 'train/progress', progress: { phase: 'train', done: 6, total: 6, metrics: metrics(2, 0.5, 0.8) } },
    ]);
    const out = html(h(TrainScreen, { state: s, actions }));
    expect(out).toContain('Training… 2 of 10 features cached.');
    expect(out).toContain('10 of 10 (100 %)');
    expect(out).toContain('6 of 6 (100 %)');
    expect(out).toContain('data-testid="cancel-train"');
    expect(out).toMatch(/<button[^>]*data-testid="train"[^>]*disabled/);
    expect(out.match(/<polyline/g)).toHaveLength(4);
    expect(out).toContain('Loss after epoch 2: training 0.500, validation 0.800');
    expect(out).not.toContain('Fine-tuning block5');
    expect(out).toContain('aria-live="polite"');
    expect(out).not.toContain('Continuing from');
    // The continue setting is on by default; a continued run names its classifier.
    expect(out).toMatch(/<input[^>]*data-testid="setting-continue"[^>]*checked/);
    const more = state([
      ...base,
      { type: 'train/run-start', resumed: false, classes: ['cup', 'mug'], continued: 'cup · mug' },
    ]);
    expect(html(h(TrainScreen, { state: more, actions }))).toContain('Training… Continuing from “cup · mug”.');
    const off = state([...base, { type: 'train/settings', settings: { continueFrom: false } }]);
    expect(html(h(TrainScreen, { state: off, actions }))).not.toMatch(/data-testid="setting-continue"[^>]*checked/);
  });

  it('shows the result: summary, per-class accuracy, confusion matrix and misclassified photos', () => {
    const s = state([
      ...base,
      { type: 'train/run-start', resumed: false, classes: ['cup', 'mug'] },
      {
        type: 'train/run-done',
        status: 'done',
        history: [metrics(1, 1, 1)],
        validation: {
          on: 'validation',
          loss: 0.4,
          accuracy: 2 / 3,
          confusion: [
            [1, 1],
            [0, 1],
          ],
          perClass: [0.5, 1],
          misclassified: [{ photoId: 'p2', label: 0, predicted: 1, prob: 0.7 }],
        },
        chosen: 'fine-tuned',
        outcome: 'kept-previous',
      },
    ]);
    const out = html(h(TrainScreen, { state: s, actions }));
    expect(out).toContain('Accuracy 67 % on held-out validation photos, with block5 fine-tuned.');
    expect(out).toContain('The previous classifier was better');
    expect(out).toMatch(/<th scope="row">cup<\/th><td>50 %<\/td>/);
    expect(out).toMatch(/<th scope="row">mug<\/th><td>100 %<\/td>/);
    const table = /<table class="confusion"[\s\S]*?<\/table>/.exec(out)![0];
    expect([...table.matchAll(/<td[^>]*>(\d+)<\/td>/g)].map((m) => Number(m[1]))).toEqual([1, 1, 0, 1]);
    expect(table).toMatch(/<td class="hit"[^>]*>1<\/td><td class="miss"[^>]*>1<\/td>/);
    expect(out).toContain('Misclassified photos (1)');
    expect(out).toMatch(/<img src="blob:p2"[^>]*>.*cup → mug \(70 %\)/s);
  });

  it('marks the classifier in use and allows going back to ImageNet only then', () => {
    let out = html(h(TrainScreen, { state: state(base), actions }));
    expect(out).toMatch(/<button[^>]*data-testid="use-imagenet"[^>]*disabled/);
    out = html(h(TrainScreen, { state: state([...base, { type: 'train/active', id: 'k2' }]), actions }));
    expect(out).toContain('clf k2<strong> (in use)</strong>');
    expect(out).toContain('2 classes · GAP head · fine-tuned · 80 % validation');
    expect(out).not.toMatch(/<button[^>]*data-testid="use-imagenet"[^>]*disabled/);
  });
});

describe('the live view classifier switch', () => {
  it('offers ImageNet and the classifiers of the loaded model only', () => {
    const s = state([
      ...base,
      { type: 'train/classifier-added', entry: clf('other', 'another-model') },
      { type: 'train/active', id: 'k1' },
      { type: 'view', view: 'live' },
    ]);
    const out = html(h(LiveView, { state: s, actions: liveActions }));
    expect(out).toContain('data-testid="classifier-switch"');
    expect(out).toContain('<option value>ImageNet</option>');
    expect(out).toContain('<option selected value="k1">My classifier: clf k1</option>');
    expect(out).toContain('My classifier: clf k2');
    expect(out).not.toContain('clf other');
    const { onClassifier: _drop, ...without } = { ...liveActions, onClassifier: noop };
    expect(html(h(LiveView, { state: s, actions: without as LiveViewActions }))).not.toContain('classifier-switch');
  });

  it('is absent when there is no classifier', () => {
    expect(html(h(ClassifierSwitch, { classifiers: [], onUse: noop }))).toBe('');
  });
});

describe('TrainChart', () => {
  it('scales points into the plot box, the highest at the top', () => {
    expect(chartPoints([0, 1], 1)).toBe('24.0,96.0 216.0,24.0');
    expect(chartPoints([0.5], 1)).toBe('120.0,60.0');
    expect(chartPoints([NaN, 2], 1)).toBe('24.0,96.0 216.0,24.0');
  });

  it('describes an empty history and draws nothing', () => {
    const out = html(h(TrainChart, { title: 'Accuracy', metric: 'acc', history: [] }));
    expect(out).toContain('aria-label="Accuracy: no epoch yet"');
    expect(out).not.toContain('<polyline');
  });
});
