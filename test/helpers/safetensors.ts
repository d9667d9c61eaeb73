/**
 * safetensors files in timm's exact VGG16 layout (`timm/vgg16.tv_in1k`), made here from seeded
 * weights because no real file can be downloaded: `features.<i>` convs (i over the Sequential's conv,
 * ReLU and pool modules), `pre_logits.fc1` as a [u, C, F, F] conv, `pre_logits.fc2` as a 1×1 conv,
 * `head.fc`; or torchvision's `classifier.0|3|6` dense names. Written as Python's safetensors does:
 * tensors sorted by name, the JSON header padded with spaces to 8 bytes. Independent of the converter.
 */
import { open } from 'node:fs/promises';
import type { VggConfig, VggWeights } from '../../src/core/vgg16/spec';

export interface StTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** The weights (internal OIHW / (out, in) layout, which is torch's) under timm's or torchvision's names. */
export function vggTensors(cfg: VggConfig, w: VggWeights, naming: 'timm' | 'torchvision' = 'timm'): StTensor[] {
  const out: StTensor[] = [];
  let module = 0;
  let cin = 3;
  cfg.blocks.forEach((widths, b) => {
    widths.forEach((cout, i) => {
      const lw = w.get(`block${b + 1}_conv${i + 1}`)!;
      out.push({ name: `features.${module}.weight`, dtype: 'F32', shape: [cout, cin, 3, 3], data: lw.kernel });
      out.push({ name: `features.${module}.bias`, dtype: 'F32', shape: [cout], data: lw.bias });
      module += 2;
      cin = cout;
    });
    module += 1;
  });
  const F = cfg.inputSize / 2 ** cfg.blocks.length;
  const [u1, u2] = cfg.fc as [number, number];
  const dense: [string, string, number[]][] =
    naming === 'timm'
      ? [
          ['fc1', 'pre_logits.fc1', [u1, cin, F, F]],
          ['fc2', 'pre_logits.fc2', [u2, u1, 1, 1]],
          ['predictions', 'head.fc', [cfg.classes, u2]],
        ]
      : [
          ['fc1', 'classifier.0', [u1, cin * F * F]],
          ['fc2', 'classifier.3', [u2, u1]],
          ['predictions', 'classifier.6', [cfg.classes, u2]],
        ];
  for (const [layer, name, shape] of dense) {
    const lw = w.get(layer)!;
    out.push({ name: `${name}.weight`, dtype: 'F32', shape, data: lw.kernel });
    out.push({ name: `${name}.bias`, dtype: 'F32', shape: [shape[0]!], data: lw.bias });
  }
  return out;
}

/** The 8-byte size + JSON header of these tensors, laid out in name order; and each tensor's data offset. */
export function safetensorsHeader(tensors: readonly StTensor[], byteLength = (t: StTensor) => t.data.byteLength) {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let at = 0;
  for (const t of sorted) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + byteLength(t)] };
    at += byteLength(t);
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = new Uint8Array(8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(json.length), true);
  head.set(new TextEncoder().encode(json), 8);
  return { head, sorted, dataBytes: at };
}

const bytesOf = (a: Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** A whole safetensors file in memory (small models). */
export function writeSafetensors(tensors: readonly StTensor[]): Uint8Array {
  const { head, sorted, dataBytes } = safetensorsHeader(tensors);
  const out = new Uint8Array(head.length + dataBytes);
  out.set(head);
  let at = head.length;
  for (const t of sorted) {
    out.set(bytesOf(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

/** The same file written to disk tensor by tensor (full-size VGG16 is 553 MB). */
export async function writeSafetensorsFile(path: string, tensors: readonly StTensor[]): Promise<number> {
  const { head, sorted } = safetensorsHeader(tensors);
  const f = await open(path, 'w');
  try {
    let at = 0;
    for (const bytes of [head, ...sorted.map((t) => bytesOf(t.data))]) {
      await f.write(bytes, 0, bytes.length, at);
      at += bytes.length;
    }
    return at;
  } finally {
    await f.close();
  }
}

/** Cut `bytes` into chunks of random sizes (many of 1 byte), as a network would. */
export function randomChunks(bytes: Uint8Array, rng: () => number, max = 97): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = rng() < 0.3 ? 1 : 1 + Math.floor(rng() * max);
    out.push(bytes.subarray(at, at + n));
    at += n;
  }
  return out;
}
