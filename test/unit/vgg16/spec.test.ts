/** The VGG16 description against the facts of keras.applications.VGG16. */
import { describe, expect, it } from 'vitest';
import { denseLayers, featureSize, layers, paramCount, TINY_VGG, VGG16 } from '../../../src/core/vgg16/spec';

describe('VGG16 spec', () => {
  it('has Keras’s parameter counts (138,357,544 in all, 14,714,688 in the conv base)', () => {
    expect(paramCount(VGG16)).toBe(138357544);
    expect(paramCount(VGG16, 'base')).toBe(14714688);
    expect(paramCount(VGG16, 'imagenet-head')).toBe(138357544 - 14714688);
  });

  it('names its layers exactly as Keras, in order', () => {
    expect(layers(VGG16).map((l) => l.name)).toEqual([
      'block1_conv1',
      'block1_conv2',
      'block1_pool',
      'block2_conv1',
      'block2_conv2',
      'block2_pool',
      'block3_conv1',
      'block3_conv2',
      'block3_conv3',
      'block3_pool',
      'block4_conv1',
      'block4_conv2',
      'block4_conv3',
      'block4_pool',
      'block5_conv1',
      'block5_conv2',
      'block5_conv3',
      'block5_pool',
      'fc1',
      'fc2',
      'predictions',
    ]);
  });

  it('has a 7 × 7 × 512 block5_pool feeding fc1 (25088 inputs)', () => {
    expect(featureSize(VGG16)).toBe(7);
    expect(denseLayers(VGG16).map((l) => [l.inputs, l.units])).toEqual([
      [25088, 4096],
      [4096, 4096],
      [4096, 1000],
    ]);
  });

  it('TINY_VGG keeps the names and topology', () => {
    expect(layers(TINY_VGG).map((l) => [l.name, l.kind])).toEqual(layers(VGG16).map((l) => [l.name, l.kind]));
  });
});
