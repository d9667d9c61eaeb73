/**
 * ONNX-zoo import: files shaped like vgg16-12.onnx (and its Gemm/MatMul variants), imported and run
 * through our graph, compared with onnxruntime running the file itself.
 */
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '../../../src/core/onnx/encode';
import { readOnnxZoo } from '../../../src/core/vgg16/onnx-zoo';
import type { VggConfig } from '../../../src/core/vgg16/spec';
import { TINY_VGG, WeightsMismatchError } from '../../../src/core/vgg16/spec';
import { mulberry32, uniform } from '../../helpers/ort';
import type { ZooFixture } from '../../helpers/vgg-fixtures';
import { ourForward, randomWeights, writeKerasH5, writeZooOnnx } from '../../helpers/vgg-fixtures';
import { relMaxDiff } from './compare';

ort.env.wasm.numThreads = 1;

const TINY96: VggConfig = { ...TINY_VGG, name: 'tiny-vgg-96', inputSize: 96 };
/** VGG11's layout (8 conv layers), tiny widths. */
const TINY_VGG11: VggConfig = { ...TINY_VGG, name: 'tiny-vgg11', blocks: [[4], [8], [8, 8], [8, 8], [16, 16]] };

/** A torch-range (normalised) random image, NCHW. */
const image = (cfg: VggConfig, seed: number) => uniform(mulberry32(seed), 3 * cfg.inputSize ** 2, -2.1, 2.6);

async function runZoo(bytes: Uint8Array, cfg: VggConfig, x: Float32Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  expect(session.inputNames).toEqual(['data']);
  const out = await session.run({ data: new ort.Tensor('float32', x, [1, 3, cfg.inputSize, cfg.inputSize]) });
  return out[session.outputNames[0]!]!.data as Float32Array;
}

const cases: [string, VggConfig, ZooFixture][] = [
  ['zoo layout: Gemm transB = 1, vgg0_* names', TINY96, {}],
  [
    'Gemm transB = 0, opaque names, initializers reversed',
    TINY96,
    { dense: 'gemm-transB0', names: 'opaque', shuffleInitializers: true },
  ],
  ['MatMul + Add, 32 × 32', TINY_VGG, { dense: 'matmul-add', names: 'opaque' }],
];

describe.each(cases)('ONNX zoo import: %s', (_, cfg, fx) => {
  it('imports the exact weights, and our graph on them equals onnxruntime on the file', async () => {
    const w = randomWeights(cfg, 21);
    const bytes = writeZooOnnx(w, cfg, fx);
    const { weights } = readOnnxZoo(bytes, cfg);
    expect([...weights.keys()]).toEqual([...w.keys()]);
    for (const [n, lw] of w) {
      expect(weights.get(n)!.kernel, `${n} kernel`).toEqual(lw.kernel);
      expect(weights.get(n)!.bias, `${n} bias`).toEqual(lw.bias);
    }
    const x = image(cfg, 8);
    const ours = await ourForward(cfg, weights, x, true);
    const ref = await runZoo(bytes, cfg, x);
    expect(ref.length).toBe(cfg.classes);
    expect(relMaxDiff(ours.logits!, ref)).toBeLessThanOrEqual(1e-4);
    expect(Math.max(...ref) - Math.min(...ref)).toBeGreaterThan(1);
  });
});

describe('ONNX zoo import details', () => {
  it('finds layers by walking the graph, not by node order in the file', () => {
    const w = randomWeights(TINY_VGG, 2);
    // (a plain Uint8Array: encodeModel's Buffer would hit decodeModel's Buffer.slice() view issue)
    const g = decodeModel(new Uint8Array(writeZooOnnx(w, TINY_VGG, { names: 'opaque' })));
    g.nodes.reverse();
    const { weights } = readOnnxZoo(encodeModel(g), TINY_VGG);
    for (const [n, lw] of w) expect(weights.get(n), n).toEqual(lw);
  });
});

describe('ONNX zoo rejections', () => {
  const reject = (bytes: Uint8Array, message: RegExp, cfg = TINY_VGG) => {
    expect(() => readOnnxZoo(bytes, cfg)).toThrow(WeightsMismatchError);
    expect(() => readOnnxZoo(bytes, cfg)).toThrow(message);
  };

  it('a VGG11-like file with 8 conv layers', () =>
    reject(writeZooOnnx(randomWeights(TINY_VGG11, 1), TINY_VGG11), /expected 13 Conv layers, found 8/));

  it('a conv weight of the wrong shape', () => {
    const wide: VggConfig = {
      ...TINY_VGG,
      blocks: [
        [4, 4],
        [8, 12],
        [8, 8, 8],
        [8, 8, 8],
        [16, 16, 16],
      ],
    };
    reject(
      writeZooOnnx(randomWeights(wide, 1), wide),
      /Conv node 'vgg0_conv3_fwd.*' \(block2_conv2\): weight has shape \[12, 8, 3, 3\], expected \[8, 8, 3, 3\]/,
    );
  });

  it('a classifier of the wrong size', () => {
    const w = randomWeights({ ...TINY_VGG, classes: 7 }, 1);
    reject(
      writeZooOnnx(w, { ...TINY_VGG, classes: 7 }),
      /\(predictions\): weight has shape \[7, 32\], expected \[10, 32\]/,
    );
  });

  it('the right layers at the wrong input size (fc1 does not fit)', () =>
    reject(
      writeZooOnnx(randomWeights(TINY96, 1), TINY96),
      /\(fc1\): weight has shape \[32, 144\], expected \[32, 16\]/,
    ));

  it('an attribute of the wrong type, as a WeightsMismatchError naming node and attribute', () => {
    const g = decodeModel(new Uint8Array(writeZooOnnx(randomWeights(TINY_VGG, 1), TINY_VGG)));
    const gemm = g.nodes.find((n) => n.op === 'Gemm')!;
    gemm.attrs.transB = { type: 'float', value: 1 };
    reject(encodeModel(g), new RegExp(`Gemm node '${gemm.name}': attribute 'transB' is float, the op takes int`));
  });

  it('a strided Conv', () => {
    const g = decodeModel(new Uint8Array(writeZooOnnx(randomWeights(TINY_VGG, 1), TINY_VGG)));
    g.nodes.find((n) => n.op === 'Conv')!.attrs.strides = { type: 'ints', value: [2, 2] };
    reject(encodeModel(g), /\(block1_conv1\): strides \[2, 2\], VGG16 uses stride 1/);
  });

  it('garbage bytes', () => {
    const garbage = new Uint8Array(uniform(mulberry32(3), 500).buffer);
    reject(garbage, /not an ONNX model/);
  });

  it('empty bytes', () => reject(new Uint8Array(0), /not an ONNX model/));

  it('a Keras .h5 file, with a hint', async () => {
    const bytes = await writeKerasH5(randomWeights(TINY_VGG, 1), TINY_VGG, { style: 'keras2', includeTop: true });
    reject(bytes, /HDF5 file.*Keras importer/);
  });
});
