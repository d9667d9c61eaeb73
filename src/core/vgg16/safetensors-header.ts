/**
 * The header of a VGG16 safetensors file, checked against the architecture before any weight byte
 * is read. A safetensors file is an 8-byte little-endian header size N, N bytes of JSON
 * (`{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, offsets relative to
 * the end of the header), then the tensors' bytes in any order (Python's writer sorts them by name).
 *
 * Two namings are read, both NCHW with the internal layout already (no transposition):
 * - timm (`timm/vgg16.tv_in1k`): `features.<i>.weight|bias` for the convs (i counts the Sequential's
 *   conv, ReLU and pool modules: 0, 2, 5, 7, 10, …), `pre_logits.fc1` as a 7×7 conv
 *   [4096, 512, 7, 7], `pre_logits.fc2` as a 1×1 conv [4096, 4096, 1, 1], `head.fc` [1000, 4096];
 * - torchvision: the same `features.<i>`, then `classifier.0|3|6` as dense [out, in] kernels.
 * Tensors of neither naming are skipped; a missing one, or a wrong dtype or shape, is a
 * WeightsMismatchError naming the tensor.
 */
import { SafetensorsFormatError } from '../bundle/errors';
import type { VggConfig } from './spec';
import { convLayers, denseLayers, featureSize, WeightsMismatchError } from './spec';

/** Largest header read: VGG16's is a few KB; a bigger one belongs to another model or another format. */
export const MAX_HEADER_BYTES = 8 * 1024 * 1024;

