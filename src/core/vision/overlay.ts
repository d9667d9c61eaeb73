/** Drawing a low-resolution heatmap (e.g. Grad-CAM's 14×14) over the photo it explains. */
import { applyJet } from './colormap';
import { assertRgba, type RgbaImage } from './image';
import { resizeFloatMap } from './resize';

/** The heatmap brought to the image's size and coloured with jet (values expected in 0..1). */
function jetAtImageSize(img: RgbaImage, heat: Float32Array, heatW: number, heatH: number): Uint8ClampedArray {
  assertRgba(img);
  return applyJet(resizeFloatMap(heat, heatW, heatH, img.width, img.height));
}

/** Apply `mix(imageByte, jetByte)` to the colour channels; alpha stays the image's own. */
function combine(
  img: RgbaImage,
  colours: Uint8ClampedArray,
  mix: (pixel: number, colour: number) => number,
): RgbaImage {
  const data = new Uint8ClampedArray(img.data.length);
  for (let i = 0; i < data.length; i += 4) {
    for (let c = 0; c < 3; c++) data[i + c] = mix(img.data[i + c]!, colours[i + c]!);
    data[i + 3] = img.data[i + 3]!;
  }
  return { width: img.width, height: img.height, data };
}

/**
 * Deep Learning with Python's superimposition: heatmap upsampled to the image, coloured with jet, then
 * result = clip(jet × alpha + image, 0, 255). The book adds the tinted heatmap onto the full-strength
 * photo rather than blending, so hot regions also brighten; the clamped array does the clipping.
 */
export function overlayHeatmap(
  img: RgbaImage,
  heat: Float32Array,
  heatW: number,
  heatH: number,
  alpha = 0.4,
): RgbaImage {
  return combine(img, jetAtImageSize(img, heat, heatW, heatH), (pixel, colour) => colour * alpha + pixel);
}

/** A true blend for the live view: (1 − opacity) × image + opacity × jet, so brightness never saturates. */
export function blendHeatmap(
  img: RgbaImage,
  heat: Float32Array,
  heatW: number,
  heatH: number,
  opacity: number,
): RgbaImage {
  return combine(
    img,
    jetAtImageSize(img, heat, heatW, heatH),
    (pixel, colour) => (1 - opacity) * pixel + opacity * colour,
  );
}
