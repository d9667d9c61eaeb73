/**
 * fit's loop around a session that stands in for the step graph: it hands back every parameter and
 * slot as a fresh array, as onnxruntime does, and fit asks for a collection once the replaced ones
 * add up to COLLECT_BYTES.
 */
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/core/train/fit';
import { COLLECT_BYTES, fit, initialFitState } from '../../../src/core/train/fit';
import type { ModelSpec } from '../../../src/core/train/graphs';
import { modelParams, nextName, TRAIN_IO } from '../../../src/core/train/graphs';
import { headConstants, headSpec } from '../../../src/core/train/heads';
import { initSlots, optimizer } from '../../../src/core/train/optim';
import type { Feed, GraphSession } from '../../../src/core/runtime';

const CLASSES = 2;

/** A gap head whose parameters and RMSprop slots take `bytes` in all (a multiple of 8·CLASSES, at least 16·CLASSES). */
function model(bytes: number): ModelSpec {
  const channels = bytes / 4 / 2 / CLASSES - 1;
  return { head: headSpec('gap', CLASSES, [channels, 1, 1]) };
}

/** next:<name> for every parameter and slot (a fresh copy, as a session returns it), loss and accuracy. */
const stepSession: GraphSession = {
  async run(feeds) {
    const out: Record<string, Feed> = {
      [TRAIN_IO.loss]: { dims: [], data: Float32Array.of(0.5) },
      [TRAIN_IO.accuracy]: { dims: [], data: Float32Array.of(1) },
    };
    for (const [name, f] of Object.entries(feeds)) out[nextName(name)] = { dims: f.dims, data: f.data.slice() };
    return out;
  },
  release: async () => {},
};

/** Zero logits for every sample. */
const evalSession: GraphSession = {
  async run(feeds) {
    const n = feeds[TRAIN_IO.features]!.dims[0]!;
    return { [TRAIN_IO.logits]: { dims: [n, CLASSES], data: new Float32Array(n * CLASSES) } };
  },
  release: async () => {},
};

async function collections(stepBytes: number, steps: number): Promise<number> {
  const m = model(stepBytes);
  const opt = optimizer('rmsprop');
  const params = Object.fromEntries(
    modelParams(m).map((p) => [p.name, new Float32Array(p.dims.reduce((a, b) => a * b, 1))]),
  );
  const slots = initSlots(opt, params);
  expect([...Object.values(params), ...Object.values(slots)].reduce((a, p) => a + p.byteLength, 0)).toBe(stepBytes);
  const constants = Object.fromEntries(headConstants(m.head).map((p) => [p.name, new Float32Array(p.dims[0]!)]));
  const c = m.head.featureShape[0];
  const train: Sample[] = Array.from({ length: steps }, (_, i) => ({
    photo: i,
    label: i % CLASSES,
    features: new Float32Array(c),
  }));
  let called = 0;
  const r = await fit(
    { step: stepSession, eval: evalSession },
    m,
    opt,
    { train, val: train.slice(0, 1), constants },
    initialFitState(params, slots, 1),
    { phase: 'head', epochs: 1, batchSize: 1, patience: 1, lr: 0.1, collect: () => called++ },
  );
  expect(r.state.step).toBe(steps);
  return called;
}

describe('fit: collections as steps replace the parameters', () => {
  it('asks for one each time the replaced parameters and slots reach COLLECT_BYTES', async () => {
    expect(await collections(COLLECT_BYTES / 2, 5)).toBe(2);
    expect(await collections(COLLECT_BYTES, 3)).toBe(3);
  });

  it('does not ask while they stay below it', async () => {
    expect(await collections(48 * (CLASSES + 1), 20)).toBe(0);
  });
});