/** One source tensor the converter reads: rows of `rowElems` float32 values (a bias has rows of one). */
export interface SourceTensor {
  name: string;
  layer: string;
  role: 'kernel' | 'bias';
  rows: number;
  rowElems: number;
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsLayout {
  naming: 'timm' | 'torchvision';
  /** The header's length, 8 + N: where the data starts. */
  dataStart: number;
  /** The whole file's length. */
  totalBytes: number;
  /** The tensors the converter reads, in file order. */
  tensors: SourceTensor[];
}

interface Expected {
  layer: string;
  role: 'kernel' | 'bias';
  /** Accepted shapes (a dense kernel may be stored as a conv kernel). */
  shapes: number[][];
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const dimsStr = (d: readonly number[]) => `[${d.join(', ')}]`;

/** The tensor names a VGG config has in one naming, with their layers and accepted shapes. */
function expectedTensors(cfg: VggConfig, naming: SafetensorsLayout['naming']): Map<string, Expected> {
  const out = new Map<string, Expected>();
  let index = 0;
  const convs = convLayers(cfg);
  for (const [b, widths] of cfg.blocks.entries()) {
    for (let i = 0; i < widths.length; i++) {
      const l = convs.find((c) => c.block === b + 1 && c.name.endsWith(`_conv${i + 1}`))!;
      out.set(`features.${index}.weight`, { layer: l.name, role: 'kernel', shapes: [[l.cout, l.cin, 3, 3]] });
      out.set(`features.${index}.bias`, { layer: l.name, role: 'bias', shapes: [[l.cout]] });
      index += 2; // the conv and its ReLU
    }
    index += 1; // the block's max-pool
  }
  const F = featureSize(cfg);
  const last = cfg.blocks[cfg.blocks.length - 1]!;
  const channels = last[last.length - 1]!;
  const names =
    naming === 'timm'
      ? ['pre_logits.fc1', 'pre_logits.fc2', 'head.fc']
      : ['classifier.0', 'classifier.3', 'classifier.6'];
  denseLayers(cfg).forEach((l, i) => {
    const asConv = i === 0 ? [l.units, channels, F, F] : [l.units, l.inputs, 1, 1];
    const shapes = i < 2 ? [[l.units, l.inputs], asConv] : [[l.units, l.inputs]];
    out.set(`${names[i]}.weight`, { layer: l.name, role: 'kernel', shapes });
    out.set(`${names[i]}.bias`, { layer: l.name, role: 'bias', shapes: [[l.units]] });
  });
  return out;
}

/** Why the first bytes of a file are not a safetensors header, or undefined when they may be one. */
export function notSafetensors(first: Uint8Array): string | undefined {
  if (HDF5_SIGNATURE.every((b, i) => first[i] === b)) return 'this is an HDF5 file (a Keras .h5?), not safetensors';
  const n = Math.min(first.length, 8);
  const text = [...first.subarray(0, n)].every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  if (n === 8 && text) {
    const start = new TextDecoder().decode(first.subarray(0, Math.min(first.length, 40))).replace(/\s+/g, ' ');
    return `it starts with text ("${start}…"${/^\s*</.test(start) ? ', an HTML page' : ''}), not a safetensors header: check the URL or file`;
  }
  return undefined;
}

/** The header's JSON size from the file's first 8 bytes, checked against MAX_HEADER_BYTES. */
export function headerSize(first8: Uint8Array): number {
  const why = notSafetensors(first8);
  if (why) throw new SafetensorsFormatError(`not a safetensors file: ${why}`);
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n < 2 || n > MAX_HEADER_BYTES) {
    throw new SafetensorsFormatError(
      `not a VGG16 safetensors file: its header would be ${n} bytes (a VGG16 header is a few KB, at most ${MAX_HEADER_BYTES} read)`,
    );
  }
  return n;
}

interface RawEntry {
  dtype: unknown;
  shape: unknown;
  data_offsets: unknown;
}

/** The layout of the file from its JSON header (`json` is the N header bytes). */
export function parseHeader(json: Uint8Array, cfg: VggConfig): SafetensorsLayout {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json)) as Record<string, unknown>;
  } catch (e) {
    throw new SafetensorsFormatError(`not a safetensors file: its header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new SafetensorsFormatError('not a safetensors file: its header is not a JSON object');
  const dataStart = 8 + json.length;
  const entries = new Map<string, { dtype: string; shape: number[]; begin: number; end: number }>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as RawEntry;
    const offs = e?.data_offsets;
    const ok =
      Array.isArray(offs) &&
      offs.length === 2 &&
      offs.every((x) => Number.isSafeInteger(x) && (x as number) >= 0) &&
      (offs[0] as number) <= (offs[1] as number) &&
      typeof e.dtype === 'string' &&
      Array.isArray(e.shape) &&
      e.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0);
    if (!ok) throw new SafetensorsFormatError(`not a safetensors file: header entry '${name}' is malformed`);
    entries.set(name, {
      dtype: e.dtype as string,
      shape: e.shape as number[],
      begin: (offs as number[])[0]!,
      end: (offs as number[])[1]!,
    });
  }
  const dataBytes = Math.max(0, ...[...entries.values()].map((e) => e.end));

  const naming = entries.has('pre_logits.fc1.weight')
    ? 'timm'
    : entries.has('classifier.0.weight')
      ? 'torchvision'
      : undefined;
  if (!naming) {
    const some = [...entries.keys()].slice(0, 4).map((n) => `'${n}'`);
    throw new WeightsMismatchError(
      `not a ${cfg.name} file: it has no 'pre_logits.fc1.weight' (timm) or 'classifier.0.weight' (torchvision); its ${entries.size} tensors include ${some.join(', ') || 'none'}. Use a timm or torchvision VGG16 model.safetensors`,
    );
  }
  const tensors: SourceTensor[] = [];
  for (const [name, want] of expectedTensors(cfg, naming)) {
    const e = entries.get(name);
    if (!e) throw new WeightsMismatchError(`not a ${cfg.name} file: tensor '${name}' (${want.layer}) is missing`);
    if (e.dtype !== 'F32')
      throw new WeightsMismatchError(`tensor '${name}' is ${e.dtype}; convlens reads float32 (F32) VGG16 weights`);
    if (!want.shapes.some((s) => s.length === e.shape.length && s.every((d, i) => d === e.shape[i]))) {
      throw new WeightsMismatchError(
        `not a ${cfg.name} file: tensor '${name}' has shape ${dimsStr(e.shape)}, expected ${want.shapes.map(dimsStr).join(' or ')}`,
      );
    }
    const numel = e.shape.reduce((a, b) => a * b, 1);
    if (e.end - e.begin !== numel * 4) {
      throw new SafetensorsFormatError(
        `not a valid safetensors file: tensor '${name}' spans ${e.end - e.begin} bytes, its shape needs ${numel * 4}`,
      );
    }
    const rows = e.shape[0]!;
    tensors.push({
      name,
      layer: want.layer,
      role: want.role,
      rows: want.role === 'bias' ? numel : rows,
      rowElems: want.role === 'bias' ? 1 : numel / rows,
      begin: dataStart + e.begin,
      end: dataStart + e.end,
    });
  }
  tensors.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < tensors.length; i++) {
    if (tensors[i]!.begin < tensors[i - 1]!.end)
      throw new SafetensorsFormatError(
        `not a valid safetensors file: tensors '${tensors[i - 1]!.name}' and '${tensors[i]!.name}' overlap`,
      );
  }
  return { naming, dataStart, totalBytes: dataStart + dataBytes, tensors };
}
