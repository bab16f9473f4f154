// How a vision→LLM bridge (family 'vision-to-llm' with generate: BLIP-2, LLaVA, IDEFICS) sees
// images, and their pixels: pixelValues through @mmft/image with the model's preprocessing, seeded by
// (seed, epoch, position) as objective-contrastive's collate does. A 'placeholder' bridge (LLaVA,
// IDEFICS) reads one image per `<image>` mark, its pixels [ΣN, 3, S, S] row by row; image-less rows
// (text, image-less instructions) bring no image (LLaVA's LazySupervisedDataset,
// llava/train/train.py, pads them with a zero image its model never reads).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type Example, type ImageRef, type ImageTokens, type VisionLanguageModel } from '@mmft/core';
import { deriveSeed as imageSeed, preprocessOptionsSchema, preprocessResolved, type PreprocessOptions } from '@mmft/image';
import { exampleWhere } from './pieces';

/** How a bridge sees images: 'model' = it places the image embeddings itself (legacy BLIP-2). */
export type ImageMode = { readonly kind: 'none' } | { readonly kind: 'model' } | { readonly kind: 'tokens'; readonly tokens: ImageTokens };

export const isBridge = (model: VisionLanguageModel): boolean => model.family === 'vision-to-llm' && typeof model.generate === 'function';

export function imageMode(model: VisionLanguageModel): ImageMode {
  if (!isBridge(model)) return { kind: 'none' };
  const tokens = model.processor.imageTokens;
  if (!tokens) return { kind: 'model' };
  if (!Number.isInteger(tokens.count) || tokens.count < 1) {
    throw new MmftError(
      'E_CHECKPOINT',
      `model "${model.modelType}": processor.imageTokens.count must be a positive integer, got ${tokens.count}`,
    );
  }
  return { kind: 'tokens', tokens };
}

/** Preprocess options from the checkpoint's image processing (preprocessor_config.json). */
export function preprocessOf(model: VisionLanguageModel): PreprocessOptions {
  const p = model.processor.imageProcessing;
  if (!p) {
    throw new MmftError('E_CHECKPOINT', `model "${model.modelType}" reads images but has no image processing (preprocessor_config.json)`, {
      hint: 'put preprocessor_config.json in the checkpoint folder',
    });
  }
  return preprocessOptionsSchema.parse({ size: p.size, cropSize: p.cropSize, mean: [...p.mean], std: [...p.std] });
}

/** The decoder knows only the image path: name the data file and line the example came from. */
function imageError(example: Example, cause: unknown): unknown {
  if (!example.source) return cause;
  return new MmftError('E_DATA', `${exampleWhere(example)}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
    hint: `run \`mmft data validate ${example.source.file}\` to find every missing or corrupt image before training`,
  });
}

/**
 * Pixels of the rows' images in order [ΣN, 3, S, S] (row 0's, then row 1's …): for 'placeholder'
 * bridges one per span, none for a text-only row (undefined when no row has one); for the others
 * one per row [B, 3, S, S]. Image j of the row at `position` is preprocessed with seed
 * (seed, epoch, position[, j]).
 */
export const pixelsOf = async (
  rows: ReadonlyArray<{ images: readonly ImageRef[] }>,
  examples: readonly Example[],
  epoch: number,
  positions: readonly number[],
  preprocess: PreprocessOptions | undefined,
  context: { readonly seed: number },
): Promise<tf.Tensor4D | undefined> => {
  const options = preprocess!;
  const side = options.cropSize ?? options.size;
  const jobs = rows.flatMap((r, i) =>
    r.images.map((image, j) => ({
      image,
      example: examples[i]!,
      seed: j === 0 ? imageSeed(context.seed, epoch, positions[i]!) : imageSeed(context.seed, epoch, positions[i]!, j),
    })),
  );
  if (jobs.length === 0) return undefined;
  const data = new Float32Array(jobs.length * 3 * side * side);
  await Promise.all(
    jobs.map(async ({ image, example, seed }, n) => {
      const pixels = await preprocessResolved(image, options, seed).catch((cause: unknown) => Promise.reject(imageError(example, cause)));
      data.set(pixels.data, n * 3 * side * side);
    }),
  );
  return tf.tensor4d(data, [jobs.length, 3, side, side]);
};
