/**
 * Feature extraction: the frozen conv base runs once per (photo, augmented variant) and its outputs
 * are cached, so training the head never runs the base again and a new photo only adds its own rows.
 *
 * One graph, symbolic batch N: image (N, 3, S, S) → block5_pool (the head's input) and block4_pool
 * (fine-tuning's input) as two outputs of the same run. Variant 0 of a photo is the photo itself
 * (resized, centre-cropped); variants 1 … K−1 are the book's random augmentations of that crop,
 * drawn from a PRNG seeded by (seed, photo id, variant), so every variant is reproducible on its own.
 */
import { GraphBuilder } from '../onnx/builder';
import type { Graph } from '../onnx/ir';
import { winogradRewrite } from '../onnx/winograd';
import type { AugmentConfig } from '../vision/augment';
import { augment, BOOK_AUGMENT, randomAugmentParams } from '../vision/augment';
import type { RgbaImage } from '../vision/image';
import type { PreprocessMode } from '../vision/preprocess';
import { toNchwBatch } from '../vision/preprocess';
import { resizeCenterCrop } from '../vision/resize';
import type { WeightRef } from '../vgg16/graph';
import { vggBase } from '../vgg16/graph';
import type { VggConfig } from '../vgg16/spec';
import { TrainingCancelledError } from './errors';
import { hashString, Rng, seedOf } from './rng';
import type { GraphSession } from '../runtime';
import { f32, floatOut } from '../runtime';

export const FEATURE_LAYERS = ['block5_pool', 'block4_pool'] as const;
export type FeatureLayer = (typeof FEATURE_LAYERS)[number];

/** Anything with `aborted` (an AbortSignal), without needing DOM types in the core. */
export interface CancelSignal {
  readonly aborted: boolean;
}

/** (C, H, W) of a pooling layer's output for an input of `inputSize` pixels. */
export function featureShape(cfg: VggConfig, layer: FeatureLayer, inputSize: number): [number, number, number] {
  const block = Number(layer.slice(5, 6));
  const widths = cfg.blocks[block - 1];
  if (!widths) throw new RangeError(`${cfg.name} has no block ${block}`);
  const size = Math.floor(inputSize / 2 ** block);
  return [widths[widths.length - 1]!, size, size];
}

/** The base up to block5_pool with block5_pool and block4_pool as outputs, batch N symbolic. */
export function buildFeatureGraph(
  cfg: VggConfig,
  inputSize: number,
  weights: (b: GraphBuilder) => WeightRef,
  o: { winograd?: boolean } = {},
): Graph {
  let b = new GraphBuilder('convlens-features');
  const image = b.input('image', 'float32', ['N', 3, inputSize, inputSize]);
  const acts = vggBase(b, { ...cfg, inputSize }, image, weights(b), 'block5_pool');
  for (const layer of FEATURE_LAYERS) {
    b.graph.nodes.push({
      op: 'Identity',
      inputs: [acts.get(layer)!],
      outputs: [layer],
      attrs: {},
      name: `${layer}__out`,
    });
    b.graph.values.set(layer, { ...b.graph.values.get(acts.get(layer)!)!, name: layer });
    b.output(layer);
  }
  if (o.winograd) b = new GraphBuilder(winogradRewrite(b.graph));
  return b.graph;
}

/** Everything that makes a cached feature valid: change any of it and the feature is another one. */
export interface FeatureKey {
  photoId: string;
  variant: number;
  layer: FeatureLayer;
  /** The base model's hash (src/core/train/classifier.ts baseModelHash). */
  modelSha: string;
  /** Input size and, for augmented variants, the seed and augmentation settings (see recipeOf). */
  recipe: string;
}

/**
 * Where features live between runs. Async and keyed by plain strings, so the PWA can back it with
 * an IndexedDB object store (key = featureKeyString, value = the Float32Array, structured-cloned).
 */
export interface FeatureCache {
  get(key: FeatureKey): Promise<Float32Array | undefined>;
  put(key: FeatureKey, data: Float32Array): Promise<void>;
}

export const featureKeyString = (k: FeatureKey): string =>
  [k.modelSha, k.recipe, k.layer, k.variant, k.photoId].map((p) => encodeURIComponent(String(p))).join('|');

export class MemoryFeatureCache implements FeatureCache {
  private readonly map = new Map<string, Float32Array>();
  async get(key: FeatureKey): Promise<Float32Array | undefined> {
    return this.map.get(featureKeyString(key));
  }
  async put(key: FeatureKey, data: Float32Array): Promise<void> {
    this.map.set(featureKeyString(key), data);
  }
  get size(): number {
    return this.map.size;
  }
}

