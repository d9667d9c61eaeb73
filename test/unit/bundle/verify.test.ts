/**
 * Nothing from a store is trusted: strict manifest parsing (hostile files included), shard length
 * and sha256, scale values, and the disk store's missing files. Each error is named and says what to do.
 */
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBundleStore, writeBundle } from '../../../src/cli/fs-store';
import type { Bundle } from '../../../src/core/bundle/build';
import { buildBundle } from '../../../src/core/bundle/build';
import {
  BundleFormatError,
  MissingShardError,
  ShardHashError,
  ShardLengthError,
} from '../../../src/core/bundle/errors';
import { loadBundle } from '../../../src/core/bundle/load';
import type { BundleManifest } from '../../../src/core/bundle/manifest';
import { sha256Hex } from '../../../src/core/bundle/sha256';
import { parseManifest, verifyShard } from '../../../src/core/bundle/verify';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { MemoryStore } from '../../helpers/memory-store';

let bundle: Bundle;
let split: Bundle;

beforeAll(async () => {
  const common = {
    id: 'tiny',
    cfg: TINY_VGG,
    weights: demoWeights(TINY_VGG, 1),
    source: 'demo',
    pretrained: false,
    seed: 1,
    preprocessing: 'caffe',
    labels: 'imagenet',
    quantization: 'int8',
    created: '2024-01-01T00:00:00.000Z',
  } as const;
  bundle = await buildBundle(common);
  split = await buildBundle({ ...common, maxShardBytes: 256 });
});

/** A deep copy of the manifest as plain JSON, to tamper with. */
const json = (m: BundleManifest = bundle.manifest) => JSON.parse(JSON.stringify(m));

