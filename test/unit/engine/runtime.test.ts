/**
 * onnxruntime-web's .wasm handed over as bytes (workers/engine/runtime.ts): fetched with clear errors, given
 * to onnxruntime once, before its first session, and a real session then runs on it. Its own file: the WASM
 * runtime of this process starts from these bytes (Node's build, ort-wasm-simd-threaded.wasm).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../../src/core/bundle/build';
import { demoWeights } from '../../../src/core/vgg16/demo';
import { TINY_VGG } from '../../../src/core/vgg16/spec';
import { Engine } from '../../../workers/engine/engine';
import { fetchRuntimeBinary, ORT_BUILDS } from '../../../workers/engine/runtime';
import { MemoryStore } from '../../helpers/memory-store';

/** onnxruntime-web's dist/, where Node's build of the runtime lives. */
const dist = dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));

describe('fetchRuntimeBinary', () => {
  const wasm = Uint8Array.from({ length: 300 }, (_, i) => (i * 31) % 256);
  const jsep = Uint8Array.from({ length: 200 }, (_, i) => (i * 7) % 256);
  const ORT_WASM = ORT_BUILDS.wasm.wasm;
  const server = createServer((req, res) => {
    const body = req.url === `/ort/${ORT_WASM}` ? wasm : req.url === `/ort/${ORT_BUILDS.jsep.wasm}` ? jsep : undefined;
    if (body) res.writeHead(200, { 'Content-Type': 'application/wasm' }).end(body);
    else res.writeHead(404).end();
  });
  let base = '';
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("returns the bytes of the build's runtime file under the directory", async () => {
    expect(new Uint8Array(await fetchRuntimeBinary(`${base}/ort/`, 'wasm'))).toEqual(wasm);
    expect(new Uint8Array(await fetchRuntimeBinary(`${base}/ort/`, 'jsep'))).toEqual(jsep);
  });

  it('names the URL and the HTTP status when the file is missing', async () => {
    await expect(fetchRuntimeBinary(`${base}/elsewhere/`, 'wasm')).rejects.toThrow(
      `could not load onnxruntime's WebAssembly (${base}/elsewhere/${ORT_WASM}): HTTP 404`,
    );
  });

  it('names the URL when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await expect(fetchRuntimeBinary(`http://127.0.0.1:${port}/ort/`, 'wasm')).rejects.toThrow(
      `could not load onnxruntime's WebAssembly (http://127.0.0.1:${port}/ort/${ORT_WASM})`,
    );
  });
});

describe('Engine with a host that hands over the runtime bytes', () => {
  it('gives them to onnxruntime once, before the first session, which then runs on them', async () => {
    expect(ort.env.wasm.wasmBinary).toBeUndefined();
    const bytes = (await readFile(join(dist, 'ort-wasm-simd-threaded.wasm'))).buffer as ArrayBuffer;
    let calls = 0;
    const store = new MemoryStore();
    store.add(
      await buildBundle({
        id: 'tiny',
        quantization: 'int8',
        cfg: TINY_VGG,
        weights: demoWeights(TINY_VGG, 3),
        source: 'demo',
        pretrained: false,
        preprocessing: 'caffe',
        labels: Array.from({ length: TINY_VGG.classes }, (_, i) => `thing ${i}`),
      }),
    );
    const e = new Engine({ store, maxThreads: () => 1, runtimeBinary: async () => (calls++, bytes) });
    await e.init({ device: 'wasm' });
    expect(ort.env.wasm.wasmBinary).toBe(bytes);
    await e.init({ device: 'wasm' });
    await e.loadModel('tiny');
    const data = new Uint8ClampedArray(32 * 32 * 4).map((_, i) => (i * 13) % 256);
    const r = await e.analyze({ width: 32, height: 32, data });
    expect(calls).toBe(1);
    expect(r.top5).toHaveLength(5);
    expect(Math.max(...r.heatmap.data)).toBeCloseTo(1, 5);
    await e.dispose();
  });
});
