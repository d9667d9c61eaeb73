/**
 * A full-size VGG16 safetensors file in timm's layout (`vgg16.tv_in1k`'s names and shapes, seeded demo
 * weights, 553 MB fp32), written once into `.e2e/weights/` and kept between runs: what "Get ImageNet
 * weights" converts in the e2e test and the benchmark's conversion row.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { demoWeights } from '../../src/core/vgg16/demo';
import { VGG16 } from '../../src/core/vgg16/spec';
import { vggTensors, writeSafetensorsFile } from '../helpers/safetensors';
import { E2E_DIR } from './paths';

export const WEIGHTS_DIR = join(E2E_DIR, 'weights');
/** Served as `<base>models/vgg16.tv_in1k.safetensors` when WEIGHTS_DIR is the server's models folder. */
export const FULL_WEIGHTS_FILE = 'vgg16.tv_in1k.safetensors';

/** The file's path, written (through a temporary name, so a cut-off run is never taken for it) if absent. */
export async function ensureFullWeights(): Promise<string> {
  const path = join(WEIGHTS_DIR, FULL_WEIGHTS_FILE);
  if (existsSync(path) && statSync(path).size > 500e6) return path;
  await mkdir(WEIGHTS_DIR, { recursive: true });
  const tmp = `${path}.tmp`;
  await writeSafetensorsFile(tmp, vggTensors(VGG16, demoWeights(VGG16, 2)));
  await rename(tmp, path);
  return path;
}
