/**
 * The streaming safetensors converter against buildBundle of the same weights read whole: the same
 * manifest and shard bytes for int8 and fp32, for any chunking (1-byte chunks, chunks across the
 * header), after interruptions resumed from structured-cloned snapshots; and named errors for files
 * that are not a VGG16 safetensors.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '../../../src/core/bundle/build';
import { buildBundle } from '../../../src/core/bundle/build';
import { ConversionStateError, SafetensorsFormatError, SourceHashError } from '../../../src/core/bundle/errors';
import type { Quantization } from '../../../src/core/bundle/manifest';
import type { SafetensorsOptions, SafetensorsSnapshot } from '../../../src/core/vgg16/safetensors';
import { createSafetensorsConverter } from '../../../src/core/vgg16/safetensors';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import { TINY_VGG, WeightsMismatchError } from '../../../src/core/vgg16/spec';
import { mulberry32 } from '../../helpers/ort';
import type { StTensor } from '../../helpers/safetensors';
import { randomChunks, vggTensors, writeSafetensors } from '../../helpers/safetensors';
import { randomWeights } from '../../helpers/vgg-fixtures';

const cfg: VggConfig = TINY_VGG;
const weights = randomWeights(cfg, 5);
const created = '2026-01-01T00:00:00.000Z';
/** Small shards: several per part, fc1 split into row blocks. */
const maxShardBytes = 1024;
const file = writeSafetensors(vggTensors(cfg, weights));

const reference = (quantization: Quantization) =>
  buildBundle({
    id: 'st',
    cfg,
    weights,
    source: 'safetensors',
    pretrained: true,
    preprocessing: 'torch',
    labels: 'imagenet',
    quantization,
    created,
    maxShardBytes,
  });

/** Stream `chunks` through a converter; returns the bundle. */
async function convert(chunks: Uint8Array[], o: Partial<SafetensorsOptions> & { quantization: Quantization }) {
  const shards = new Map<string, Uint8Array>();
  const conv = createSafetensorsConverter({ id: 'st', config: cfg, created, maxShardBytes, ...o }, async (s) => {
    expect(shards.has(s.file)).toBe(false);
    shards.set(s.file, s.bytes);
  });
  for (const c of chunks) await conv.write(c);
  return { manifest: await conv.finish(), shards };
}

function expectSame(got: Bundle, want: Bundle): void {
  expect(got.manifest).toEqual(want.manifest);
  expect([...got.shards.keys()].sort()).toEqual([...want.shards.keys()].sort());
  for (const [f, bytes] of want.shards) expect(Buffer.compare(got.shards.get(f)!, bytes), f).toBe(0);
}

describe('createSafetensorsConverter', () => {
  it.each(['int8', 'fp32'] as const)('%s: byte-identical to buildBundle for any chunking', async (quantization) => {
    const want = await reference(quantization);
    expect(want.manifest.parts.map((p) => p.shards.length).every((n) => n > 1)).toBe(true);
    expect(want.manifest.tensors.some((t) => t.piece)).toBe(true);
    const rng = mulberry32(quantization === 'int8' ? 1 : 2);
    expectSame(await convert(randomChunks(file, rng), { quantization }), want);
    expectSame(await convert([file], { quantization }), want);
    // One chunk from the middle of the size field to deep into the data.
    expectSame(
      await convert([file.subarray(0, 3), file.subarray(3, 5000), file.subarray(5000)], { quantization }),
      want,
    );
  });

  it('reads torchvision names (classifier.0 as a dense [4096, 25088] kernel) the same', async () => {
    const tv = writeSafetensors(vggTensors(cfg, weights, 'torchvision'));
    expectSame(await convert(randomChunks(tv, mulberry32(3), 500), { quantization: 'int8' }), await reference('int8'));
  });

  it.each(['int8', 'fp32'] as const)(
    '%s: resumes from structured-cloned snapshots to the same bundle',
    async (quantization) => {
      const want = await reference(quantization);
      const rng = mulberry32(11);
      const stored = new Map<string, Uint8Array>();
      let saved: SafetensorsSnapshot | undefined;
      let resumes = 0;
      const sink = async (s: { file: string; bytes: Uint8Array }) => {
        stored.set(s.file, s.bytes.slice());
        // The host persists the state once the shard is stored; sometimes the next interruption uses it.
        if (rng() < 0.3) saved = structuredClone(conv.snapshot());
      };
      let conv = createSafetensorsConverter({ id: 'st', config: cfg, created, maxShardBytes, quantization }, sink);
      let at = 0;
      while (at < file.length) {
        const n = rng() < 0.3 ? 1 : 1 + Math.floor(rng() * 400);
        await conv.write(file.subarray(at, at + n));
        at += n;
        if (rng() < 0.05) saved = structuredClone(conv.snapshot());
        if (saved && rng() < 0.08) {
          // The connection drops: a new converter from the last saved state, bytes again from its offset.
          conv = createSafetensorsConverter(
            { id: 'st', config: cfg, created, maxShardBytes, quantization, snapshot: saved },
            sink,
          );
          at = saved.offset;
          expect(conv.offset).toBe(at);
          resumes++;
        }
      }
      expect(resumes).toBeGreaterThan(3);
      expectSame({ manifest: await conv.finish(), shards: stored }, want);
    },
  );

  it('checks the whole file sha256 across a resume, and reports the file length once the header is read', async () => {
    const sha = createHash('sha256').update(file).digest('hex');
    const c1 = createSafetensorsConverter({ id: 'st', config: cfg, quantization: 'int8', sha256: sha }, async () => {});
    expect(c1.totalBytes).toBeUndefined();
    await c1.write(file.subarray(0, 3000));
    expect(c1.totalBytes).toBe(file.length);
    const c2 = createSafetensorsConverter(
      { id: 'st', config: cfg, quantization: 'int8', sha256: sha, snapshot: structuredClone(c1.snapshot()) },
      async () => {},
    );
    await c2.write(file.subarray(3000));
    await expect(c2.finish()).resolves.toMatchObject({
      source: 'safetensors',
      pretrained: true,
      preprocessing: 'torch',
    });

    const wrong = createSafetensorsConverter(
      { id: 'st', config: cfg, quantization: 'int8', sha256: '0'.repeat(64) },
      async () => {},
    );
    await wrong.write(file);
    await expect(wrong.finish()).rejects.toThrow(SourceHashError);
  });

  it('refuses a snapshot of another conversion', async () => {
    const c = createSafetensorsConverter({ id: 'st', config: cfg, quantization: 'int8' }, async () => {});
    await c.write(file.subarray(0, 100));
    expect(() =>
      createSafetensorsConverter(
        { id: 'st', config: cfg, quantization: 'fp32', snapshot: c.snapshot() },
        async () => {},
      ),
    ).toThrow(ConversionStateError);
  });
});

