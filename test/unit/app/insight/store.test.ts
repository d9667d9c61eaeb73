/** The filter gallery's IndexedDB cache, on fake-indexeddb. */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { IdbFilterCache } from '../../../../src/app/insight/store';
import { DEFAULT_FILTER_SETTINGS } from '../../../../src/core/insight/filters';

const image = (v: number) => ({ width: 2, height: 1, data: Uint8ClampedArray.of(v, v, v, 255, 0, 0, 0, 255) });
let n = 0;
const fresh = () => `convlens-insight-test-${n++}`;

describe('IdbFilterCache', () => {
  it('returns what was stored, in the order asked, undefined for the rest', async () => {
    const cache = new IdbFilterCache(fresh());
    const s = DEFAULT_FILTER_SETTINGS;
    expect(await cache.get('m', 'block1_conv1', [0, 1], s)).toEqual([undefined, undefined]);
    await cache.put(
      'm',
      'block1_conv1',
      [
        { filter: 1, image: image(10) },
        { filter: 3, image: image(30) },
      ],
      s,
    );
    const got = await cache.get('m', 'block1_conv1', [3, 0, 1], s);
    expect(got.map((g) => g?.data[0])).toEqual([30, undefined, 10]);
    expect(got[0]).toMatchObject({ width: 2, height: 1 });
    expect(got[0]!.data).toBeInstanceOf(Uint8ClampedArray);
    cache.close();
  });

  it('keys on model, layer, filter and every setting', async () => {
    const cache = new IdbFilterCache(fresh());
    const s = DEFAULT_FILTER_SETTINGS;
    await cache.put('m', 'block1_conv1', [{ filter: 0, image: image(1) }], s);
    const miss = async (model: string, layer: string, settings = s) =>
      (await cache.get(model, layer, [0], settings))[0];
    expect(await miss('m', 'block1_conv1')).toBeDefined();
    expect(await miss('other', 'block1_conv1')).toBeUndefined();
    expect(await miss('m', 'block1_conv2')).toBeUndefined();
    for (const change of [{ steps: 41 }, { tv: 0 }, { jitter: 0 }, { seed: 2 }, { size: 160 }, { step: 2 }])
      expect(await miss('m', 'block1_conv1', { ...s, ...change })).toBeUndefined();
    cache.close();
  });

  it('survives closing and reopening the database (a page reload)', async () => {
    const name = fresh();
    const a = new IdbFilterCache(name);
    await a.put('m', 'l', [{ filter: 5, image: image(55) }], DEFAULT_FILTER_SETTINGS);
    a.close();
    const b = new IdbFilterCache(name);
    expect((await b.get('m', 'l', [5], DEFAULT_FILTER_SETTINGS))[0]?.data[0]).toBe(55);
    b.close();
  });
});
