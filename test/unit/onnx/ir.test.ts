/** The typed attribute reader and the auto_pad rule of the in-memory ONNX graph. */
import { describe, expect, it } from 'vitest';
import type { Attr, Node } from '../../../src/core/onnx/ir';
import { AttributeError, readAttrs } from '../../../src/core/onnx/ir';
import { AUTO_PADS, windowPads } from '../../../src/core/onnx/shape';

const node = (attrs: Record<string, Attr>): Node => ({ op: 'Conv', name: 'conv_1', inputs: [], outputs: [], attrs });

describe('readAttrs', () => {
  const at = readAttrs(
    node({
      group: { type: 'int', value: 2 },
      alpha: { type: 'float', value: 0.5 },
      pads: { type: 'ints', value: [1, 0, 1, 0] },
      scales: { type: 'floats', value: [0.25, 4] },
      auto_pad: { type: 'string', value: 'SAME_LOWER' },
    }),
  );

  it('reads each type as stored', () => {
    expect(at.int('group', 1)).toBe(2);
    expect(at.float('alpha', 1)).toBe(0.5);
    expect(at.ints('pads', [0, 0, 0, 0])).toEqual([1, 0, 1, 0]);
    expect(at.floats('scales', [])).toEqual([0.25, 4]);
    expect(at.string('auto_pad', 'NOTSET')).toBe('SAME_LOWER');
    expect(at.oneOf('auto_pad', AUTO_PADS, 'NOTSET')).toBe('SAME_LOWER');
  });

  it('gives the fallback for an absent attribute', () => {
    expect(at.int('transB', 0)).toBe(0);
    expect(at.float('beta', 1)).toBe(1);
    expect(at.ints('strides', [1, 1])).toEqual([1, 1]);
    expect(at.floats('weights', [3])).toEqual([3]);
    expect(at.string('mode', 'constant')).toBe('constant');
    expect(readAttrs(node({})).oneOf('auto_pad', AUTO_PADS, 'NOTSET')).toBe('NOTSET');
  });

  it('names op, node and attribute when a required attribute is absent', () => {
    expect(() => at.ints('kernel_shape')).toThrow(AttributeError);
    expect(() => at.ints('kernel_shape')).toThrow("Conv node 'conv_1': attribute 'kernel_shape' is required");
  });

  it('rejects an attribute of another type rather than casting it', () => {
    expect(() => at.ints('group', [1])).toThrow("Conv node 'conv_1': attribute 'group' is int, the op takes ints");
    expect(() => at.int('alpha', 1)).toThrow("attribute 'alpha' is float, the op takes int");
    expect(() => at.float('group', 1)).toThrow(AttributeError);
    expect(() => at.string('pads', '')).toThrow(AttributeError);
  });

  it('rejects a value outside the allowed set, listing the set', () => {
    const odd = readAttrs(node({ auto_pad: { type: 'string', value: 'SAME' } }));
    expect(() => odd.oneOf('auto_pad', AUTO_PADS, 'NOTSET')).toThrow(
      "Conv node 'conv_1': attribute 'auto_pad' = 'SAME' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)",
    );
    expect(odd.string('auto_pad', 'NOTSET')).toBe('SAME');
  });
});

describe('windowPads (ONNX auto_pad: out = ⌈in / stride⌉, the odd pad at the end for UPPER, the start for LOWER)', () => {
  const ones = [1, 1];
  it('keeps explicit pads for NOTSET and pads nothing for VALID', () => {
    expect(windowPads('NOTSET', [5, 5], [3, 3], ones, ones, [1, 2, 0, 1])).toEqual([1, 2, 0, 1]);
    expect(windowPads('VALID', [5, 5], [3, 3], ones, ones, [1, 2, 0, 1])).toEqual([0, 0, 0, 0]);
  });

  it('splits an even total evenly: 3×3 stride 1 → 1 on each side', () => {
    expect(windowPads('SAME_UPPER', [5, 6], [3, 3], ones, ones, [])).toEqual([1, 1, 1, 1]);
    expect(windowPads('SAME_LOWER', [5, 6], [3, 3], ones, ones, [])).toEqual([1, 1, 1, 1]);
  });

  it('puts the odd unit at the end (UPPER) or the beginning (LOWER): 2×2 and 4×4 stride 1', () => {
    expect(windowPads('SAME_UPPER', [5, 5], [2, 4], ones, ones, [])).toEqual([0, 1, 1, 2]);
    expect(windowPads('SAME_LOWER', [5, 5], [2, 4], ones, ones, [])).toEqual([1, 2, 0, 1]);
  });

  it('with a stride: 8 → 4 by 3×3 stride 2 needs 1 (⌈8/2⌉ = 4: 3·2 + 3 − 8); 7 → 4 needs 2', () => {
    expect(windowPads('SAME_UPPER', [8, 7], [3, 3], [2, 2], ones, [])).toEqual([0, 1, 1, 1]);
    expect(windowPads('SAME_LOWER', [8, 7], [3, 3], [2, 2], ones, [])).toEqual([1, 1, 0, 1]);
  });

  it('never pads negatively (1×1 stride 2 on 6), and counts dilation in the window (3×3 dilation 2 → 5)', () => {
    expect(windowPads('SAME_UPPER', [6], [1], [2], [1], [])).toEqual([0, 0]);
    expect(windowPads('SAME_UPPER', [6], [3], [1], [2], [])).toEqual([2, 2]);
  });

  it('needs static sizes for SAME_*', () => {
    expect(() => windowPads('SAME_UPPER', ['H', 5], [3, 3], ones, ones, [])).toThrow(/static spatial sizes/);
  });
});
