/**
 * The classifier file: exact round trip, and every kind of bad file rejected with a named error and
 * a message saying what is wrong (truncated, NaN, wrong dims, wrong base, hostile sizes).
 */
import { describe, expect, it } from 'vitest';
import type { ClassifierManifest } from '../../../src/core/train/classifier';
import {
  baseModelHash,
  classifierModel,
  encodeClassifier,
  MAX_CLASSIFIER_BYTES,
  parseClassifier,
} from '../../../src/core/train/classifier';
import { modelTensors } from '../../../src/core/train/graphs';
import { buildBundle } from '../../../src/core/bundle/build';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG, VGG16 } from '../../../src/core/vgg16/spec';
import { mulberry32, uniform } from '../../helpers/ort';

const HASH = 'ab'.repeat(32);
const base = { hash: HASH, cfg: TINY_VGG };

function manifest(o: Partial<ClassifierManifest> = {}): Omit<ClassifierManifest, 'tensors'> {
  return {
    format: 'convlens-classifier',
    version: 1,
    base: { hash: HASH, id: 'tiny', architecture: 'tiny-vgg', preprocessing: 'caffe', inputSize: 32 },
    classes: ['cat', 'dog', 'toaster'],
    head: { kind: 'dense', hidden: 8, dropout: 0.5 },
    fineTuned: false,
    created: '2026-11-28T00:00:00.000Z',
    ...o,
  };
}

function weightsFor(m: Omit<ClassifierManifest, 'tensors'>, seed = 1): Record<string, Float32Array> {
  const rng = mulberry32(seed);
  const w: Record<string, Float32Array> = {};
  for (const t of modelTensors(classifierModel({ ...m, tensors: [] }, TINY_VGG)))
    w[t.name] = uniform(
      rng,
      t.dims.reduce((a, b) => a * b, 1),
    );
  w['head/norm/scale'] = w['head/norm/scale']!.map((v) => Math.abs(v) + 0.1);
  return w;
}

/** Rewrite the JSON manifest of a file (keeps the weights section aligned as the encoder does). */
function editManifest(bytes: Uint8Array, edit: (j: Record<string, unknown>) => void): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  const len = dv.getUint32(12, true);
  const j = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + len)));
  edit(j);
  const text = new TextEncoder().encode(JSON.stringify(j));
  const weights = bytes.subarray((16 + len + 3) & ~3);
  const start = (16 + text.length + 3) & ~3;
  const out = new Uint8Array(start + weights.length);
  out.set(bytes.subarray(0, 12));
  new DataView(out.buffer).setUint32(12, text.length, true);
  out.set(text, 16);
  out.set(weights, start);
  return out;
}

