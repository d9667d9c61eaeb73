/**
 * VGG16 safetensors (timm `vgg16.tv_in1k` or torchvision naming, see safetensors-header.ts) → a
 * convlens bundle, converted while the file streams in: bytes go in chunk by chunk (any chunk
 * boundaries), finished shards come out through the sink, then the manifest. The result is
 * byte-identical to `buildBundle` of the same weights read whole.
 *
 *   const conv = createSafetensorsConverter({ id, quantization: 'int8' }, async ({ part, file, bytes }) => store(file, bytes));
 *   for await (const chunk of body) await conv.write(chunk);   // conv.totalBytes is known once the header is in
 *   const manifest = await conv.finish();                      // checks the length (and `sha256` when given)
 *
 * Memory: never the fp32 file. Each kernel row (fc1's is 25,088 floats) is quantized as soon as its
 * last byte arrives; what is held is one row, the header, and the shards that have some but not all
 * of their tensors (each ≤ 32 MB; `heldBytes`). For timm's file order (features, head.fc, fc1, fc2)
 * that is at most about three shards: the head's last shard waits for fc2 while fc1's shards fill.
 *
 * Resume: `snapshot()` between writes, or inside the sink once the shard is stored, returns a
 * structured-clonable object (plain objects, numbers, strings, Uint8Arrays; its size is about
 * `heldBytes`). `createSafetensorsConverter({ id, quantization, snapshot }, sink)` continues from
 * it: feed the file again from `snapshot.offset` (an HTTP Range request). The whole file's sha256 is
 * hashed along the way, its mid-state in the snapshot, so `sha256` is checked after resumes too.
 */
import type { BundleManifest, PartName, Quantization, TensorEntry } from '../bundle/manifest';
import { assertLittleEndian, bundleManifest } from '../bundle/build';
import { ConversionStateError, SafetensorsFormatError, SourceHashError } from '../bundle/errors';
import type { BundlePlan } from '../bundle/plan';
import { planBundle } from '../bundle/plan';
import { sha256Hex } from '../bundle/sha256';
import type { Sha256State } from '../bundle/sha256-stream';
import { Sha256 } from '../bundle/sha256-stream';
import { parseManifest } from '../bundle/verify';
import { quantizePerChannel } from '../quant/int8';
import type { SafetensorsLayout, SourceTensor } from './safetensors-header';
import { headerSize, parseHeader } from './safetensors-header';
import type { VggConfig } from './spec';
import { VGG16, WeightsMismatchError } from './spec';

export interface SafetensorsOptions {
  /** The bundle's id. */
  id: string;
  quantization: Quantization;
  /** The architecture (default VGG16; tests use small ones). */
  config?: VggConfig;
  /** Continue a conversion from this saved state; id, quantization and config must match it. */
  snapshot?: SafetensorsSnapshot;
  /** The whole file's published sha256 (hex); finish() rejects a file that differs. */
  sha256?: string;
  /** ISO time for the manifest (default: when finish() runs); tests pin it. */
  created?: string;
  /** Shard cap in bytes (default the bundle's 32 MB); tests use small caps. */
  maxShardBytes?: number;
}

/** A finished shard: every byte final, ready to store. */
export interface ShardOut {
  part: PartName;
  file: string;
  bytes: Uint8Array;
}

export type ShardSink = (shard: ShardOut) => Promise<void>;

export interface SafetensorsConverter {
  /** Feed the next bytes of the file; resolves once every shard they finish has been through the sink. */
  write(chunk: Uint8Array): Promise<void>;
  /** Bytes of the file consumed so far: where a resumed download continues. */
  readonly offset: number;
  /** The file's length, once its header has been read. */
  readonly totalBytes: number | undefined;
  /** Bytes held for unfinished shards and rows (the converter's memory beyond its code). */
  readonly heldBytes: number;
  snapshot(): SafetensorsSnapshot;
  /** After the last byte: checks the length and sha256, returns the bundle's manifest. */
  finish(): Promise<BundleManifest>;
}

export interface SafetensorsSnapshot {
  format: 'convlens-safetensors-state';
  version: 1;
  id: string;
  quantization: Quantization;
  config: VggConfig;
  maxShardBytes?: number;
  sha256?: string;
  offset: number;
  /** The file's first bytes up to the end of its header (or as many as were read). */
  head: Uint8Array;
  /** The bytes of the unfinished row. */
  row: Uint8Array;
  /** Shards with some of their tensors written: their bytes so far and how many are still to come. */
  open: { file: string; bytes: Uint8Array; left: number }[];
  /** Shards passed to the sink, with their sha256. */
  done: Record<string, string>;
  hash: Sha256State;
}

interface ShardState {
  part: PartName;
  bytes: Uint8Array;
  left: number;
}

