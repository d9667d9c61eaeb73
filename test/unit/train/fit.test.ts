/**
 * fit's loop around a session that stands in for the step graph: it hands back every parameter and
 * slot as a fresh array, as onnxruntime does; fit asks for a collection once the replaced ones add up
 * to COLLECT_BYTES, and gives back (discard) the outputs no one else can hold.
 */
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../src/core/train/fit';
import { COLLECT_BYTES, fit, initialFitState } from '../../../src/core/train/fit';
import type { ModelSpec } from '../../../src/core/train/graphs';
import { modelParams, nextName, TRAIN_IO } from '../../../src/core/train/graphs';
import { headConstants, headSpec } from '../../../src/core/train/heads';
import { initSlots, optimizer } from '../../../src/core/train/optim';
import type { Feed, GraphSession } from '../../../src/core/runtime';
import { discard } from '../../../src/core/runtime';

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

describe('fit gives arrays back once nothing can read them again', () => {
  /** A step that moves every parameter and slot by +1 and refuses a feed that was given back (NaN). */
  const moving: GraphSession = {
    async run(feeds) {
      const out: Record<string, Feed> = {
        [TRAIN_IO.loss]: { dims: [], data: Float32Array.of(0.5) },
        [TRAIN_IO.accuracy]: { dims: [], data: Float32Array.of(1) },
      };
      for (const [name, f] of Object.entries(feeds)) {
        if (f.data instanceof Float32Array && f.data.some(Number.isNaN)) throw new Error(`'${name}' was given back`);
        out[nextName(name)] = { dims: f.dims, data: (f.data as Float32Array).map((x) => x + 1) };
      }
      return out;
    },
    release: async () => {},
  };

  /** 3 epochs of 4 steps; the zero logits never beat the start, which stays the best. */
  async function run(give: (a: Float32Array) => void, owned: 'none' | 'slots') {
    const m = model(16 * CLASSES * 4);
    const opt = optimizer('rmsprop');
    const params = Object.fromEntries(
      modelParams(m).map((p) => [p.name, new Float32Array(p.dims.reduce((a, b) => a * b, 1))]),
    );
    const start = initialFitState(params, initSlots(opt, params), 1);
    const constants = Object.fromEntries(headConstants(m.head).map((p) => [p.name, new Float32Array(p.dims[0]!)]));
    const train: Sample[] = Array.from({ length: 4 }, (_, i) => ({
      photo: i,
      label: i % CLASSES,
      features: new Float32Array(m.head.featureShape[0]),
    }));
    const epochEnds: Float32Array[][] = [];
    const r = await fit({ step: moving, eval: evalSession }, m, opt, { train, val: train, constants }, start, {
      phase: 'head',
      epochs: 3,
      batchSize: 1,
      patience: 3,
      lr: 0.1,
      discard: give,
      owned: owned === 'slots' ? Object.values(start.slots) : [],
      onEpoch: (_, s) => void epochEnds.push([...Object.values(s.params), ...Object.values(s.slots)]),
    });
    return { r, start, epochEnds };
  }

  it("each step's outputs when the next replaces them, each epoch's when the next ends; training is unchanged", async () => {
    const given: Float32Array[] = [];
    const poisoned = await run((a) => (given.push(a), a.fill(NaN)), 'none');
    const kept = await run(() => {}, 'none');
    const tensors = Object.keys(kept.r.state.params).length + Object.keys(kept.r.state.slots).length;
    // Steps 2–4 of each epoch replace the one before; epochs 2 and 3 replace epochs 1 and 2.
    expect(given).toHaveLength(3 * 3 * tensors + 2 * tensors);
    for (const a of [...poisoned.epochEnds[0]!, ...poisoned.epochEnds[1]!]) expect(given).toContain(a);
    const held = [
      ...Object.values(poisoned.start.params),
      ...Object.values(poisoned.start.slots),
      ...poisoned.epochEnds[2]!,
    ];
    expect(given.filter((a) => held.includes(a))).toEqual([]);
    expect(poisoned.r.state.best!.params).toBe(poisoned.start.params);
    expect(poisoned.r.state.history).toEqual(kept.r.state.history);
    expect(poisoned.r.state.params).toEqual(kept.r.state.params);
    expect(poisoned.r.state.params[Object.keys(kept.r.state.params)[0]!]![0]).toBe(12);
  });

  it("the start's arrays only where the caller hands them over (owned), and never the best", async () => {
    const given: Float32Array[] = [];
    const { start, r } = await run((a) => (given.push(a), a.fill(NaN)), 'slots');
    for (const a of Object.values(start.slots)) expect(given).toContain(a);
    for (const a of Object.values(start.params)) expect(given).not.toContain(a);
    expect(Object.values(r.state.best!.params).every((a) => !a.some(Number.isNaN))).toBe(true);
  });
});

describe('discard', () => {
  const withTransfer = (a: Float32Array) => {
    const calls: number[] = [];
    Object.defineProperty(a.buffer, 'transfer', { value: (n: number) => (calls.push(n), new ArrayBuffer(n)) });
    return calls;
  };

  it('detaches the buffer of an array that owns it (transfer(0))', () => {
    const a = new Float32Array(8);
    const calls = withTransfer(a);
    discard(a);
    expect(calls).toEqual([0]);
  });

  it('leaves the array detached, so that a later read finds it empty (with or without transfer)', () => {
    const a = new Float32Array(8).fill(1);
    discard(a);
    expect(a.length).toBe(0);
    expect(a.buffer.byteLength).toBe(0);
  });

  it('leaves a view into a larger buffer alone', () => {
    const whole = new Float32Array(8);
    const calls = withTransfer(whole);
    discard(whole.subarray(2, 4));
    discard(whole.subarray(0, 4));
    expect(calls).toEqual([]);
  });
});
