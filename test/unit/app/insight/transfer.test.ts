/** The worker's insight results travel as transfers: every big buffer is in the list, views are copied first. */
import { describe, expect, it } from 'vitest';
import {
  activationsTransfer,
  deletionTransfer,
  explanationTransfer,
  filtersTransfer,
} from '../../../../workers/engine/insight-transfer';
import type { Explanation } from '../../../../workers/engine/protocol';

/** Post the value the way a worker would (structuredClone with the transfer list). */
const post = <T>(t: { value: T; transfer: ArrayBuffer[] }): T => structuredClone(t.value, { transfer: t.transfer });

const explanation = (data: Float32Array): Explanation => ({
  top5: [],
  target: { index: 0, label: 'x' },
  cam: 'gradcam',
  layer: 'block5_conv3',
  heatmap: { dims: [2, 2], data },
  ms: { run: 0, total: 0 },
});

describe('insight transfers', () => {
  it('activation maps: the buffer moves (the sender keeps nothing), the receiver gets the values', () => {
    const data = Float32Array.from({ length: 64 * 4 }, (_, i) => i);
    const t = activationsTransfer({ layer: 'block1_conv1', dims: [64, 2, 2], data });
    expect(t.value.data).toBe(data); // no copy when the array owns its buffer
    expect(t.transfer).toEqual([data.buffer]);
    const got = post(t);
    expect(data.byteLength).toBe(0); // detached: it was moved, not copied
    expect(got.data[255]).toBe(255);
    expect(got.dims).toEqual([64, 2, 2]);
  });

  it('a view into a bigger buffer is copied first, so the engine keeps its buffer', () => {
    const big = new Float32Array(100).fill(3);
    const view = big.subarray(10, 26);
    const t = activationsTransfer({ layer: 'l', dims: [4, 2, 2], data: view });
    expect(t.value.data).not.toBe(view);
    expect(t.transfer[0]!.byteLength).toBe(16 * 4);
    post(t);
    expect(big.byteLength).toBe(400);
    expect(big[0]).toBe(3);
  });

  it('filter pictures: every picture buffer once', () => {
    const shared = new Uint8ClampedArray(8).fill(9);
    const pictures = [0, 1, 2].map((filter) => ({
      filter,
      image: { width: 1, height: 1, data: filter === 2 ? shared.subarray(4) : new Uint8ClampedArray(4).fill(filter) },
      scores: [1],
    }));
    const t = filtersTransfer({ layer: 'l', settings: {} as never, pictures });
    expect(t.transfer).toHaveLength(3);
    expect(new Set(t.transfer).size).toBe(3);
    expect(t.transfer).toContain(pictures[0]!.image.data.buffer);
    const got = post(t);
    expect(got.pictures.map((p) => p.image.data[0])).toEqual([0, 1, 9]);
    expect(pictures[0]!.image.data.byteLength).toBe(0);
    expect(shared.byteLength).toBe(8); // the shared buffer was copied, not moved
  });

  it('explanations and deletion results move their heatmap', () => {
    const heat = Float32Array.of(0, 0.5, 1, 0.25);
    const e = explanationTransfer(explanation(heat));
    expect(e.transfer).toEqual([heat.buffer]);
    expect(post(e).heatmap.data[1]).toBe(0.5);
    expect(heat.byteLength).toBe(0);

    const heat2 = Float32Array.of(1, 2, 3, 4);
    const curve = { fractions: [0, 1], scores: [1, 0], auc: 0.5 };
    const d = deletionTransfer({ explanation: explanation(heat2), curve, random: [curve] });
    expect(d.transfer).toEqual([heat2.buffer]);
    expect(post(d).explanation.heatmap.data[3]).toBe(4);
  });
});
