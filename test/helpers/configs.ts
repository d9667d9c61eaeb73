/** Small architectures several test files share. */
import type { VggConfig } from '../../src/core/vgg16/spec';
import { TINY_VGG } from '../../src/core/vgg16/spec';

/**
 * TINY_VGG wide enough for the Winograd rewrite, which leaves convs with fewer than 16 input channels
 * alone: every conv but the first is rewritten.
 */
export const WINOGRAD_TINY_VGG: VggConfig = {
  ...TINY_VGG,
  blocks: [
    [16, 16],
    [16, 16],
    [16, 16, 16],
    [16, 16, 16],
    [32, 32, 32],
  ],
};

/** A splitByWeights budget that cuts WINOGRAD_TINY_VGG into several pieces: one 32→32 3×3 kernel, four 16→16 ones. */
export const WINOGRAD_TINY_PIECE = 9216;