describe('sha256Hex', () => {
  it('matches the known digests', async () => {
    expect(await sha256Hex(new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    // A view into a larger buffer hashes only its own bytes.
    const big = new TextEncoder().encode('xxabcxx');
    expect(await sha256Hex(big.subarray(2, 5))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

describe('verifyShard', () => {
  const info = () => bundle.manifest.parts[0]!.shards[0]!;
  const bytes = () => bundle.shards.get(info().file)!;

  it('accepts the right bytes', async () => {
    await expect(verifyShard(info(), bytes())).resolves.toBeUndefined();
  });

  it('a truncated shard: ShardLengthError, "the download was cut short"', async () => {
    const err = await verifyShard(info(), bytes().subarray(0, 1000)).catch((e) => e);
    expect(err).toBeInstanceOf(ShardLengthError);
    expect(err.name).toBe('ShardLengthError');
    expect(err.message).toBe(
      `shard ${info().file} is 1000 bytes, the manifest says ${info().bytes}: the download was cut short; delete the model and download it again`,
    );
    expect(err).toMatchObject({ file: info().file, expected: info().bytes, actual: 1000 });
  });

  it('a bit-flipped shard: ShardHashError', async () => {
    const flipped = bytes().slice();
    flipped[123]! ^= 0x10;
    const err = await verifyShard(info(), flipped).catch((e) => e);
    expect(err).toBeInstanceOf(ShardHashError);
    expect(err.name).toBe('ShardHashError');
    expect(err.message).toMatch(/corrupt or were altered; delete the model/);
  });

  it('an HTML page served instead of the shard: named as such', async () => {
    const page = new TextEncoder().encode(
      '<!doctype html>\n<html><head><title>404 Not Found</title></head><body>Not found</body></html>',
    );
    const err = await verifyShard(info(), page).catch((e) => e);
    expect(err).toBeInstanceOf(ShardLengthError);
    expect(err.message).toMatch(/is a web page, not model data.*check the model URL/);
    // Even at exactly the right length, the hash fails and the message still says what it is.
    const padded = new Uint8Array(info().bytes).fill(0x20);
    padded.set(page);
    const err2 = await verifyShard(info(), padded).catch((e) => e);
    expect(err2).toBeInstanceOf(ShardHashError);
    expect(err2.message).toMatch(/web page/);
  });

  it('loadBundle refuses a store that serves a bad shard', async () => {
    const flipped = new Map(bundle.shards);
    const file = bundle.manifest.parts[1]!.shards[0]!.file;
    const b = flipped.get(file)!.slice();
    b[0]! ^= 1;
    flipped.set(file, b);
    const store = new MemoryStore().add({ manifest: bundle.manifest, shards: flipped });
    await expect(loadBundle(store, 'tiny', ['base'])).resolves.toBeTruthy(); // the head is not read
    await expect(loadBundle(store, 'tiny', ['base', 'imagenet-head'])).rejects.toMatchObject({
      name: 'ShardHashError',
    });
  });
});

describe('parseManifest', () => {
  const rejects = (m: unknown, pattern: RegExp) => {
    let err: unknown;
    try {
      parseManifest(m);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BundleFormatError);
    expect((err as Error).name).toBe('BundleFormatError');
    expect((err as Error).message).toMatch(pattern);
  };

  it('accepts built manifests, whole and split, and returns a clean copy', () => {
    expect(parseManifest(json())).toEqual(bundle.manifest);
    expect(parseManifest(json(split.manifest))).toEqual(split.manifest);
    const extra = { ...json(), comment: 'ignored' };
    expect(parseManifest(extra)).not.toHaveProperty('comment');
  });

  it('rejects what is not a convlens manifest, or a newer version', () => {
    rejects(null, /not an object/);
    rejects([], /not an object/);
    rejects('<!doctype html>', /not an object/);
    rejects({ ...json(), format: 'something-else' }, /not a convlens bundle manifest/);
    rejects({ ...json(), version: 2 }, /version 2, this convlens reads version 1: update convlens/);
    rejects({ ...json(), version: '1' }, /version/);
  });

  it('rejects an offset (or length) past the end of the shard', () => {
    const m = json();
    m.tensors[0].offset = m.parts[0].shards[0].bytes;
    rejects(m, /runs past the end of base-000\.bin/);
    const n = json();
    n.tensors[3].offset = 2;
    rejects(n, /not a multiple of 4/);
    const o = json();
    o.tensors[1].offset = o.tensors[0].offset; // overlapping
    rejects(o, /overlap/);
  });

  it('rejects huge or malformed dims', () => {
    const m = json();
    m.tensors[0].dims = [100000, 100000, 3, 3];
    rejects(m, /more than 600000000/);
    const n = json();
    n.tensors[0].dims = [4, 3, 3, -3];
    rejects(n, /dims\[3\] is -3/);
    const o = json();
    o.tensors[0].dims = [4, 3, 3, 1.5];
    rejects(o, /not an integer/);
    const p = json();
    p.tensors[0].dims = [4, 3, 9];
    p.tensors[0].length = 108;
    rejects(p, /the architecture needs \[4, 3, 3, 3\]/);
  });

  it('rejects an architecture over the size caps', () => {
    const m = json();
    m.architecture.blocks[4] = [65536, 65536];
    rejects(m, /more than the 600000000 allowed/);
    const n = json();
    n.architecture.blocks[0][0] = 1e9;
    rejects(n, /outside 1 to 65536/);
    const o = json();
    o.architecture.inputSize = 30;
    rejects(o, /does not halve 5 times/);
  });

  it('rejects unknown dtypes, roles, parts, sources and quantizations', () => {
    for (const [key, value, pattern] of [
      ['dtype', 'float16', /dtype is "float16", not one of float32, int8/],
      ['role', 'weights', /role is "weights"/],
      ['part', 'extra', /part is "extra"/],
    ] as const) {
      const m = json();
      m.tensors[0][key] = value;
      rejects(m, pattern);
    }
    rejects({ ...json(), source: 'pytorch' }, /source/);
    rejects({ ...json(), quantization: 'int4' }, /quantization/);
    // A manifest whose quantization disagrees with its tensors' dtypes.
    rejects(
      { ...json(), quantization: 'fp32' },
      /hold block1_conv1\/kernel as int8, a fp32 bundle stores it as float32/,
    );
  });

  it('rejects lengths that disagree with dims and dtype, and part sums that disagree', () => {
    const m = json();
    m.tensors[0].length -= 4;
    rejects(m, /takes 108 bytes/);
    const n = json();
    n.parts[0].bytes += 1;
    rejects(n, /shards add up to/);
  });

  it('rejects shard names that are paths, duplicates and bad hashes', () => {
    const m = json();
    m.parts[0].shards[0].file = '../../etc/passwd';
    rejects(m, /not a plain file name/);
    const n = json();
    n.parts[1].shards[0].file = n.parts[0].shards[0].file;
    rejects(n, /listed twice/);
    const o = json();
    o.parts[0].shards[0].sha256 = 'ABC';
    rejects(o, /not a lower-case hex sha256/);
    rejects({ ...json(), id: '../other' }, /not a usable name/);
  });

  it('rejects missing, unexpected, misnamed and inconsistently split tensors', () => {
    const m = json();
    m.tensors = m.tensors.filter((t: { name: string }) => t.name !== 'fc2/kernel_scale');
    rejects(m, /lack fc2\/kernel_scale/);
    const n = json();
    n.tensors[0].name = 'something';
    rejects(n, /name "something" where block1_conv1\/kernel belongs/);
    const s = json(split.manifest);
    const piece = s.tensors.find((t: { name: string }) => t.name === 'fc1/kernel#1');
    piece.piece.start += 1;
    rejects(s, /start fc1\/kernel#1 at row/);
    const t = json(split.manifest);
    t.tensors = t.tensors.filter((e: { name: string }) => e.name !== 'fc1/kernel#1');
    rejects(t, /inconsistent pieces|holds no tensor/);
    const u = json();
    u.parts = u.parts.slice(0, 1);
    u.parts[0].name = 'base';
    rejects(u, /not a shard of the bundle/);
  });

  it('rejects labels that do not match the classes', () => {
    rejects({ ...json(), labels: ['a', 'b'] }, /labels has 2 items, not 10/);
    expect(parseManifest({ ...json(), labels: Array.from({ length: 10 }, (_, i) => `c${i}`) }).labels).toHaveLength(10);
  });
});

describe('scale values (a consistent but hostile bundle)', () => {
  /** Rewrite one float of a tensor and fix up the shard's sha256, so only the value check can catch it. */
  async function poisoned(name: string, value: number): Promise<MemoryStore> {
    const manifest = json();
    const t = manifest.tensors.find((e: { name: string }) => e.name === name);
    const shards = new Map(bundle.shards);
    const bytes = shards.get(t.shard)!.slice();
    new DataView(bytes.buffer).setFloat32(t.offset + 4, value, true);
    shards.set(t.shard, bytes);
    for (const p of manifest.parts) for (const s of p.shards) if (s.file === t.shard) s.sha256 = await sha256Hex(bytes);
    return new MemoryStore().add({ manifest, shards });
  }

  it.each([
    ['a NaN scale', 'block3_conv2/kernel_scale', NaN, /holds NaN at index 1: scales must be finite and > 0/],
    ['an infinite scale', 'fc1/kernel_scale', Infinity, /holds Infinity/],
    ['a zero scale', 'block1_conv1/kernel_scale', 0, /holds 0 at index 1/],
    ['a negative scale', 'predictions/kernel_scale', -1, /holds -1 at index 1/],
    ['a NaN bias', 'fc2/bias', NaN, /biases must be finite/],
  ])('rejects %s at load', async (_, name, value, pattern) => {
    const store = await poisoned(name, value);
    const err = await loadBundle(store, 'tiny', ['base', 'imagenet-head']).catch((e) => e);
    expect(err).toBeInstanceOf(BundleFormatError);
    expect(err.message).toMatch(pattern);
  });
});

describe('FsBundleStore and writeBundle', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'convlens-bundle-'));
    await writeBundle(join(root, 'tiny'), bundle.manifest, bundle.shards);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips a bundle through disk', async () => {
    const store = new FsBundleStore(root);
    expect(await store.manifest('tiny')).toEqual(bundle.manifest);
    const { files } = await loadBundle(store, 'tiny', ['base', 'imagenet-head']);
    for (const [file, bytes] of bundle.shards) expect(Buffer.compare(files.get(file)!, bytes)).toBe(0);
    expect(JSON.parse(await readFile(join(root, 'tiny', 'manifest.json'), 'utf8'))).toEqual(bundle.manifest);
  });

  it('a missing shard: MissingShardError with its path', async () => {
    await writeBundle(join(root, 'gap'), bundle.manifest, bundle.shards);
    const file = bundle.manifest.parts[1]!.shards[0]!.file;
    await unlink(join(root, 'gap', file));
    const err = await loadBundle(new FsBundleStore(root), 'gap', ['base', 'imagenet-head']).catch((e) => e);
    expect(err).toBeInstanceOf(MissingShardError);
    expect(err.name).toBe('MissingShardError');
    expect(err.path).toBe(join(root, 'gap', file));
    expect(err.message).toContain(join(root, 'gap', file));
    expect(err.message).toMatch(/build or download the model again/);
  });

  it('a missing or damaged manifest', async () => {
    const store = new FsBundleStore(root);
    await expect(store.manifest('nothing-here')).rejects.toMatchObject({
      name: 'MissingShardError',
      path: join(root, 'nothing-here', 'manifest.json'),
    });
    await writeBundle(join(root, 'broken'), bundle.manifest, bundle.shards);
    await writeFile(join(root, 'broken', 'manifest.json'), '{"format": "convlens-bundle", ');
    await expect(store.manifest('broken')).rejects.toMatchObject({ name: 'BundleFormatError' });
    await writeFile(join(root, 'broken', 'manifest.json'), JSON.stringify({ ...json(), tensors: [] }));
    await expect(store.manifest('broken')).rejects.toThrow(/tensors has 0 items/);
  });

  it('never reads outside its root', async () => {
    const store = new FsBundleStore(root);
    await expect(store.manifest('..')).rejects.toThrow(BundleFormatError);
    await expect(store.shard('tiny', '../gap/base-000.bin')).rejects.toThrow(BundleFormatError);
  });
});
