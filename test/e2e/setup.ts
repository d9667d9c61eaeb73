/**
 * vitest globalSetup for the e2e suite: build the app with the test page (`--env e2e`) unless the
 * build is newer than its sources, write the model bundle the tests download (TINY_VGG int8 cut into
 * 4 kB shards, so resume and per-shard faults have several shards to work with), the full-size demo
 * bundle (VGG16 int8, kept between runs), and the fake-camera video made of fixture photos.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { buildBundle } from '../../src/core/bundle/build';
import { demoWeights } from '../../src/core/vgg16/demo';
import { TINY_VGG, VGG16 } from '../../src/core/vgg16/spec';
import { writeBundle } from '../../src/cli/fs-store';
import { needsBuild } from '../../src/cli/start';
import { DIST, E2E_DIR, FULL_MODELS, MODEL_ID, MODELS, ROOT, Y4M } from './paths';
import { writeY4m } from './y4m';

const PHOTOS = ['misc/chelsea.png', 'misc/coffee.png', 'misc/astronaut.png', 'misc/rocket.jpg'].map((p) =>
  join(ROOT, 'test/fixtures/photos', p),
);

export default async function setup(): Promise<void> {
  await mkdir(E2E_DIR, { recursive: true });
  if (process.env.E2E_REBUILD === '1' || needsBuild(ROOT, DIST, ['test/e2e/page'])) {
    const t0 = Date.now();
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'node_modules/webpack-cli/bin/cli.js',
        '--config',
        'webpack.config.ts',
        '--mode',
        'production',
        '--env',
        'e2e',
      ],
      { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (r.status !== 0) throw new Error(`e2e build failed (exit ${r.status ?? r.signal})`);
    console.log(`e2e: built the app in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  await rm(MODELS, { recursive: true, force: true });
  const { manifest, shards } = await buildBundle({
    id: MODEL_ID,
    cfg: TINY_VGG,
    weights: demoWeights(TINY_VGG, 1),
    source: 'demo',
    pretrained: false,
    seed: 1,
    preprocessing: 'caffe',
    labels: 'imagenet',
    quantization: 'int8',
    maxShardBytes: 4096,
  });
  await writeBundle(join(MODELS, MODEL_ID), manifest, shards);
  const full = join(FULL_MODELS, MODEL_ID);
  if (!existsSync(join(full, 'manifest.json'))) {
    const bundle = await buildBundle({
      id: MODEL_ID,
      cfg: VGG16,
      weights: demoWeights(VGG16, 1),
      source: 'demo',
      pretrained: false,
      seed: 1,
      preprocessing: 'caffe',
      labels: 'imagenet',
      quantization: 'int8',
    });
    await writeBundle(full, bundle.manifest, bundle.shards);
  }
  if (!existsSync(Y4M)) await writeY4m(Y4M, { photos: PHOTOS, width: 320, height: 240, framesPerPhoto: 15 });
}
