/**
 * The `convlens` CLI end to end, in-process: build a bundle, classify a real photo (text, JSON and
 * an overlay PNG), clear one-line errors. The tiny architecture keeps this fast; the full-size
 * VGG16 path is covered in full-size.test.ts.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main';
import { buildTinyBundle, capture } from '../../helpers/cli';
import { readImage } from '../../../src/cli/imageio';

const photo = 'test/fixtures/photos/misc/chelsea.png';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convlens-cli-'));
  await buildTinyBundle(join(dir, 'tiny'));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('convlens classify', () => {
  it('prints one JSON object per image with top-5, target and a normalised heatmap', async () => {
    const { code, out } = await capture([
      'classify',
      photo,
      'test/fixtures/photos/misc/coffee.png',
      '--model',
      join(dir, 'tiny'),
      '--json',
    ]);
    expect(code).toBe(0);
    expect(out).toHaveLength(2);
    const r = JSON.parse(out[0]!);
    expect(r.image).toBe(photo);
    expect(r.model).toBe('tiny');
    expect(r.top5).toHaveLength(5);
    const probs = r.top5.map((p: { prob: number }) => p.prob);
    expect([...probs].sort((a: number, b: number) => b - a)).toEqual(probs);
    expect(r.target.index).toBe(r.top5[0].index);
    expect(r.heatmap.dims).toEqual([2, 2]);
    expect(r.heatmap.data).toHaveLength(4);
    expect(Math.max(...r.heatmap.data)).toBeCloseTo(1, 5);
    expect(Math.min(...r.heatmap.data)).toBeGreaterThanOrEqual(0);
    expect(r.ms.total).toBeGreaterThan(0);
  });

  it('--class picks the explained class by index or label', async () => {
    const byIndex = JSON.parse(
      (await capture(['classify', photo, '--model', join(dir, 'tiny'), '--class', '3', '--json'])).out[0]!,
    );
    expect(byIndex.target.index).toBe(3);
    const byLabel = JSON.parse(
      (await capture(['classify', photo, '--model', join(dir, 'tiny'), '--class', byIndex.target.label, '--json']))
        .out[0]!,
    );
    expect(byLabel.target.index).toBe(3);
  });

  it('writes the overlay PNG at the photo size, changed where the heatmap is hot', async () => {
    const png = join(dir, 'overlay.png');
    await capture(['classify', photo, '--model', join(dir, 'tiny'), '--heatmap', png]);
    const [src, over] = [await readImage(photo), await readImage(png)];
    expect([over.width, over.height]).toEqual([src.width, src.height]);
    let changed = 0;
    for (let i = 0; i < src.data.length; i += 4)
      if (src.data[i] !== over.data[i] || src.data[i + 2] !== over.data[i + 2]) changed++;
    expect(changed / (src.width * src.height)).toBeGreaterThan(0.2);
  });
});

describe('clear errors', () => {
  it.each([
    [['classify', 'no/such.jpg', '--model', 'MODEL'], /no\/such\.jpg/],
    [['classify', 'package.json', '--model', 'MODEL'], /ImageDecodeError|not a PNG or JPEG/],
    [['classify', photo, '--model', 'NOPE'], /nope/],
    [['model', 'build', '--weights', 'missing.h5', '--out', 'OUT'], /missing\.h5: no such file/],
    [['frobnicate'], /unknown command/],
  ])('%j', async (argv, pattern) => {
    const args = argv.map((a) =>
      a.replace('MODEL', join(dir, 'tiny')).replace('NOPE', join(dir, 'nope')).replace('OUT', join(dir, 'x')),
    );
    await expect(main(args)).rejects.toThrow(pattern);
  });

  it('rejects a bundle whose shard was altered', async () => {
    const manifest = JSON.parse(await readFile(join(dir, 'tiny', 'manifest.json'), 'utf8'));
    const copy = join(dir, 'tampered');
    await capture(['model', 'build', '--weights', 'demo', '--arch', 'tiny-vgg', '--out', copy]);
    const shard = join(copy, manifest.parts[0].shards[0].file);
    const bytes = await readFile(shard);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(shard, bytes);
    await expect(main(['classify', photo, '--model', copy])).rejects.toMatchObject({ name: 'ShardHashError' });
  });
});
