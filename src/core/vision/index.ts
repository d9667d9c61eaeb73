/** Platform-free image code: resizing, network preprocessing, colour maps and heatmap overlays. */
export { assertRgba, createImage, ImageShapeError, type RgbaImage } from './image';
export { crop, resizeBilinear, resizeCenterCrop, resizeFloatMap, shorterSideSize } from './resize';
export { CAFFE_MEAN_BGR, TORCH_MEAN_RGB, TORCH_STD_RGB, toNchw, toNchwBatch, type PreprocessMode } from './preprocess';
export { applyJet, jet, type Rgb } from './colormap';
export { blendHeatmap, overlayHeatmap } from './overlay';