export function recipeOf(variant: number, inputSize: number, seed: number, aug: AugmentConfig): string {
  if (variant === 0) return `s${inputSize}`;
  const a = aug;
  return `s${inputSize}|seed${seed}|r${a.rotation},w${a.widthShift},h${a.heightShift},sh${a.shear},z${a.zoom},f${a.horizontalFlip ? 1 : 0}`;
}

/** Variant `variant` of a photo at the network's input size (0: the centre crop itself). */
export function variantImage(
  img: RgbaImage,
  photoId: string,
  variant: number,
  o: { inputSize: number; seed: number; augment?: AugmentConfig },
): RgbaImage {
  const crop = resizeCenterCrop(img, o.inputSize);
  if (variant === 0) return crop;
  const rng = new Rng(seedOf(o.seed, hashString(photoId), variant));
  return augment(
    crop,
    randomAugmentParams(() => rng.float(), o.augment ?? BOOK_AUGMENT),
  );
}

export interface PhotoInput {
  /** Stable id of the photo (the key under which its pixels are stored). */
  id: string;
  /** Needed only when some of its features are not cached yet. */
  image?: RgbaImage;
  /** Variants to extract for this photo (default: the options' `variants`; validation photos use 1). */
  variants?: number;
}

export interface ExtractOptions {
  variants: number;
  seed: number;
  inputSize: number;
  preprocessing: PreprocessMode;
  modelSha: string;
  layers: readonly FeatureLayer[];
  augment?: AugmentConfig;
  /**
   * Images per session run (default 1: a run's activations at 224 px take ≈ 50 MB of onnxruntime's
   * heap per image, and more images a run are not faster on WASM).
   */
  batch?: number;
  signal?: CancelSignal;
  onProgress?: (done: number, total: number) => void;
}

/** features[photo][variant][layer], in the order of `photos`. */
export type PhotoFeatures = Partial<Record<FeatureLayer, Float32Array>>[][];

export class MissingPhotoError extends Error {
  override name = 'MissingPhotoError';
}

/** Features of every (photo, variant), from the cache or by running `session` (a feature graph). */
export async function extractFeatures(
  session: () => Promise<GraphSession>,
  photos: readonly PhotoInput[],
  cache: FeatureCache,
  o: ExtractOptions,
): Promise<PhotoFeatures> {
  const { variants, inputSize, layers } = o;
  const key = (p: PhotoInput, v: number, layer: FeatureLayer): FeatureKey => ({
    photoId: p.id,
    variant: v,
    layer,
    modelSha: o.modelSha,
    recipe: recipeOf(v, inputSize, o.seed, o.augment ?? BOOK_AUGMENT),
  });
  const count = (p: PhotoInput) => p.variants ?? variants;
  const out: PhotoFeatures = photos.map((p) => Array.from({ length: count(p) }, () => ({})));
  const todo: { p: number; v: number }[] = [];
  for (const [pi, p] of photos.entries())
    for (let v = 0; v < count(p); v++) {
      for (const layer of layers) {
        const hit = await cache.get(key(p, v, layer));
        if (hit) out[pi]![v]![layer] = hit;
      }
      if (layers.some((l) => !out[pi]![v]![l])) todo.push({ p: pi, v });
    }
  const total = photos.reduce((n, p) => n + count(p), 0);
  let done = total - todo.length;
  o.onProgress?.(done, total);
  if (!todo.length) return out;

  const s = await session();
  const batch = Math.max(1, o.batch ?? 1);
  for (let i = 0; i < todo.length; i += batch) {
    if (o.signal?.aborted) throw new TrainingCancelledError('feature extraction was cancelled');
    const chunk = todo.slice(i, i + batch);
    const imgs = chunk.map(({ p, v }) => {
      const photo = photos[p]!;
      if (!photo.image) throw new MissingPhotoError(`photo '${photo.id}' has no cached features and no image`);
      return variantImage(photo.image, photo.id, v, o);
    });
    const res = await s.run({ image: f32(toNchwBatch(imgs, o.preprocessing), [imgs.length, 3, inputSize, inputSize]) });
    for (const layer of layers) {
      const all = floatOut(res, layer);
      const per = all.length / chunk.length;
      for (const [j, { p, v }] of chunk.entries()) {
        const f = all.slice(j * per, (j + 1) * per);
        out[p]![v]![layer] = f;
        await cache.put(key(photos[p]!, v, layer), f);
      }
    }
    done += chunk.length;
    o.onProgress?.(done, total);
  }
  return out;
}