class Converter implements SafetensorsConverter {
  private readonly cfg: VggConfig;
  private pos = 0;
  private head = new Uint8Array(0);
  private layout: SafetensorsLayout | undefined;
  private plan: BundlePlan;
  /** Planned shard → its part, size and the bytes of tensors it holds (padding excluded). */
  private readonly shardPlan = new Map<string, { part: PartName; bytes: number; payload: number }>();
  /** `<layer>/<role>` → the plan's entries (pieces in row order). */
  private readonly entries = new Map<string, TensorEntry[]>();
  private readonly open = new Map<string, ShardState>();
  private readonly done = new Map<string, string>();
  private row = new Uint8Array(0);
  private rowFill = 0;
  private seg = 0;
  private hash = new Sha256();
  private busy = false;

  constructor(
    private readonly o: SafetensorsOptions,
    private readonly sink: ShardSink,
  ) {
    assertLittleEndian();
    this.cfg = o.config ?? VGG16;
    this.plan = planBundle(this.cfg, o.quantization, { maxShardBytes: o.maxShardBytes });
    for (const p of this.plan.parts)
      for (const s of p.shards) this.shardPlan.set(s.file, { part: p.name, bytes: s.bytes, payload: 0 });
    for (const t of this.plan.tensors) {
      this.shardPlan.get(t.shard)!.payload += t.length;
      const key = `${t.layer}/${t.role}`;
      const list = this.entries.get(key);
      if (list) list.push(t);
      else this.entries.set(key, [t]);
    }
    if (o.snapshot) this.restore(o.snapshot);
  }

  get offset(): number {
    return this.pos;
  }

  get totalBytes(): number | undefined {
    return this.layout?.totalBytes;
  }

