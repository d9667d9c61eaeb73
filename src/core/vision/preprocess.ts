/** Turning RGBA pixels into the float NCHW tensor a network was trained on; alpha is dropped. */
import { assertRgba, type RgbaImage } from './image';

/**
 * 'caffe': Keras' VGG16 convention (BGR, ImageNet mean subtracted, 0..255 scale).
 * 'torch': torchvision's convention (RGB scaled to 0..1, then standardised per channel).
 */
export type PreprocessMode = 'caffe' | 'torch';

/** ImageNet channel means in B, G, R order, as keras.applications.vgg16.preprocess_input subtracts them. */
export const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68] as const;
/** torchvision's ImageNet mean and standard deviation, R, G, B order, on the 0..1 scale. */
export const TORCH_MEAN_RGB = [0.485, 0.456, 0.406] as const;
export const TORCH_STD_RGB = [0.229, 0.224, 0.225] as const;

/** For each output plane: which RGBA byte feeds it, and the map (v / range - mean) / std applied to that byte. */
interface Plane {
  source: number;
  range: number;
  mean: number;
  std: number;
}

function planes(mode: PreprocessMode): Plane[] {
  if (mode === 'caffe') {
    // Plane 0 is blue (byte 2), plane 2 is red (byte 0): the channel swap Caffe-trained weights expect.
    return CAFFE_MEAN_BGR.map((mean, c) => ({ source: 2 - c, range: 1, mean, std: 1 }));
  }
  // torchvision first maps bytes to 0..1 (ToTensor), then standardises.
  return TORCH_MEAN_RGB.map((mean, c) => ({ source: c, range: 255, mean, std: TORCH_STD_RGB[c]! }));
}

/** Write one image's three planes into `out` starting at `offset` (so batches fill one buffer). */
function writeNchw(img: RgbaImage, mode: PreprocessMode, out: Float32Array, offset: number): void {
  const hw = img.width * img.height;
  planes(mode).forEach(({ source, range, mean, std }, c) => {
    const base = offset + c * hw;
    for (let i = 0; i < hw; i++) out[base + i] = (img.data[i * 4 + source]! / range - mean) / std;
  });
}

/** A 1×3×H×W float32 tensor of the image, normalised for `mode`. */
export function toNchw(img: RgbaImage, mode: PreprocessMode): Float32Array {
  assertRgba(img);
  const out = new Float32Array(3 * img.width * img.height);
  writeNchw(img, mode, out, 0);
  return out;
}

/** An N×3×H×W tensor; every image must already have the same size (resize first). */
export function toNchwBatch(imgs: readonly RgbaImage[], mode: PreprocessMode): Float32Array {
  const first = imgs[0];
  if (!first) return new Float32Array(0);
  const size = 3 * first.width * first.height;
  const out = new Float32Array(imgs.length * size);
  imgs.forEach((img, n) => {
    assertRgba(img);
    if (img.width !== first.width || img.height !== first.height) {
      throw new RangeError(`batch image ${n} is ${img.width}×${img.height}, expected ${first.width}×${first.height}`);
    }
    writeNchw(img, mode, out, n * size);
  });
  return out;
}
