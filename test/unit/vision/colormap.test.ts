/** The jet colour map against MATLAB/OpenCV's anchor colours. */
import { describe, expect, it } from 'vitest';
import { applyJet, jet } from '../../../src/core/vision/colormap';

describe('jet', () => {
  it('runs dark blue → blue-cyan → green → orange → dark red', () => {
    expect(jet(0)).toEqual([0, 0, 128]);
    expect(jet(0.25)).toEqual([0, 128, 255]);
    expect(jet(0.5)).toEqual([128, 255, 128]);
    expect(jet(0.75)).toEqual([255, 128, 0]);
    expect(jet(1)).toEqual([128, 0, 0]);
  });

  it('is pure blue at 1/8 and pure red at 7/8, where the ramps saturate', () => {
    expect(jet(1 / 8)).toEqual([0, 0, 255]);
    expect(jet(7 / 8)).toEqual([255, 0, 0]);
  });

  it('clamps out-of-range values and treats NaN as cold', () => {
    expect(jet(-3)).toEqual(jet(0));
    expect(jet(7)).toEqual(jet(1));
    expect(jet(Number.NaN)).toEqual(jet(0));
  });
});

describe('applyJet', () => {
  it('colours each value like jet() and makes it opaque', () => {
    const values = [0, 0.1, 0.33, 0.5, 0.9, 1];
    const rgba = applyJet(Float32Array.from(values));
    expect(rgba.length).toBe(values.length * 4);
    values.forEach((v, i) =>
      expect(Array.from(rgba.subarray(i * 4, i * 4 + 4))).toEqual([...jet(Math.fround(v)), 255]),
    );
  });
});