  get heldBytes(): number {
    let n = this.row.length + this.head.length;
    for (const s of this.open.values()) n += s.bytes.length;
    return n;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.busy) throw new ConversionStateError('write() was called before the previous write() finished');
    this.busy = true;
    try {
      await this.flush();
      let i = 0;
      while (i < chunk.length) {
        if (!this.layout) {
          i += this.readHeader(chunk, i);
          continue;
        }
        const { tensors, totalBytes } = this.layout;
        if (this.pos >= totalBytes)
          throw new SafetensorsFormatError(
            `the file is longer than its header says (${totalBytes} bytes): not a valid safetensors file`,
          );
        const t: SourceTensor | undefined = tensors[this.seg];
        if (!t || this.pos < t.begin) {
          // Bytes of tensors the converter does not read (or padding): hashed and skipped.
          const n = Math.min(chunk.length - i, (t?.begin ?? totalBytes) - this.pos);
          this.consume(chunk.subarray(i, i + n));
          i += n;
          continue;
        }
        const unit = t.rowElems * 4;
        if (this.row.length !== unit) this.row = new Uint8Array(unit);
        const n = Math.min(chunk.length - i, unit - this.rowFill);
        this.row.set(chunk.subarray(i, i + n), this.rowFill);
        this.rowFill += n;
        this.consume(chunk.subarray(i, i + n));
        i += n;
        if (this.rowFill < unit) continue;
        this.rowFill = 0;
        this.storeRow(t, (this.pos - t.begin) / unit - 1);
        if (this.pos === t.end) {
          this.seg++;
          this.row = new Uint8Array(0);
        }
        await this.flush();
      }
    } finally {
      this.busy = false;
    }
  }

  snapshot(): SafetensorsSnapshot {
    return {
      format: 'convlens-safetensors-state',
      version: 1,
      id: this.o.id,
      quantization: this.o.quantization,
      config: JSON.parse(JSON.stringify(this.cfg)) as VggConfig,
      ...(this.o.maxShardBytes === undefined ? {} : { maxShardBytes: this.o.maxShardBytes }),
      ...(this.o.sha256 === undefined ? {} : { sha256: this.o.sha256 }),
      offset: this.pos,
      head: this.head.slice(),
      row: this.row.slice(0, this.rowFill),
      open: [...this.open].map(([file, s]) => ({ file, bytes: s.bytes.slice(), left: s.left })),
      done: Object.fromEntries(this.done),
      hash: this.hash.state(),
    };
  }

  async finish(): Promise<BundleManifest> {
    await this.flush();
    if (!this.layout)
      throw new SafetensorsFormatError(
        `the file ended after ${this.pos} bytes, inside its header: not a complete safetensors file`,
      );
    if (this.pos < this.layout.totalBytes) {
      throw new SafetensorsFormatError(
        `the file ended after ${this.pos} of ${this.layout.totalBytes} bytes: the download was cut short; resume it`,
      );
    }
    if (this.open.size || this.done.size !== this.shardPlan.size)
      throw new Error(`internal: ${this.open.size} shards unfinished after the last byte`);
    const actual = this.hash.hex();
    const expected = this.o.sha256?.toLowerCase();
    if (expected !== undefined && actual !== expected) {
      throw new SourceHashError(
        expected,
        actual,
        `the file's sha256 is ${actual}, not the published ${expected}: it is corrupt or a different file; download it again`,
      );
    }
    return parseManifest(
      bundleManifest(
        {
          id: this.o.id,
          cfg: this.cfg,
          source: 'safetensors',
          pretrained: true,
          preprocessing: 'torch',
          labels: 'imagenet',
          quantization: this.o.quantization,
          created: this.o.created,
        },
        this.plan,
        this.done,
      ),
    );
  }

  /** Bytes of the header; returns how many of `chunk` (from `at`) it took. */
  private readHeader(chunk: Uint8Array, at: number): number {
    const want = this.head.length < 8 ? 8 : 8 + headerSize(this.head.subarray(0, 8));
    const n = Math.min(chunk.length - at, want - this.head.length);
    const head = new Uint8Array(this.head.length + n);
    head.set(this.head);
    head.set(chunk.subarray(at, at + n), this.head.length);
    this.head = head;
    this.consume(chunk.subarray(at, at + n));
    if (head.length === 8) headerSize(head);
    if (head.length > 8 && head.length === want) this.layout = parseHeader(head.subarray(8), this.cfg);
    return n;
  }

  private consume(bytes: Uint8Array): void {
    this.hash.update(bytes);
    this.pos += bytes.length;
  }

  /** Row `r` of source tensor `t` (in `this.row`) → its bytes in the shards. */
  private storeRow(t: SourceTensor, r: number): void {
    const floats = new Float32Array(this.row.buffer, 0, t.rowElems);
    const pieces = this.entries.get(`${t.layer}/${t.role}`)!;
    const k = pieces.findIndex((e) => r < (e.piece?.start ?? 0) + e.dims[0]!);
    const entry = pieces[k]!;
    const local = r - (entry.piece?.start ?? 0);
    if (t.role === 'bias' || this.o.quantization === 'fp32') {
      for (let i = 0; i < floats.length; i++) {
        if (!Number.isFinite(floats[i]!))
          throw new WeightsMismatchError(
            `${t.layer}/${t.role}[${r * t.rowElems + i}] is ${floats[i]}: the weights are corrupt`,
          );
      }
      this.put(entry, local * this.row.length, this.row);
      return;
    }
    const { q, scale } = quantizePerChannel(floats, [1, t.rowElems]);
    this.put(entry, local * t.rowElems, new Uint8Array(q.buffer));
    this.put(this.entries.get(`${t.layer}/scale`)![k]!, local * 4, new Uint8Array(scale.buffer));
  }

  private put(entry: TensorEntry, at: number, bytes: Uint8Array): void {
    let s = this.open.get(entry.shard);
    if (!s) {
      const p = this.shardPlan.get(entry.shard)!;
      s = { part: p.part, bytes: new Uint8Array(p.bytes), left: p.payload };
      this.open.set(entry.shard, s);
    }
    s.bytes.set(bytes, entry.offset + at);
    s.left -= bytes.length;
  }

  /** Hand every finished shard to the sink, one at a time, each marked done just before its call. */
  private async flush(): Promise<void> {
    for (const [file, s] of [...this.open]) {
      if (s.left !== 0) continue;
      const sha = await sha256Hex(s.bytes);
      this.open.delete(file);
      this.done.set(file, sha);
      await this.sink({ part: s.part, file, bytes: s.bytes });
    }
  }

  private restore(s: SafetensorsSnapshot): void {
    const same =
      s.format === 'convlens-safetensors-state' &&
      s.version === 1 &&
      s.id === this.o.id &&
      s.quantization === this.o.quantization &&
      JSON.stringify(s.config) === JSON.stringify(this.cfg) &&
      s.maxShardBytes === this.o.maxShardBytes;
    if (!same)
      throw new ConversionStateError(
        `the saved conversion is not of ${this.o.id} (${this.o.quantization}, ${this.cfg.name}): start the conversion again`,
      );
    this.head = s.head.slice();
    this.pos = s.offset;
    this.hash = Sha256.restore(s.hash);
    if (this.hash.bytes !== s.offset)
      throw new ConversionStateError('the saved conversion is inconsistent: start it again');
    if (this.head.length >= 8 && this.head.length === 8 + headerSize(this.head.subarray(0, 8)))
      this.layout = parseHeader(this.head.subarray(8), this.cfg);
    for (const o of s.open) {
      const p = this.shardPlan.get(o.file);
      if (!p || o.bytes.length !== p.bytes)
        throw new ConversionStateError(`the saved conversion has an unknown shard ${o.file}: start it again`);
      this.open.set(o.file, { part: p.part, bytes: o.bytes.slice(), left: o.left });
    }
    for (const [file, sha] of Object.entries(s.done)) this.done.set(file, sha);
    if (this.layout) {
      const tensors = this.layout.tensors;
      while (this.seg < tensors.length && tensors[this.seg]!.end <= this.pos) this.seg++;
      const t = tensors[this.seg];
      if (t && this.pos > t.begin) {
        this.row = new Uint8Array(t.rowElems * 4);
        this.row.set(s.row);
        this.rowFill = s.row.length;
        if ((this.pos - t.begin) % this.row.length !== this.rowFill)
          throw new ConversionStateError('the saved conversion is inconsistent: start it again');
      }
    }
  }
}

/** A streaming converter; see the top of this file. */
export function createSafetensorsConverter(options: SafetensorsOptions, sink: ShardSink): SafetensorsConverter {
  return new Converter(options, sink);
}
