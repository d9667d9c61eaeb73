/**
 * The layers the insight views can look at: every conv and pool layer of the base, in forward
 * order, with the shape of its output (C, H, W) for a given input size.
 */
import type { VggConfig } from '../vgg16/spec';
import { layers } from '../vgg16/spec';

export interface InsightLayer {
  name: string;
  kind: 'conv' | 'pool';
  block: number;
  /** Output shape [C, H, W] (one image). */
  dims: [channels: number, height: number, width: number];
}

export class UnknownLayerError extends Error {
  override name = 'UnknownLayerError';
}

/** Conv and pool layers with their output shapes at `size`×`size` input (default: the model's). */
export function insightLayers(cfg: VggConfig, size = cfg.inputSize): InsightLayer[] {
  const out: InsightLayer[] = [];
  let s = size;
  for (const l of layers(cfg)) {
    if (l.kind === 'dense') break;
    if (l.kind === 'pool') s = Math.floor(s / 2);
    const channels = l.kind === 'conv' ? l.cout : l.channels;
    out.push({ name: l.name, kind: l.kind, block: l.block, dims: [channels, s, s] });
  }
  return out;
}

/** The named layer, or an UnknownLayerError listing the valid names. */
export function findLayer(
  cfg: VggConfig,
  name: string,
  size = cfg.inputSize,
  kinds: readonly ('conv' | 'pool')[] = ['conv', 'pool'],
): InsightLayer {
  const all = insightLayers(cfg, size).filter((l) => kinds.includes(l.kind));
  const l = all.find((x) => x.name === name);
  if (!l)
    throw new UnknownLayerError(
      `'${name}' is not a ${kinds.join(' or ')} layer of ${cfg.name}; one of: ${all.map((x) => x.name).join(', ')}`,
    );
  return l;
}

/**
 * Input sizes for which every max-pool up to `layer` divides evenly (the pool gradient needs it):
 * the smallest multiple of 2^(pools before the layer's output) that is ≥ `want`.
 */
export function ascentSize(cfg: VggConfig, layer: string, want: number): number {
  const l = findLayer(cfg, layer);
  const pools = l.kind === 'pool' ? l.block : l.block - 1;
  const m = 2 ** pools;
  return Math.max(m, Math.ceil(want / m) * m);
}
