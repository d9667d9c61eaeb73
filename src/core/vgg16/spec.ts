/**
 * VGG16 exactly as Keras names it (keras.applications.VGG16), plus small variants with the same
 * layer names for fast tests. Internal weight layout: conv kernels OIHW; dense kernels (out, in)
 * with `in` in NCHW flatten order (fc1 rows ordered (512, 7, 7)), used by Gemm with transB = 1.
 */

export interface VggConfig {
  name: string;
  /** Output channels of each conv layer, grouped by block. */
  blocks: number[][];
  /** Widths of the hidden dense layers (fc1, fc2). */
  fc: number[];
  classes: number;
  inputSize: number;
}

export const VGG16: VggConfig = {
  name: 'vgg16',
  blocks: [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
  ],
  fc: [4096, 4096],
  classes: 1000,
  inputSize: 224,
};

/** Same topology and names, tiny widths: every path of the code in milliseconds. */
export const TINY_VGG: VggConfig = {
  name: 'tiny-vgg',
  blocks: [
    [4, 4],
    [8, 8],
    [8, 8, 8],
    [8, 8, 8],
    [16, 16, 16],
  ],
  fc: [32, 32],
  classes: 10,
  inputSize: 32,
};

export interface ConvLayer {
  kind: 'conv';
  name: string;
  block: number;
  cin: number;
  cout: number;
}
export interface PoolLayer {
  kind: 'pool';
  name: string;
  block: number;
  channels: number;
}
export interface DenseLayer {
  kind: 'dense';
  name: string;
  inputs: number;
  units: number;
}
export type Layer = ConvLayer | PoolLayer | DenseLayer;

/** All layers in forward order, Keras names. */
export function layers(cfg: VggConfig): Layer[] {
  const out: Layer[] = [];
  let cin = 3;
  cfg.blocks.forEach((widths, b) => {
    widths.forEach((cout, i) => {
      out.push({ kind: 'conv', name: `block${b + 1}_conv${i + 1}`, block: b + 1, cin, cout });
      cin = cout;
    });
    out.push({ kind: 'pool', name: `block${b + 1}_pool`, block: b + 1, channels: cin });
  });
  let inputs = cin * featureSize(cfg) ** 2;
  const dense = [
    ...cfg.fc.map((u, i) => ({ name: `fc${i + 1}`, units: u })),
    { name: 'predictions', units: cfg.classes },
  ];
  for (const d of dense) {
    out.push({ kind: 'dense', name: d.name, inputs, units: d.units });
    inputs = d.units;
  }
  return out;
}

export const convLayers = (cfg: VggConfig) => layers(cfg).filter((l): l is ConvLayer => l.kind === 'conv');
export const denseLayers = (cfg: VggConfig) => layers(cfg).filter((l): l is DenseLayer => l.kind === 'dense');

/** Spatial size of block5_pool's output (7 for 224 input). */
export function featureSize(cfg: VggConfig): number {
  return cfg.inputSize / 2 ** cfg.blocks.length;
}

/** Spatial size of a layer's output. */
export function layerSize(cfg: VggConfig, layer: ConvLayer | PoolLayer): number {
  return cfg.inputSize / 2 ** (layer.kind === 'conv' ? layer.block - 1 : layer.block);
}

export function kernelDims(layer: ConvLayer | DenseLayer): number[] {
  return layer.kind === 'conv' ? [layer.cout, layer.cin, 3, 3] : [layer.units, layer.inputs];
}

/** Which bundle part a layer's weights belong to. */
export type Part = 'base' | 'imagenet-head';
export const partOf = (layer: ConvLayer | DenseLayer): Part => (layer.kind === 'conv' ? 'base' : 'imagenet-head');

export function paramCount(cfg: VggConfig, part?: Part): number {
  let n = 0;
  for (const l of layers(cfg)) {
    if (l.kind === 'pool' || (part && partOf(l) !== part)) continue;
    const k = kernelDims(l);
    n += k.reduce((a, b) => a * b, 1) + k[0]!;
  }
  return n;
}

/** One layer's float weights in the internal layout. */
export interface LayerWeights {
  kernel: Float32Array;
  bias: Float32Array;
}

/** Layer name → weights. A map may hold only the base (conv) layers. */
export type VggWeights = Map<string, LayerWeights>;

export type PreprocessMode = 'caffe' | 'torch';

export class WeightsMismatchError extends Error {
  override name = 'WeightsMismatchError';
}

/** Throw WeightsMismatchError unless every present layer has the right sizes and finite values. */
export function checkWeights(cfg: VggConfig, w: VggWeights, needHead: boolean): void {
  for (const l of layers(cfg)) {
    if (l.kind === 'pool') continue;
    const lw = w.get(l.name);
    if (!lw) {
      if (l.kind === 'dense' && !needHead) continue;
      throw new WeightsMismatchError(`weights for layer '${l.name}' are missing`);
    }
    const k = kernelDims(l);
    const kn = k.reduce((a, b) => a * b, 1);
    if (lw.kernel.length !== kn || lw.bias.length !== k[0]) {
      throw new WeightsMismatchError(
        `layer '${l.name}': expected kernel [${k}] (${kn}) and bias ${k[0]}, got ${lw.kernel.length} and ${lw.bias.length}`,
      );
    }
  }
}
