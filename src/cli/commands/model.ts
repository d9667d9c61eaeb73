/** `convlens model build` and `convlens model export`. */
import { readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { buildBundle } from '../../core/bundle/build';
import { loadBundle, weightRefs } from '../../core/bundle/load';
import { buildAnalyzeGraph } from '../../core/graphs/analyze';
import { encodeModel } from '../../core/onnx/encode';
import { embedExternalData } from '../../core/onnx/external';
import { demoWeights } from '../../core/vgg16/demo';
import { readKerasH5 } from '../../core/vgg16/keras-h5';
import { readOnnxZoo } from '../../core/vgg16/onnx-zoo';
import type { PreprocessMode, VggConfig, VggWeights } from '../../core/vgg16/spec';
import { TINY_VGG, VGG16 } from '../../core/vgg16/spec';
import type { WeightSource } from '../../../workers/engine/protocol';
import type { BundleManifest } from '../../core/bundle/manifest';
import { FsBundleStore, writeBundle } from '../fs-store';
import { buildFromSafetensors, isSafetensors } from './model-safetensors';

const ARCHS: Record<string, VggConfig> = { vgg16: VGG16, 'tiny-vgg': TINY_VGG };

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

export class InputFileError extends Error {
  override name = 'InputFileError';
}

async function readInput(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch {
    throw new InputFileError(`${path}: no such file`);
  }
}

interface Imported {
  weights: VggWeights;
  source: WeightSource;
  pretrained: boolean;
  preprocessing: PreprocessMode;
}

/** Weights from the demo seed, a Keras .h5 or an ONNX-zoo .onnx (sniffed by content, not name). */
export async function importWeights(spec: string, cfg: VggConfig, seed: number): Promise<Imported> {
  if (spec === 'demo')
    return { weights: demoWeights(cfg, seed), source: 'demo', pretrained: false, preprocessing: 'caffe' };
  const bytes = await readInput(spec);
  if (HDF5_MAGIC.every((b, i) => bytes[i] === b)) {
    const { weights } = await readKerasH5(bytes, cfg);
    return { weights, source: 'keras-h5', pretrained: true, preprocessing: 'caffe' };
  }
  const { weights } = readOnnxZoo(bytes, cfg);
  return { weights, source: 'onnx-zoo', pretrained: true, preprocessing: 'torch' };
}

export async function buildCommand(o: {
  weights: string;
  quant: 'int8' | 'fp32';
  seed: number;
  arch: string;
  out: string;
  cache?: string;
  sha256?: string;
}): Promise<void> {
  const cfg = ARCHS[o.arch];
  if (!cfg) throw new InputFileError(`unknown --arch '${o.arch}' (vgg16 or tiny-vgg)`);
  const t0 = performance.now();
  if (/^https?:\/\//i.test(o.weights) || (o.weights !== 'demo' && (await isSafetensors(o.weights)))) {
    const manifest = await buildFromSafetensors({ ...o, cfg, id: basename(resolve(o.out)) });
    report(o.out, manifest, o.quant, t0);
    return;
  }
  if (o.sha256 !== undefined) throw new InputFileError('--sha256 checks a safetensors file (a URL or .safetensors)');
  const imported = await importWeights(o.weights, cfg, o.seed);
  const { manifest, shards } = await buildBundle({
    id: basename(resolve(o.out)),
    cfg,
    ...imported,
    seed: imported.source === 'demo' ? o.seed : undefined,
    labels: 'imagenet',
    quantization: o.quant,
  });
  await writeBundle(o.out, manifest, shards);
  report(o.out, manifest, o.quant, t0);
}

function report(out: string, manifest: BundleManifest, quant: string, t0: number): void {
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const parts = manifest.parts.map((p) => `${p.name} ${mb(p.bytes)} in ${p.shards.length} shards`).join(', ');
  console.log(
    `wrote ${out}: ${manifest.source}${manifest.pretrained ? '' : ' (demo weights, not pretrained)'}, ${quant}; ${parts}; ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

/** The fused forward + Grad-CAM graph as ONE standalone .onnx file (weights embedded). */
export async function exportCommand(o: { model: string; out: string; score: 'probability' | 'logit' }): Promise<void> {
  const dir = resolve(o.model);
  const store = new FsBundleStore(dirname(dir));
  const id = basename(dir);
  const manifest = await store.manifest(id);
  const parts = manifest.parts.map((p) => p.name);
  const { files } = await loadBundle(store, id, parts);
  const graph = buildAnalyzeGraph({
    cfg: manifest.architecture,
    weights: (b) => weightRefs(b, manifest, parts),
    score: o.score,
  });
  const bytes = encodeModel(embedExternalData(graph, files));
  await writeFile(o.out, bytes);
  console.log(
    `wrote ${o.out} (${(bytes.length / 1e6).toFixed(1)} MB): inputs image [1,3,${manifest.architecture.inputSize},${manifest.architecture.inputSize}] float32 (${manifest.preprocessing} preprocessing), target [1] int64 (-1 = top-1); outputs probs, top_values, top_indices, target_index, heatmap`,
  );
}
