/**
 * The header of the published `timm/vgg16.tv_in1k` model.safetensors, written out by hand from timm's
 * VGG code (features.N at N = 0, 2, 5, …, 28; pre_logits.fc1 a 7×7 conv; pre_logits.fc2 a 1×1 conv;
 * head.fc), laid out in name order: the converter reads it as full-size VGG16.
 */
import { describe, expect, it } from 'vitest';
import { parseHeader } from '../../../src/core/vgg16/safetensors-header';
import { VGG16, WeightsMismatchError } from '../../../src/core/vgg16/spec';

const CONVS: [number, number, number][] = [
  [0, 3, 64],
  [2, 64, 64],
  [5, 64, 128],
  [7, 128, 128],
  [10, 128, 256],
  [12, 256, 256],
  [14, 256, 256],
  [17, 256, 512],
  [19, 512, 512],
  [21, 512, 512],
  [24, 512, 512],
  [26, 512, 512],
  [28, 512, 512],
];

function timmHeader(): { json: Uint8Array; dataBytes: number } {
  const shapes: [string, number[]][] = [
    ...CONVS.flatMap(([n, i, o]): [string, number[]][] => [
      [`features.${n}.weight`, [o, i, 3, 3]],
      [`features.${n}.bias`, [o]],
    ]),
    ['pre_logits.fc1.weight', [4096, 512, 7, 7]],
    ['pre_logits.fc1.bias', [4096]],
    ['pre_logits.fc2.weight', [4096, 4096, 1, 1]],
    ['pre_logits.fc2.bias', [4096]],
    ['head.fc.weight', [1000, 4096]],
    ['head.fc.bias', [1000]],
  ];
  shapes.sort(([a], [b]) => (a < b ? -1 : 1));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let at = 0;
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + n] };
    at += n;
  }
  return { json: new TextEncoder().encode(JSON.stringify(header)), dataBytes: at };
}

describe('the published timm VGG16 header', () => {
  it('is full-size VGG16: 32 tensors, 138,357,544 floats, fc1 rows of 25,088', () => {
    const { json, dataBytes } = timmHeader();
    const layout = parseHeader(json, VGG16);
    expect(layout.naming).toBe('timm');
    expect(dataBytes).toBe(138_357_544 * 4);
    expect(layout.totalBytes).toBe(8 + json.length + dataBytes);
    expect(layout.tensors).toHaveLength(32);
    // File order is name order: head.fc before pre_logits, features.10 before features.2.
    expect(layout.tensors.map((t) => t.name).indexOf('head.fc.weight')).toBeLessThan(
      layout.tensors.map((t) => t.name).indexOf('pre_logits.fc1.weight'),
    );
    const fc1 = layout.tensors.find((t) => t.name === 'pre_logits.fc1.weight')!;
    expect([fc1.layer, fc1.rows, fc1.rowElems]).toEqual(['fc1', 4096, 25088]);
    expect(layout.tensors.find((t) => t.name === 'features.28.weight')!.layer).toBe('block5_conv3');
    expect(layout.tensors.find((t) => t.name === 'features.5.bias')!.layer).toBe('block2_conv1');
  });

  it('a VGG16-BN file (convs at other indices) is another model', () => {
    const text = new TextDecoder().decode(timmHeader().json).replaceAll('features.2.', 'features.3.');
    expect(() => parseHeader(new TextEncoder().encode(text), VGG16)).toThrow(WeightsMismatchError);
    expect(() => parseHeader(new TextEncoder().encode(text), VGG16)).toThrow(
      /'features\.2\.weight' \(block1_conv2\) is missing/,
    );
  });
});
