/**
 * An independent reference for VGG16 safetensors files: a whole-file reader, and the network as an
 * ONNX graph built straight from the file's tensors as timm runs it (conv + ReLU modules, a max-pool
 * where the Sequential's indices skip one, fc1 as a conv over the last feature map, fc2 as a 1×1
 * conv, Flatten, Gemm) — no bundle, converter or spec code. Plus torchvision's preprocessing.
 */
import { GraphBuilder } from '../../src/core/onnx/builder';
import { encodeModel } from '../../src/core/onnx/encode';
import type { RgbaImage } from '../../src/core/vision/image';
import type { VggWeights } from '../../src/core/vgg16/spec';

export type StFile = Map<string, { shape: number[]; data: Float32Array }>;

/** Every F32 tensor of a safetensors file held whole in memory (views of `bytes`). */
export function readSafetensorsWhole(bytes: Uint8Array): StFile {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out: StFile = new Map();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [b, end] = e.data_offsets;
    // A view where the data is 4-byte aligned (always, for files written as Python does), else a copy.
    const at = bytes.byteOffset + 8 + n + b;
    const data =
      at % 4 === 0
        ? new Float32Array(bytes.buffer, at, (end - b) / 4)
        : new Float32Array(bytes.slice(8 + n + b, 8 + n + end).buffer);
    out.set(name, { shape: e.shape, data });
  }
  return out;
}

const convIndices = (f: StFile) =>
  [...f.keys()]
    .map((k) => /^features\.(\d+)\.weight$/.exec(k)?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number)
    .sort((a, b) => a - b);

/** The timm VGG forward as ONNX: input `x` [1, 3, S, S] (torch-preprocessed), output logits [1, classes]. */
export function referenceOnnx(f: StFile, size: number): Uint8Array {
  const b = new GraphBuilder('timm-vgg-reference');
  const init = (name: string) => {
    const t = f.get(name)!;
    return b.initializer({ name, dtype: 'float32', dims: t.shape, data: t.data });
  };
  let x = b.input('x', 'float32', [1, 3, size, size]);
  const idx = convIndices(f);
  idx.forEach((i, k) => {
    x = b.relu(b.conv(x, init(`features.${i}.weight`), init(`features.${i}.bias`), { pads: [1, 1, 1, 1] }));
    const next = idx[k + 1];
    if (next === undefined || next - i === 3) x = b.maxPool(x, { kernel_shape: [2, 2], strides: [2, 2] });
  });
  x = b.relu(b.conv(x, init('pre_logits.fc1.weight'), init('pre_logits.fc1.bias')));
  x = b.relu(b.conv(x, init('pre_logits.fc2.weight'), init('pre_logits.fc2.bias')));
  const logits = b.gemm(b.flatten(x), init('head.fc.weight'), init('head.fc.bias'), { transB: 1 });
  b.output(logits);
  return encodeModel(b.graph);
}

/** The same tensors as internal-layout weights for the TensorFlow.js Grad-CAM (layer names by position). */
export function weightsFromFile(f: StFile, blocks: number[][]): VggWeights {
  const w: VggWeights = new Map();
  const idx = convIndices(f);
  let k = 0;
  blocks.forEach((widths, bi) =>
    widths.forEach((_, ci) => {
      const i = idx[k++]!;
      w.set(`block${bi + 1}_conv${ci + 1}`, {
        kernel: f.get(`features.${i}.weight`)!.data,
        bias: f.get(`features.${i}.bias`)!.data,
      });
    }),
  );
  for (const [layer, name] of [
    ['fc1', 'pre_logits.fc1'],
    ['fc2', 'pre_logits.fc2'],
    ['predictions', 'head.fc'],
  ])
    w.set(layer!, { kernel: f.get(`${name}.weight`)!.data, bias: f.get(`${name}.bias`)!.data });
  return w;
}

/** torchvision's ImageNet preprocessing of an already resized image: RGB / 255, minus mean, over std, NCHW. */
export function torchPreprocess(img: RgbaImage): Float32Array {
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const hw = img.width * img.height;
  const out = new Float32Array(3 * hw);
  for (let p = 0; p < hw; p++)
    for (let c = 0; c < 3; c++) out[c * hw + p] = (img.data[p * 4 + c]! / 255 - mean[c]!) / std[c]!;
  return out;
}
