/**
 * The model bundle: the contract between the CLI (writes it), the PWA (downloads it into
 * IndexedDB) and the engine (loads it). `models/<id>/manifest.json` + binary shards.
 * Shards are raw little-endian tensor bytes, each ≤ 32 MB (Chrome caps one IndexedDB value at
 * 133 MB), each with its byte length and sha256 so truncated or wrong bytes are never trusted.
 *
 * Layout (src/core/bundle/plan.ts): each part's tensors, layer by layer in forward order (kernel,
 * kernel_scale for int8, bias), are packed into that part's shards (`base-000.bin`, `base-001.bin`,
 * `imagenet-head-000.bin`, …) first-fit in order, each tensor at a 4-byte-aligned offset (padding
 * bytes are zero), never across two shards. A shard's bytes end where its last tensor ends.
 *
 * Split tensors: a tensor larger than a shard (VGG16's fc1 kernel is 102.8 MB in int8, 411 MB in
 * fp32) is stored as row blocks along axis 0: entries `fc1/kernel#0`, `fc1/kernel#1`, … each with
 * `piece` set, dims [rows, ...rest], covering the rows in order without gaps or overlaps.
 * An int8 kernel's scales are split the same way (`fc1/kernel_scale#0` holds the scales of the rows
 * of `fc1/kernel#0`), so each piece dequantizes on its own. The graph dequantizes each piece and
 * joins them with Concat(axis 0) (src/core/bundle/load.ts). Every stored tensor, hence every
 * initializer buffer, stays under the shard cap (far below WebGPU's 128 MiB binding limit on
 * Android); the Concat's output is still the whole float kernel. A tensor that fits is stored whole,
 * without `piece`.
 */
import type { PreprocessMode, VggConfig } from '../vgg16/spec';

export type WeightSource = 'demo' | 'keras-h5' | 'onnx-zoo' | 'safetensors';
export type Quantization = 'int8' | 'fp32';
export type PartName = 'base' | 'imagenet-head';

export const BUNDLE_FORMAT = 'convlens-bundle';
export const BUNDLE_VERSION = 1;
export const MAX_SHARD_BYTES = 32 * 1024 * 1024;
/** Every tensor's offset in its shard is a multiple of this. */
export const SHARD_ALIGN = 4;
/** Hostile-file caps checked by parseManifest: elements of the whole model, shards and tensors. */
export const MAX_MODEL_ELEMENTS = 600_000_000;
export const MAX_SHARDS = 4096;
export const MAX_TENSORS = 65_536;

export interface ShardInfo {
  /** File name relative to the bundle folder, e.g. `base-000.bin`. */
  file: string;
  bytes: number;
  /** Lower-case hex sha256 of the shard's bytes. */
  sha256: string;
}

export interface PartInfo {
  name: PartName;
  bytes: number;
  shards: ShardInfo[];
}

/** One stored tensor; the graph references it as ONNX external data (location, offset, length). */
export interface TensorEntry {
  /**
   * `<layer>/kernel`, `<layer>/bias`, or `<layer>/kernel_scale` (per-output-channel int8 scales);
   * a piece of a split tensor adds `#<index>` (`fc1/kernel#0`). Also the graph initializer's name.
   */
  name: string;
  layer: string;
  role: 'kernel' | 'bias' | 'scale';
  dtype: 'float32' | 'int8';
  dims: number[];
  part: PartName;
  shard: string;
  offset: number;
  length: number;
  /** Set on the pieces of a tensor split into row blocks along axis 0 (see the header). */
  piece?: TensorPiece;
}

/** Piece `index` of `count` of a split tensor; its first row is row `start` of the whole tensor. */
export interface TensorPiece {
  index: number;
  count: number;
  start: number;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  id: string;
  architecture: VggConfig;
  source: WeightSource;
  pretrained: boolean;
  /** The seed of demo weights, for reproducibility. */
  seed?: number;
  preprocessing: PreprocessMode;
  /** 'imagenet' (the 1000 ImageNet class names) or explicit names. */
  labels: 'imagenet' | string[];
  quantization: Quantization;
  /** int8: symmetric per-output-channel kernels (zero point 0, axis 0), fp32 biases. */
  parts: PartInfo[];
  tensors: TensorEntry[];
  created: string;
}

/** Where bundles live: a folder on disk (CLI, tests) or IndexedDB + fetch (the PWA). */
export interface BundleStore {
  manifest(id: string): Promise<BundleManifest>;
  shard(id: string, file: string): Promise<Uint8Array>;
}
