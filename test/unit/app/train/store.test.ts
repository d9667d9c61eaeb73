/** The training screen's IndexedDB store and the worker's feature cache, against fake-indexeddb. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { TrainStore, type CheckpointRecord } from '../../../../src/app/train/store';
import type { FeatureKey } from '../../../../src/core/train/features';
import { IdbFeatureCache } from '../../../../workers/engine/library/feature-cache';

let n = 0;
const fresh = () => `train-store-test-${process.pid}-${n++}`;

const photo = (id: string, classId: string, created: number) => ({
  id,
  classId,
  bytes: new Uint8Array([1, 2, 3, created]),
  type: 'image/jpeg',
  created,
});

describe('TrainStore', () => {
  it('keeps classes and photos across connections, in creation order', async () => {
    const name = fresh();
    const a = new TrainStore(name);
    await a.putClass({ id: 'c2', name: 'mug', colour: '#00ff00', created: 2 });
    await a.putClass({ id: 'c1', name: 'cup', colour: '#ff0000', created: 1 });
    await a.putPhoto(photo('p2', 'c1', 5));
    await a.putPhoto(photo('p1', 'c1', 4));
    await a.putPhoto(photo('p3', 'c2', 6));
    a.close();
    const b = new TrainStore(name);
    expect((await b.classes()).map((c) => c.name)).toEqual(['cup', 'mug']);
    const photos = await b.photos();
    expect(photos.map((p) => p.id)).toEqual(['p1', 'p2', 'p3']);
    expect(photos[0]!.bytes).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect((await b.photo('p3'))?.classId).toBe('c2');
    b.close();
  });

  it('deletes a class together with its photos, and single photos', async () => {
    const s = new TrainStore(fresh());
    await s.putClass({ id: 'c1', name: 'a', colour: '#000000', created: 1 });
    await s.putClass({ id: 'c2', name: 'b', colour: '#000000', created: 2 });
    await s.putPhoto(photo('p1', 'c1', 1));
    await s.putPhoto(photo('p2', 'c1', 2));
    await s.putPhoto(photo('p3', 'c2', 3));
    await s.deleteClass('c1');
    expect((await s.classes()).map((c) => c.id)).toEqual(['c2']);
    expect((await s.photos()).map((p) => p.id)).toEqual(['p3']);
    await s.deletePhoto('p3');
    expect(await s.photos()).toEqual([]);
    expect(await s.photo('p3')).toBeUndefined();
  });

  it('stores classifier files and the checkpoint with its Float32Arrays intact', async () => {
    const name = fresh();
    const s = new TrainStore(name);
    const bytes = new Uint8Array([9, 8, 7]);
    await s.putClassifier({
      id: 'k1',
      name: 'a · b',
      created: '2026-01-02T00:00:00.000Z',
      modelId: 'm',
      classes: ['a', 'b'],
      head: 'gap',
      fineTuned: false,
      valAcc: 0.75,
      bytes,
    });
    await s.putClassifier({ ...(await s.classifier('k1'))!, id: 'k0', created: '2026-01-01T00:00:00.000Z' });
    expect((await s.classifiers()).map((c) => c.id)).toEqual(['k0', 'k1']);
    expect((await s.classifier('k1'))!.bytes).toEqual(bytes);
    await s.deleteClassifier('k0');
    expect((await s.classifiers()).map((c) => c.id)).toEqual(['k1']);

    expect(await s.checkpoint()).toBeUndefined();
    const checkpoint = {
      request: {
        modelId: 'm',
        classes: ['a', 'b'],
        photos: [{ id: 'p1', label: 0 }],
        settings: { head: 'dense', fineTune: false, variants: 2, epochs: 3, patience: 2 },
      },
      state: { version: 1, key: 'k', split: { train: [0], val: [] }, head: { w: new Float32Array([0.5, -1]) } },
      at: 12,
    } as unknown as CheckpointRecord;
    await s.putCheckpoint(checkpoint);
    s.close();
    const again = new TrainStore(name);
    const back = await again.checkpoint();
    expect(back).toEqual(checkpoint);
    expect((back!.state.head as unknown as { w: Float32Array }).w).toBeInstanceOf(Float32Array);
    await again.putCheckpoint(undefined);
    expect(await again.checkpoint()).toBeUndefined();
  });
});

describe('IdbFeatureCache (the worker side)', () => {
  const key = (photoId: string, variant = 0): FeatureKey => ({
    photoId,
    variant,
    layer: 'block5_pool',
    modelSha: 'abc',
    recipe: 's32',
  });

  it('returns what was put, by the whole key, across connections', async () => {
    const name = fresh();
    const a = new IdbFeatureCache(name);
    await a.put(key('p|1'), new Float32Array([1, 2, 3]));
    await a.put(key('p|1', 1), new Float32Array([4]));
    expect(await a.get(key('p|1'))).toEqual(new Float32Array([1, 2, 3]));
    expect(await a.get(key('p|1', 2))).toBeUndefined();
    expect(await a.get({ ...key('p|1'), recipe: 's64' })).toBeUndefined();
    a.close();
    const b = new IdbFeatureCache(name);
    expect(await b.count()).toBe(2);
    const back = await b.get(key('p|1', 1));
    expect(back).toBeInstanceOf(Float32Array);
    expect(back).toEqual(new Float32Array([4]));
  });

  it('forgets the features of deleted photos only', async () => {
    const c = new IdbFeatureCache(fresh());
    await c.put(key('a'), new Float32Array([1]));
    await c.put(key('a', 1), new Float32Array([2]));
    await c.put(key('ba'), new Float32Array([3]));
    await c.put(key('x|a'), new Float32Array([4]));
    expect(await c.forget([])).toBe(0);
    expect(await c.forget(['a'])).toBe(2);
    expect(await c.count()).toBe(2);
    expect(await c.get(key('ba'))).toEqual(new Float32Array([3]));
    expect(await c.get(key('x|a'))).toEqual(new Float32Array([4]));
    expect(await c.forget(['x|a', 'ba'])).toBe(2);
    expect(await c.count()).toBe(0);
  });
});
