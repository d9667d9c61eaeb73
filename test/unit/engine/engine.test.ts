/** The engine object in Node, as the CLI and the worker use it (tiny architecture, in-memory store). */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { buildBundle } from '../../../src/core/bundle/build';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import type { BundleStore } from '../../../src/core/bundle/manifest';
import { LOW_MEMORY_GB } from '../../../workers/engine/backend';
import { Engine } from '../../../workers/engine/engine';
import { MemoryStore } from '../../helpers/memory-store';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Full collections, with turns of the event loop between them (FinalizationRegistry callbacks run there), until `done`. */
async function collectGarbage(done: () => boolean): Promise<void> {
  for (let i = 0; i < 20 && !done(); i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

const frame = (w: number, h: number, f: (x: number, y: number) => [number, number, number]) => {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      data.set([...f(x, y), 255], (y * w + x) * 4);
    }
  return { width: w, height: h, data };
};

describe('Engine', () => {
  const store = new MemoryStore();
  const labels = Array.from({ length: TINY_VGG.classes }, (_, i) => `thing ${i}`);

  beforeAll(async () => {
    const weights = demoWeights(TINY_VGG, 3);
    const common = { cfg: TINY_VGG, weights, source: 'demo' as const, pretrained: false, labels };
    store.add(await buildBundle({ id: 'caffe', quantization: 'int8', preprocessing: 'caffe', ...common }));
    store.add(await buildBundle({ id: 'torch', quantization: 'int8', preprocessing: 'torch', ...common }));
  });

  it('says it fell back to WASM when no WebGPU adapter exists', async () => {
    const e = new Engine({ store, hasWebGpu: async () => false, maxThreads: () => 2 });
    expect(await e.init()).toEqual({ device: 'wasm', threads: 2, fallbackReason: expect.stringMatching(/WebGPU/) });
    expect((await e.init({ device: 'wasm', threads: 8 })).threads).toBe(2);
  });

  it("asks the host for the device's runtime build and stays on WASM when the host has only that", async () => {
    const asked: string[] = [];
    // A host whose worker already loaded the WASM-only build: it answers 'wasm' to everything.
    const wasmOnly = new Engine({
      store,
      hasWebGpu: async () => true,
      loadRuntime: async (d) => (asked.push(d), 'wasm'),
    });
    expect(await wasmOnly.init()).toEqual({
      device: 'wasm',
      threads: 1,
      fallbackReason: expect.stringMatching(/reload the page to use WebGPU/),
    });
    expect(asked).toEqual(['webgpu', 'wasm']);
    asked.length = 0;
    // A host that can serve WebGPU; and a WASM request never asks for the WebGPU build.
    const both = new Engine({ store, hasWebGpu: async () => true, loadRuntime: async (d) => (asked.push(d), d) });
    expect(await both.init()).toEqual({ device: 'webgpu', threads: 1 });
    expect(await both.init({ device: 'wasm' })).toEqual({ device: 'wasm', threads: 1 });
    expect(asked).toEqual(['webgpu', 'wasm']);
    asked.length = 0;
    // A WebGPU build that fails to load (say, evicted from the cache offline): WASM, saying why.
    const failing = new Engine({
      store,
      hasWebGpu: async () => true,
      loadRuntime: async (d) => {
        asked.push(d);
        if (d === 'webgpu') throw new Error('Failed to fetch ort.min.mjs');
        return d;
      },
    });
    expect(await failing.init()).toEqual({
      device: 'wasm',
      threads: 1,
      fallbackReason: 'the WebGPU runtime did not load (Failed to fetch ort.min.mjs): running on WASM-SIMD',
    });
    expect(asked).toEqual(['webgpu', 'wasm']);
  });

  it('memory saver: on at ≤ LOW_MEMORY_GB or when asked; the live view then never builds the Winograd base', async () => {
    const reads: string[] = [];
    const counting: BundleStore = {
      manifest: (id) => store.manifest(id),
      shard: async (id, file) => (reads.push(file), store.shard(id, file)),
    };
    const photo = frame(40, 40, (x, y) => [x * 6, y * 6, (x * y) % 255]);
    /** Shard reads during three frames (the Winograd build re-reads the base's), and the last frame. */
    const frames = async (e: Engine) => {
      await e.loadModel('caffe');
      const before = reads.length;
      for (let i = 0; i < 2; i++) await e.analyze(photo);
      const last = await e.analyze(photo);
      await e.dispose();
      return { reads: reads.length - before, last };
    };
    const small = new Engine({ store: counting, deviceMemoryGb: () => LOW_MEMORY_GB });
    expect((await small.init()).lowMemory).toBe(true);
    const big = new Engine({ store: counting, deviceMemoryGb: () => 2 * LOW_MEMORY_GB });
    expect((await big.init()).lowMemory).toBeUndefined();
    const [saver, full] = [await frames(small), await frames(big)];
    expect(saver.reads).toBe(0);
    expect(full.reads).toBeGreaterThan(0);
    // Plain and Winograd convolutions: the same answer.
    expect(saver.last.top5.map((p) => p.index)).toEqual(full.last.top5.map((p) => p.index));
    const diff = Math.max(...saver.last.heatmap.data.map((v, i) => Math.abs(v - full.last.heatmap.data[i]!)));
    expect(diff).toBeLessThan(1e-3);
    // Asked for, whatever the memory; a browser that reports no memory gets it; a host that cannot ask (Node) not.
    expect((await new Engine({ store, deviceMemoryGb: () => 8 }).init({ lowMemory: true })).lowMemory).toBe(true);
    expect((await new Engine({ store, deviceMemoryGb: () => undefined }).init()).lowMemory).toBe(true);
    expect((await new Engine({ store, deviceMemoryGb: () => undefined }).init({ lowMemory: false })).lowMemory).toBe(
      undefined,
    );
    expect((await new Engine({ store }).init()).lowMemory).toBeUndefined();
  });

  it('says why it runs one thread when the host must, and only then', async () => {
    const reason = () => 'this browser offers no WebAssembly threads';
    const one = await new Engine({ store, maxThreads: () => 1, singleThreadReason: reason }).init({ device: 'wasm' });
    expect(one).toMatchObject({ threads: 1, threadsReason: reason() });
    // One thread asked for on a host with more: no reason to give.
    const asked = await new Engine({ store, maxThreads: () => 2, singleThreadReason: reason }).init({ threads: 1 });
    expect(asked.threads).toBe(1);
    expect(asked.threadsReason).toBeUndefined();
  });

  it('refuses to analyze before a model is loaded, with a named error', async () => {
    const e = new Engine({ store });
    await expect(e.analyze(frame(8, 8, () => [0, 0, 0]))).rejects.toMatchObject({ name: 'EngineStateError' });
  });

  it('refuses a bitmap frame on a host that cannot turn it into pixels, with a named error', async () => {
    const e = new Engine({ store });
    await e.loadModel('caffe');
    const bitmap = { width: 8, height: 8, close: () => undefined };
    await expect(e.analyze(bitmap)).rejects.toMatchObject({ name: 'UnsupportedFrameError', message: /RGBA pixels/ });
    await e.dispose();
  });

  it('loads a bundle, reports progress and model info', async () => {
    const e = new Engine({ store });
    const phases: string[] = [];
    const info = await e.loadModel('caffe', (p) => phases.push(p.phase));
    expect(phases).toEqual(['verify', 'build', 'ready']);
    expect(info).toMatchObject({
      id: 'caffe',
      architecture: 'tiny-vgg',
      pretrained: false,
      quantization: 'int8',
      inputSize: 32,
    });
    expect(info.parts.every((p) => p.loaded && p.bytes > 0)).toBe(true);
    await e.dispose();
  });

  it('analyzes a frame of any size: sorted top-5 with labels, target, normalised heatmap, timings', async () => {
    const e = new Engine({ store });
    await e.loadModel('caffe');
    const r = await e.analyze(frame(97, 61, (x, y) => [x * 2, y * 4, (x * y) % 255]));
    expect(r.top5).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(r.top5[i]!.prob).toBeLessThanOrEqual(r.top5[i - 1]!.prob);
    expect(r.top5[0]!.label).toBe(labels[r.top5[0]!.index]);
    expect(r.target.index).toBe(r.top5[0]!.index);
    expect(r.heatmap.dims).toEqual([2, 2]);
    expect(Math.max(...r.heatmap.data)).toBeCloseTo(1, 5);
    expect(r.ms.total).toBeGreaterThanOrEqual(r.ms.run);
    const other = (r.target.index + 1) % TINY_VGG.classes;
    expect(
      (
        await e.analyze(
          frame(40, 40, () => [9, 9, 9]),
          { classIndex: other },
        )
      ).target,
    ).toEqual({ index: other, label: labels[other] });
    await e.dispose();
  });

  it("preprocesses per the manifest's mode", async () => {
    const img = frame(32, 32, (x, y) => [200, x * 8, y * 8]);
    const probs = async (id: string) => {
      const e = new Engine({ store });
      await e.loadModel(id);
      const r = await e.analyze(img);
      await e.dispose();
      return r.top5.map((p) => p.prob);
    };
    expect(await probs('caffe')).not.toEqual(await probs('torch'));
  });

  it('loads a base-only bundle and says what is missing when asked to classify', async () => {
    const base = demoWeights(TINY_VGG, 3, ['base']);
    store.add(
      await buildBundle({
        id: 'notop',
        cfg: TINY_VGG,
        weights: base,
        source: 'demo',
        pretrained: false,
        labels,
        quantization: 'int8',
        preprocessing: 'caffe',
      }),
    );
    const e = new Engine({ store });
    const info = await e.loadModel('notop');
    expect(info.parts.map((p) => p.name)).toEqual(['base']);
    await expect(e.analyze(frame(32, 32, () => [1, 2, 3]))).rejects.toMatchObject({
      name: 'EngineStateError',
      message: expect.stringMatching(/conv base/),
    });
    await e.dispose();
  });

  it('keeps no shard bytes after loadModel: an insight graph re-reads, verified, just the shards it names', async () => {
    const bundle = await buildBundle({
      id: 'split',
      cfg: TINY_VGG,
      weights: demoWeights(TINY_VGG, 5),
      source: 'demo',
      pretrained: false,
      labels,
      quantization: 'int8',
      preprocessing: 'caffe',
      maxShardBytes: 1024,
    });
    const shards = new Map([...bundle.shards].map(([f, b]) => [f, b.slice()]));
    const reads: string[] = [];
    const counting = {
      manifest: async () => bundle.manifest,
      shard: async (_id: string, file: string) => (reads.push(file), shards.get(file)!.slice()),
    };
    const part = (name: string) => bundle.manifest.parts.find((p) => p.name === name)!.shards.map((s) => s.file);
    const e = new Engine({ store: counting });
    await e.loadModel('split');
    expect(new Set(reads)).toEqual(new Set(shards.keys()));

    reads.length = 0;
    const img = frame(32, 32, (x, y) => [x * 8, y * 8, 40]);
    expect((await e.activations(img, 'block1_conv1')).dims[0]).toBe(TINY_VGG.blocks[0]![0]);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.length).toBeLessThan(part('base').length);
    expect(reads.every((f) => part('base').includes(f))).toBe(true);

    // A shard damaged after loadModel is caught when a graph first needs it, by name.
    const victim = part('imagenet-head')[0]!;
    shards.get(victim)![5]! ^= 0x10;
    await expect(e.explain(img, { cam: 'gradcam++' })).rejects.toMatchObject({ name: 'ShardHashError' });
    await e.dispose();
  });

  it('holds none of the bytes the store returned once loadModel is done (both live forms): V8 frees them', async () => {
    for (const lowMemory of [false, true]) {
      const alive = new Set<string>();
      let reads = 0;
      const registry = new FinalizationRegistry<string>((key) => alive.delete(key));
      const fresh: BundleStore = {
        manifest: (id) => store.manifest(id),
        shard: async (id, file) => {
          const bytes = (await store.shard(id, file)).slice();
          const key = `${file} #${reads++}`;
          alive.add(key);
          registry.register(bytes.buffer, key);
          return bytes;
        },
      };
      const e = new Engine({ store: fresh, maxThreads: () => 1 });
      await e.init({ device: 'wasm', lowMemory });
      await e.loadModel('caffe');
      await collectGarbage(() => alive.size === 0);
      expect(reads).toBeGreaterThanOrEqual(2);
      expect([...alive], `lowMemory ${lowMemory}`).toEqual([]);
      // The sessions have what they need: frames on both live forms (the second builds the Winograd base).
      for (let i = 0; i < 2; i++) expect((await e.analyze(frame(32, 32, () => [9, 99, 199]))).top5).toHaveLength(5);
      await e.dispose();
    }
  });

  it('has the shard bytes collected once a session is open (the head before the base is read), without gc()', async () => {
    const alive = new Set<string>();
    const registry = new FinalizationRegistry<string>((key) => alive.delete(key));
    let reads = 0;
    /** The head's bytes as each base shard is read: how many of them are still alive (WeakRefs clear at collection). */
    const head: WeakRef<ArrayBufferLike>[] = [];
    const headAtBase: number[] = [];
    const fresh: BundleStore = {
      manifest: (id) => store.manifest(id),
      shard: async (id, file) => {
        if (file.startsWith('base')) headAtBase.push(head.filter((r) => r.deref()).length);
        const bytes = (await store.shard(id, file)).slice();
        const key = `${file} #${reads++}`;
        alive.add(key);
        registry.register(bytes.buffer, key);
        if (file.startsWith('imagenet-head')) head.push(new WeakRef(bytes.buffer));
        return bytes;
      },
    };
    // No gc() here: a few turns of the event loop, in which FinalizationRegistry callbacks run.
    const settle = async () => {
      for (let i = 0; i < 20 && alive.size; i++) await new Promise((r) => setTimeout(r, 10));
    };
    const e = new Engine({ store: fresh, maxThreads: () => 1 });
    await e.init({ device: 'wasm', lowMemory: true });
    await e.loadModel('caffe');
    expect(reads).toBeGreaterThanOrEqual(2);
    expect(head.length).toBeGreaterThan(0);
    expect(headAtBase).toEqual([0]);
    await settle();
    expect([...alive]).toEqual([]);
    // An insight graph's own reads, likewise.
    const img = frame(32, 32, (x, y) => [x * 8, y * 8, 40]);
    expect((await e.activations(img, 'block1_conv1')).dims[0]).toBe(TINY_VGG.blocks[0]![0]);
    const after = reads;
    await settle();
    expect(after).toBeGreaterThan(2);
    expect([...alive]).toEqual([]);
    await e.dispose();
  });

  it('on WASM opens the plain base on its int8 weights (dequantized per frame), every other session folded', async () => {
    const create = vi.spyOn(ort.InferenceSession, 'create');
    const folds = () =>
      create.mock.calls.map(
        ([, o]) => (o as { extra?: { session?: Record<string, string> } }).extra?.session?.disable_quant_qdq,
      );
    const img = frame(32, 32, () => [5, 50, 150]);
    try {
      for (const lowMemory of [true, false]) {
        create.mockClear();
        const e = new Engine({ store, maxThreads: () => 1 });
        await e.init({ device: 'wasm', lowMemory });
        await e.loadModel('caffe');
        // The head, then the plain base.
        expect(folds()).toEqual(['1', undefined]);
        // Frames: the second builds the Winograd base (default only), every piece folded.
        for (let i = 0; i < 2; i++) expect((await e.analyze(img)).top5).toHaveLength(5);
        const winograd = folds().slice(2);
        if (lowMemory) expect(winograd).toEqual([]);
        else expect(winograd.length > 0 && winograd.every((f) => f === '1')).toBe(true);
        // An insight graph, folded.
        const before = folds().length;
        expect((await e.activations(img, 'block1_conv1')).dims[0]).toBe(TINY_VGG.blocks[0]![0]);
        expect(folds().slice(before)).toEqual(['1']);
        await e.dispose();
      }
    } finally {
      create.mockRestore();
    }
  });

  it('has no model library in hosts that provide none', async () => {
    await expect(new Engine({ store }).listModels()).rejects.toMatchObject({ name: 'EngineStateError' });
  });
});