describe('classifier file', () => {
  const m = manifest();
  const w = weightsFor(m);
  const bytes = encodeClassifier({ manifest: m, weights: w }, TINY_VGG);

  it('round-trips manifest and weights exactly', () => {
    const c = parseClassifier(bytes, base);
    expect(c.manifest).toMatchObject(m);
    expect(c.manifest.tensors.map((t) => t.name)).toEqual([
      'head/norm/mean',
      'head/norm/scale',
      'head/hidden/kernel',
      'head/hidden/bias',
      'head/logits/kernel',
      'head/logits/bias',
    ]);
    for (const [name, data] of Object.entries(w)) expect(Array.from(c.weights[name]!)).toEqual(Array.from(data));
  });

  it('round-trips a fine-tuned GAP classifier with block5 weights', () => {
    const ft = manifest({ head: { kind: 'gap', hidden: 256, dropout: 0.5 }, fineTuned: true, classes: ['a', 'b'] });
    const fw = weightsFor(ft, 2);
    const c = parseClassifier(encodeClassifier({ manifest: ft, weights: fw }, TINY_VGG), base);
    expect(c.manifest.tensors.map((t) => t.name)).toContain('block5_conv3/kernel');
    expect(c.manifest.tensors.find((t) => t.name === 'block5_conv1/kernel')!.dims).toEqual([16, 8, 3, 3]);
    expect(Array.from(c.weights['block5_conv2/bias']!)).toEqual(Array.from(fw['block5_conv2/bias']!));
  });

  it('names the base by a hash of its base shards', async () => {
    const a = await buildBundle({
      id: 'a',
      cfg: TINY_VGG,
      weights: demoWeights(TINY_VGG, 1),
      source: 'demo',
      pretrained: false,
      preprocessing: 'caffe',
      labels: 'imagenet',
      quantization: 'int8',
    });
    const b = await buildBundle({
      id: 'b',
      cfg: TINY_VGG,
      weights: demoWeights(TINY_VGG, 2),
      source: 'demo',
      pretrained: false,
      preprocessing: 'caffe',
      labels: 'imagenet',
      quantization: 'int8',
    });
    const ha = await baseModelHash(a.manifest);
    expect(ha).toMatch(/^[0-9a-f]{64}$/);
    expect(await baseModelHash({ ...a.manifest, id: 'renamed' })).toBe(ha);
    expect(await baseModelHash(b.manifest)).not.toBe(ha);
  });

  const rejects = (b: Uint8Array, name: string, message: RegExp, against = base) => {
    let err: unknown;
    try {
      parseClassifier(b, against);
    } catch (e) {
      err = e;
    }
    expect(err, 'should throw').toBeInstanceOf(Error);
    expect((err as Error).name).toBe(name);
    expect((err as Error).message).toMatch(message);
  };

  it('rejects truncated files wherever they are cut', () => {
    for (const cut of [0, 5, 15, 40, (bytes.length >> 1) + 1, bytes.length - 1])
      rejects(bytes.subarray(0, cut), 'ClassifierFormatError', /signature|truncated/);
  });

  it('rejects trailing bytes, a wrong signature and a newer version', () => {
    rejects(Uint8Array.from([...bytes, 0, 0, 0, 0]), 'ClassifierFormatError', /after its last tensor/);
    const sig = bytes.slice();
    sig[0] = 0x50;
    rejects(sig, 'ClassifierFormatError', /signature/);
    const v2 = bytes.slice();
    new DataView(v2.buffer).setUint32(8, 2, true);
    rejects(v2, 'ClassifierFormatError', /version 2/);
  });

  it('rejects NaN and infinite weights', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const b = encodeClassifier(
        { manifest: m, weights: { ...w, 'head/logits/bias': Float32Array.of(0, bad, 0) } },
        TINY_VGG,
      );
      rejects(b, 'ClassifierFormatError', /'head\/logits\/bias' holds a NaN or infinite value at 1/);
    }
  });

  it('rejects a non-positive standardisation scale (the live graph relies on s > 0)', () => {
    const scale = w['head/norm/scale']!.slice();
    scale[3] = 0;
    rejects(
      encodeClassifier({ manifest: m, weights: { ...w, 'head/norm/scale': scale } }, TINY_VGG),
      'ClassifierFormatError',
      /must be positive/,
    );
  });

  it('rejects dims that do not match the head and the base', () => {
    // Claims 4 classes but carries 3-class tensors.
    rejects(
      editManifest(bytes, (j) => (j.classes = ['a', 'b', 'c', 'd'])),
      'ClassifierFormatError',
      /'head\/logits\/kernel' has dims \[3,8\], expected \[4,8\]/,
    );
    // A tensor's dims edited.
    rejects(
      editManifest(bytes, (j) => ((j.tensors as { dims: number[] }[])[2]!.dims = [16, 8])),
      'ClassifierFormatError',
      /'head\/hidden\/kernel' has dims \[16,8\], expected \[8,16\]/,
    );
    // Trained at another input size: the dense head's input no longer matches block5_pool.
    rejects(
      editManifest(bytes, (j) => ((j.base as { inputSize: number }).inputSize = 64)),
      'ClassifierFormatError',
      /expected \[8,64\]/,
    );
    // Offsets that overlap.
    rejects(
      editManifest(bytes, (j) => ((j.tensors as { offset: number }[])[3]!.offset = 0)),
      'ClassifierFormatError',
      /is at 0/,
    );
  });

  it('rejects a classifier of another base model or architecture with ClassifierMismatchError', () => {
    rejects(bytes, 'ClassifierMismatchError', /another base model \('tiny'/, { hash: 'cd'.repeat(32), cfg: TINY_VGG });
    rejects(bytes, 'ClassifierMismatchError', /tiny-vgg base, the loaded model is vgg16/, { hash: HASH, cfg: VGG16 });
  });

  it('rejects schema violations and hostile sizes before allocating', () => {
    const cases: [(j: Record<string, unknown>) => void, RegExp][] = [
      [(j) => (j.format = 'something'), /format/],
      [(j) => (j.classes = ['only one']), /classes/],
      [(j) => (j.classes = ['a', 'a', 'b']), /repeat/],
      [(j) => (j.classes = ['a', '', 'b']), /non-empty/],
      [(j) => ((j.head as { kind: string }).kind = 'transformer'), /head.kind/],
      [(j) => ((j.head as { hidden: number }).hidden = 1e9), /head.hidden/],
      [(j) => ((j.base as { hash: string }).hash = 'nope'), /base.hash/],
      [(j) => ((j.tensors as { dims: number[] }[])[0]!.dims = [1e9, 1e9]), /invalid dims/],
      [(j) => delete j.fineTuned, /fineTuned/],
    ];
    for (const [edit, message] of cases) rejects(editManifest(bytes, edit), 'ClassifierFormatError', message);
    const huge = bytes.slice(0, 16);
    new DataView(huge.buffer).setUint32(12, 0xffffffff, true);
    rejects(huge, 'ClassifierFormatError', /manifest claims/);
    const notJson = bytes.slice();
    notJson[16] = 0x7b + 1;
    rejects(notJson, 'ClassifierFormatError', /JSON/);
    expect(() => parseClassifier({ length: MAX_CLASSIFIER_BYTES + 1 } as Uint8Array, base)).toThrow();
  });
});
