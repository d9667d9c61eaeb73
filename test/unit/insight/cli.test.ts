/** `convlens activations`, `convlens filters` and `classify --cam/--layer`, in-process on a tiny bundle. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../../../src/cli/imageio';
import { main } from '../../../src/cli/main';
import { buildTinyBundle, capture } from '../../helpers/cli';

const photo = 'test/fixtures/photos/misc/chelsea.png';
let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convlens-insight-'));
  model = join(dir, 'tiny');
  await buildTinyBundle(model);
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('convlens insight commands', () => {
  it('activations writes a viridis grid of every channel', async () => {
    const out = join(dir, 'grid.png');
    const r = await capture(['activations', photo, '--layer', 'block3_conv1', '--out', out, '--model', model]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/block3_conv1 \[8×8×8\]/);
    const img = await readImage(out);
    // 8 channels of 8×8, enlarged 7× to 56 px, in one row with 2 px gaps.
    expect([img.width, img.height]).toEqual([8 * 56 + 9 * 2, 56 + 2 * 2]);
  });

  it('filters writes a grid of N gradient-ascent pictures', async () => {
    const out = join(dir, 'filters.png');
    const r = await capture([
      'filters',
      '--layer',
      'block2_conv1',
      '--count',
      '4',
      '--steps',
      '3',
      '--size',
      '32',
      '--out',
      out,
      '--model',
      model,
    ]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/4 filters, 3 steps of 1 at 32 px/);
    const img = await readImage(out);
    expect([img.width, img.height]).toEqual([4 * 32 + 5 * 2, 32 + 2 * 2]);
  });

  it('filters --book uses the recipe exactly (no jitter, no TV, post-ReLU)', async () => {
    const r = await capture([
      'filters',
      '--layer',
      'block1_conv1',
      '--count',
      '1',
      '--steps',
      '2',
      '--size',
      '32',
      '--book',
      '--out',
      join(dir, 'b.png'),
      '--model',
      model,
    ]);
    expect(r.out[0]).toMatch(/jitter 0, tv 0, activation/);
  });

  it('classify --cam gradcam++ --layer block4_conv1 explains that layer', async () => {
    const heat = join(dir, 'heat.png');
    const r = await capture([
      'classify',
      photo,
      '--cam',
      'gradcam++',
      '--layer',
      'block4_conv1',
      '--json',
      '--heatmap',
      heat,
      '--model',
      model,
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out[0]!);
    expect(j).toMatchObject({ cam: 'gradcam++', layer: 'block4_conv1', model: 'tiny' });
    expect(j.heatmap.dims).toEqual([4, 4]);
    expect(Math.max(...j.heatmap.data)).toBeLessThanOrEqual(1);
    const src = await readImage(photo);
    expect((await readImage(heat)).width).toBe(src.width);
    const text = await capture(['classify', photo, '--cam', 'layercam', '--model', model]);
    expect(text.out.at(-1)).toMatch(/layercam at block5_conv3 \(2×2\)/);
  });

  it('rejects a bad method or a bad layer name with a clear error', async () => {
    await expect(main(['classify', photo, '--cam', 'scorecam', '--model', model])).rejects.toMatchObject({
      name: 'UsageError',
    });
    await expect(
      main(['activations', photo, '--layer', 'block9_conv1', '--out', join(dir, 'x.png'), '--model', model]),
    ).rejects.toThrow(/not a conv or pool layer.*block1_conv1/);
    await expect(
      main(['filters', '--layer', 'block1_conv1', '--out', join(dir, 'x.png'), '--steps', '2.5', '--model', model]),
    ).rejects.toMatchObject({
      name: 'UsageError',
    });
  });
});