describe('files that are not a VGG16 safetensors', () => {
  const tensors = () => vggTensors(cfg, weights);
  const withTensors = (edit: (t: StTensor[]) => StTensor[]) => writeSafetensors(edit(tensors()));
  const fails = async (bytes: Uint8Array, error: new (...a: never[]) => Error, message: RegExp) => {
    const run = async () => {
      const c = createSafetensorsConverter({ id: 'st', config: cfg, quantization: 'int8' }, async () => {});
      for (const chunk of randomChunks(bytes, mulberry32(9), 4000)) await c.write(chunk);
      await c.finish();
    };
    await expect(run()).rejects.toThrow(error);
    await expect(run()).rejects.toThrow(message);
  };

  it('names a missing tensor', () =>
    fails(
      withTensors((t) => t.filter((x) => x.name !== 'pre_logits.fc2.bias')),
      WeightsMismatchError,
      /'pre_logits\.fc2\.bias'.*missing/,
    ));

  it('names a tensor of the wrong shape (another model)', () =>
    fails(
      withTensors((t) =>
        t.map((x) => (x.name === 'head.fc.weight' ? { ...x, shape: [16, 32], data: new Float32Array(16 * 32) } : x)),
      ),
      WeightsMismatchError,
      /'head\.fc\.weight' has shape \[16, 32\], expected \[10, 32\]/,
    ));

  it('names a tensor that is not float32', () =>
    fails(
      withTensors((t) =>
        t.map((x) => (x.name === 'features.0.bias' ? { ...x, dtype: 'F16', data: new Float32Array(2) } : x)),
      ),
      WeightsMismatchError,
      /'features\.0\.bias' is F16/,
    ));

  it('says when the file holds no VGG16 at all', () =>
    fails(
      writeSafetensors([
        { name: 'model.embed_tokens.weight', dtype: 'F32', shape: [4, 4], data: new Float32Array(16) },
      ]),
      WeightsMismatchError,
      /no 'pre_logits\.fc1\.weight'.*model\.embed_tokens\.weight/,
    ));

  it('says an HTML page is not a safetensors file', () =>
    fails(
      new TextEncoder().encode('<!DOCTYPE html><html><body>Not found</body></html>'),
      SafetensorsFormatError,
      /HTML page/,
    ));

  it('refuses a header larger than a VGG16 header can be', () => {
    const bytes = new Uint8Array(64);
    new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
    return fails(bytes, SafetensorsFormatError, /header would be 1099511627776 bytes/);
  });

  it('says a file cut short was cut short', () =>
    fails(file.subarray(0, file.length - 10), SafetensorsFormatError, /ended after \d+ of \d+ bytes/));

  it('refuses bytes past the end the header declares', () => {
    const longer = new Uint8Array(file.length + 4);
    longer.set(file);
    return fails(longer, SafetensorsFormatError, /longer than its header says/);
  });
});
