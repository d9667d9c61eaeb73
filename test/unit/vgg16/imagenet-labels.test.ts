import { describe, expect, it } from 'vitest';
import { IMAGENET_CLASS_NAMES, IMAGENET_LABELS } from '../../../src/core/vgg16/imagenet-labels';

describe('ImageNet labels', () => {
  it('has 1000 classes, each a non-empty name', () => {
    expect(IMAGENET_LABELS).toHaveLength(1000);
    expect(IMAGENET_CLASS_NAMES).toHaveLength(1000);
    expect(IMAGENET_LABELS.every((l) => l.length > 0 && l === l.trim() && !l.includes(','))).toBe(true);
  });

  it('is in the standard (Keras / torchvision) index order', () => {
    const known: [number, string][] = [
      [0, 'tench'],
      [1, 'goldfish'],
      [2, 'great white shark'],
      [7, 'cock'],
      [207, 'golden retriever'],
      [281, 'tabby'],
      [285, 'Egyptian cat'],
      [386, 'African elephant'],
      [409, 'analog clock'],
      [457, 'bow tie'],
      [508, 'computer keyboard'],
      [817, 'sports car'],
      [948, 'Granny Smith'],
      [954, 'banana'],
      [999, 'toilet tissue'],
    ];
    for (const [i, name] of known) expect(IMAGENET_LABELS[i], `index ${i}`).toBe(name);
    expect(IMAGENET_CLASS_NAMES[0]).toBe('tench, Tinca tinca');
    expect(IMAGENET_CLASS_NAMES[999]).toBe('toilet tissue, toilet paper, bathroom tissue');
  });

  it('repeats only the two short labels whose first synonyms repeat', () => {
    const seen = new Map<string, number[]>();
    IMAGENET_LABELS.forEach((l, i) => seen.set(l, [...(seen.get(l) ?? []), i]));
    const repeated = [...seen].filter(([, at]) => at.length > 1);
    expect(repeated).toEqual([
      ['crane', [134, 517]],
      ['maillot', [638, 639]],
    ]);
    expect(IMAGENET_CLASS_NAMES[639]).toBe('maillot, tank suit');
  });

  it('is frozen', () => {
    expect(Object.isFrozen(IMAGENET_LABELS)).toBe(true);
  });
});
