/**
 * `convlens train` and `convlens classify --classifier` end to end, in-process, on a tiny-vgg bundle
 * and a folder of real photos (one sub-folder per class).
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main';
import { buildTinyBundle, capture } from '../../helpers/cli';

let dir: string;

async function run(argv: string[]): Promise<string[]> {
  const { code, out } = await capture(argv);
  expect(code).toBe(0);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'convlens-train-'));
  await buildTinyBundle(join(dir, 'tiny'));
  for (const [cls, files] of [
    ['chessboard', ['left01.jpg', 'left02.jpg', 'left03.jpg']],
    ['grass', ['grass_r0c0.png', 'grass_r0c1.png', 'grass_r0c2.png']],
  ] as const) {
    await mkdir(join(dir, 'photos', cls), { recursive: true });
    for (const f of files) await copyFile(`test/fixtures/photos/${cls}/${f}`, join(dir, 'photos', cls, f));
  }
  await writeFile(join(dir, 'photos', 'grass', 'notes.txt'), 'not a photo');
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('convlens train / classify --classifier', () => {
  it('trains a classifier file from a folder of class folders, then classifies with it', async () => {
    const file = join(dir, 'my.classifier');
    const [line] = await run([
      'train',
      join(dir, 'photos'),
      '--model',
      join(dir, 'tiny'),
      '--out',
      file,
      '--epochs',
      '3',
      '--variants',
      '2',
      '--head',
      'gap',
      '--json',
    ]);
    const summary = JSON.parse(line!);
    expect(summary).toMatchObject({ out: file, classes: ['chessboard', 'grass'], chosen: 'head', epochs: 3 });
    expect((await readFile(file)).length).toBe(summary.bytes);

    const out = await run([
      'classify',
      'test/fixtures/photos/grass/grass_r2c2.png',
      '--model',
      join(dir, 'tiny'),
      '--classifier',
      file,
      '--json',
    ]);
    const r = JSON.parse(out[0]!);
    expect(r.top5).toHaveLength(2);
    expect(r.top5.map((p: { label: string }) => p.label).sort()).toEqual(['chessboard', 'grass']);
    expect(r.heatmap.dims).toEqual([2, 2]);
    // --class takes the classifier's names.
    const [forced] = await run([
      'classify',
      'test/fixtures/photos/grass/grass_r2c2.png',
      '--model',
      join(dir, 'tiny'),
      '--classifier',
      file,
      '--class',
      'chessboard',
      '--json',
    ]);
    expect(JSON.parse(forced!).target).toEqual({ index: 0, label: 'chessboard' });

    // --from continues from a classifier: with a learning rate too small to move it, it classifies alike.
    const again = join(dir, 'again.classifier');
    const from = ['--model', join(dir, 'tiny'), '--head', 'gap', '--variants', '2', '--from', file];
    await run(['train', join(dir, 'photos'), ...from, '--out', again, '--epochs', '1', '--lr', '1e-12', '--json']);
    const probs = async (c: string) =>
      JSON.parse(
        (
          await run([
            'classify',
            'test/fixtures/photos/grass/grass_r2c2.png',
            '--model',
            join(dir, 'tiny'),
            '--classifier',
            c,
            '--json',
          ])
        )[0]!,
      ).top5.map((p: { prob: number }) => p.prob) as number[];
    const [p1, p2] = [await probs(file), await probs(again)];
    p2.forEach((p, i) => expect(p).toBeCloseTo(p1[i]!, 5));
    await expect(run(['train', join(dir, 'photos'), ...from, '--head', 'dense', '--out', again])).rejects.toMatchObject(
      {
        name: 'TrainingInputError',
        message: /cannot continue from that classifier/,
      },
    );
    await expect(
      run(['train', join(dir, 'photos'), ...from.slice(0, -1), join(dir, 'missing'), '--out', again]),
    ).rejects.toMatchObject({ name: 'TrainFolderError', message: /--from/ });
  }, 120_000);

  it('prints a readable log and rejects unusable folders and options', async () => {
    const out = await run([
      'train',
      join(dir, 'photos'),
      '--model',
      join(dir, 'tiny'),
      '--out',
      join(dir, 'b.classifier'),
      '--epochs',
      '2',
      '--variants',
      '1',
    ]);
    expect(out[0]).toMatch(/training 2 classes \(chessboard: 3, grass: 3\)/);
    expect(out.some((l) => /head epoch +2 +loss/.test(l))).toBe(true);
    expect(out.at(-1)).toMatch(/wrote .*b\.classifier .*validation accuracy/);
    await mkdir(join(dir, 'one', 'only'), { recursive: true });
    await expect(
      main(['train', join(dir, 'one'), '--model', join(dir, 'tiny'), '--out', join(dir, 'x')]),
    ).rejects.toMatchObject({
      name: 'TrainFolderError',
      message: /at least two/,
    });
    await expect(main(['train', join(dir, 'photos'), '--model', join(dir, 'tiny')])).rejects.toMatchObject({
      name: 'UsageError',
    });
    await expect(main(['train', join(dir, 'photos'), '--out', 'x', '--epochs', 'many'])).rejects.toMatchObject({
      name: 'UsageError',
    });
    await expect(
      main([
        'classify',
        'test/fixtures/photos/grass/grass_r2c2.png',
        '--model',
        join(dir, 'tiny'),
        '--classifier',
        join(dir, 'photos', 'grass', 'notes.txt'),
      ]),
    ).rejects.toMatchObject({ name: 'ClassifierFormatError' });
  }, 120_000);
});
