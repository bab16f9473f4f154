// @mmft/image: decode, preprocess (CLIP-style) and batch images for training, in a worker pool.
export { IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, OPENAI_CLIP_MEAN, OPENAI_CLIP_STD } from './constants';
export { decodeImage, describeInput, type DecodedImage, type ImageInput } from './decode';
export { centerCropBox, randomResizedCropBox, shortestEdgeSize, type Box } from './geometry';
export {
  augmentSchema,
  preprocessOptionsSchema,
  type AugmentOptions,
  type PreprocessOptions,
  type PreprocessOptionsInput,
} from './options';
export { preprocess, preprocessResolved, type PreprocessedImage } from './preprocess';
export { ImagePipeline, type ImageBatch, type ImagePipelineOptions } from './pipeline';
export { ImageWorkerPool } from './pool';
export { deriveSeed, SeededRng } from './rng';
export {
  applyPerturbation,
  centreCropBox,
  centreCropResize,
  gaussianBlur,
  gaussianKernel1d,
  gaussianNoise,
  perturbationName,
  perturbImage,
  toBytes,
  type ImagePerturbation,
  type RgbPixels,
} from './perturb';
