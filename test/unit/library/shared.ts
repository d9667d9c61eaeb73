/** What the library's tests share: a rejection as a value, and the bundle a timm-layout import must equal. */
import { buildBundle, type Bundle } from '../../../src/core/bundle/build';
import { TINY_VGG, type VggWeights } from '../../../src/core/vgg16/spec';

/** The error `p` rejects with; fails the test if it resolves. */
export async function caught(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** The int8 bundle buildBundle makes of `weights` as timm's tiny VGG safetensors (what an import must store). */
export function timmReference(weights: VggWeights): Promise<Bundle> {
  return buildBundle({
    id: 'tiny-vgg.tv_in1k',
    cfg: TINY_VGG,
    weights,
    source: 'safetensors',
    pretrained: true,
    preprocessing: 'torch',
    labels: 'imagenet',
    quantization: 'int8',
  });
}
