/**
 * Weights → a model bundle (manifest + shards), int8 or fp32, laid out by planBundle.
 * Deterministic: the same input gives byte-identical shards and manifest (`created` aside, which
 * an option pins).
 */
import { quantizePerChannel } from '../quant/int8';
import type { LayerWeights, PreprocessMode, VggConfig, VggWeights } from '../vgg16/spec';
import { checkWeights, denseLayers, kernelDims, layers, WeightsMismatchError } from '../vgg16/spec';
import type { BundleManifest, PartInfo, PartName, Quantization, TensorEntry, WeightSource } from './manifest';
import { BUNDLE_FORMAT, BUNDLE_VERSION } from './manifest';
import type { BundlePlan, PlanOptions } from './plan';
import { PART_NAMES, planBundle } from './plan';
import { sha256Hex } from './sha256';
import { parseManifest } from './verify';

export interface BuildOptions {
  id: string;
  cfg: VggConfig;
  /** Every conv layer; the dense layers too for an 'imagenet-head' part (all or none of them). */
  weights: VggWeights;
  source: WeightSource;
  pretrained: boolean;
  seed?: number;
  preprocessing: PreprocessMode;
  labels: 'imagenet' | string[];
  quantization: Quantization;
  /** ISO time written to the manifest (default: now); tests pin it. */
  created?: string;
  /** Shard cap in bytes (default MAX_SHARD_BYTES); tests use small caps to exercise splitting. */
  maxShardBytes?: PlanOptions['maxShardBytes'];
}

export interface Bundle {
  manifest: BundleManifest;
  /** Shard file name → bytes. */
  shards: Map<string, Uint8Array>;
}

/** Shards are little-endian; typed arrays use the host's order, which is little-endian on every supported platform. */
export function assertLittleEndian(): void {
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new Error('convlens bundles need a little-endian host');
}

const bytesOf = (a: Float32Array | Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function checkFinite(name: string, a: Float32Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]!)) throw new WeightsMismatchError(`${name}[${i}] is ${a[i]}: the weights are corrupt`);
  }
}

/** One layer's stored arrays: the kernel (int8 or float32), its scales (int8) and the bias. */
interface Stored {
  kernel: Float32Array | Int8Array;
  scale?: Float32Array;
  bias: Float32Array;
}

function storedLayer(name: string, dims: number[], lw: LayerWeights, quantization: Quantization): Stored {
  checkFinite(`${name}/bias`, lw.bias);
  if (quantization === 'fp32') {
    checkFinite(`${name}/kernel`, lw.kernel);
    return { kernel: lw.kernel, bias: lw.bias };
  }
  const { q, scale } = quantizePerChannel(lw.kernel, dims);
  return { kernel: q, scale, bias: lw.bias };
}

export async function buildBundle(o: BuildOptions): Promise<Bundle> {
  assertLittleEndian();
  const { cfg, weights, quantization } = o;
  const withHead = denseLayers(cfg).some((l) => weights.has(l.name));
  checkWeights(cfg, weights, withHead);
  const parts: PartName[] = withHead ? [...PART_NAMES] : ['base'];
  const plan = planBundle(cfg, quantization, { parts, maxShardBytes: o.maxShardBytes });

  const shards = new Map<string, Uint8Array>();
  for (const p of plan.parts) for (const s of p.shards) shards.set(s.file, new Uint8Array(s.bytes));

  const byLayer = new Map<string, TensorEntry[]>();
  for (const t of plan.tensors) {
    const list = byLayer.get(t.layer);
    if (list) list.push(t);
    else byLayer.set(t.layer, [t]);
  }
  for (const l of layers(cfg)) {
    const entries = byLayer.get(l.name);
    if (l.kind === 'pool' || !entries) continue;
    const dims = kernelDims(l);
    const rowElems = dims.slice(1).reduce((a, b) => a * b, 1);
    const stored = storedLayer(l.name, dims, weights.get(l.name)!, quantization);
    for (const t of entries) {
      const start = t.piece?.start ?? 0;
      const rows = t.dims[0]!;
      const src =
        t.role === 'kernel'
          ? stored.kernel.subarray(start * rowElems, (start + rows) * rowElems)
          : (t.role === 'scale' ? stored.scale! : stored.bias).subarray(start, start + rows);
      const bytes = bytesOf(src);
      if (bytes.length !== t.length)
        throw new Error(`internal: ${t.name} is ${bytes.length} bytes, planned ${t.length}`);
      shards.get(t.shard)!.set(bytes, t.offset);
    }
  }

  const hashes = new Map<string, string>();
  await Promise.all([...shards].map(async ([file, bytes]) => hashes.set(file, await sha256Hex(bytes))));
  const manifest = bundleManifest(o, plan, hashes);
  // The reader's checks, on the writer's side: a bundle that would not load is never written.
  return { manifest: parseManifest(manifest), shards };
}

/** The fields of a manifest that describe the weights rather than their layout. */
export type ManifestFields = Pick<
  BuildOptions,
  'id' | 'cfg' | 'source' | 'pretrained' | 'seed' | 'preprocessing' | 'labels' | 'quantization' | 'created'
>;

/** The manifest of a filled plan, given every shard's sha256 (shared with the streaming converters). */
export function bundleManifest(
  o: ManifestFields,
  plan: BundlePlan,
  hashes: ReadonlyMap<string, string>,
): BundleManifest {
  const { cfg } = o;
  const partInfos: PartInfo[] = plan.parts.map((p) => ({
    name: p.name,
    bytes: p.bytes,
    shards: p.shards.map((s) => ({ file: s.file, bytes: s.bytes, sha256: hashes.get(s.file)! })),
  }));
  return {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    id: o.id,
    architecture: {
      name: cfg.name,
      blocks: cfg.blocks.map((b) => [...b]),
      fc: [...cfg.fc],
      classes: cfg.classes,
      inputSize: cfg.inputSize,
    },
    source: o.source,
    pretrained: o.pretrained,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    preprocessing: o.preprocessing,
    labels: o.labels === 'imagenet' ? 'imagenet' : [...o.labels],
    quantization: o.quantization,
    parts: partInfos,
    tensors: plan.tensors,
    created: o.created ?? new Date().toISOString(),
  };
}
