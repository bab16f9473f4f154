// The image half of `mmft generate` for vision-to-LLM models (BLIP-2, later LLaVA): which image goes
// with which prompt, the pixels as the checkpoint's processor prescribes them (@mmft/image with
// preprocessor_config.json, as objective-causal-lm feeds them), and the token rows with the image
// span where the model's processor says it goes (ModelProcessor.imageTokens in
// packages/core/src/contracts/model.ts):
// - absent: the model places the image itself (legacy BLIP-2 prepends its queries), the text alone;
// - 'prefix': `count` image ids in front of the tokenized text (transformers' Blip2Processor,
//   models/blip_2/processing_blip_2.py, writes num_query_tokens of them before bos);
// - 'placeholder': the ids replace the prompt's `<image>` mark (LlavaProcessor,
//   models/llava/processing_llava.py); without a mark `<image>\n` goes in front of the prompt, as
//   LLaVA's preprocess_multimodal (llava/train/train.py) does. Each side of the mark is tokenized on
//   its own, as LLaVA's tokenizer_image_token (llava/mm_utils.py) splits the prompt.
// Rows are left-padded: decoder-only generation continues the right end of every row, and positions
// come from the attention mask, so padding before a prefix span equals Blip2Processor's padding
// between the span and the text (objective-causal-lm pads evaluation prompts the same way).
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import { preprocessOptionsSchema, preprocessResolved } from '@mmft/image';

// The image span's placement is shared with `mmft serve`, so it lives in core (processor/image-prompt.ts).
export { IMAGE_MARK, imagePromptIds, withImageMark } from '@mmft/core';

/** One generation row: its image (index into the --image list) and its prompt (absent: caption from bos alone). */
export interface ImageRow {
  readonly image: number;
  readonly prompt?: string;
}

/**
 * Pairs images and prompts: as many of each → pairwise; one prompt → it asks about every image;
 * one image → every prompt asks about it; no prompt → each image is captioned from bos alone
 * (Blip2ForConditionalGeneration.generate without input_ids).
 *
 * @example
 * imageRows(['a.png', 'b.png'], ['Question: what color? Answer:']); // [{ image: 0, prompt }, { image: 1, prompt }]
 */
export function imageRows(images: readonly string[], prompts: readonly string[]): ImageRow[] {
  if (prompts.length === 0) return images.map((_, image) => ({ image }));
  if (prompts.length === images.length) return images.map((_, image) => ({ image, prompt: prompts[image]! }));
  if (prompts.length === 1) return images.map((_, image) => ({ image, prompt: prompts[0]! }));
  if (images.length === 1) return prompts.map((prompt) => ({ image: 0, prompt }));
  throw new MmftError('E_INPUT', `mmft generate: ${images.length} --image and ${prompts.length} --prompt do not pair up`, {
    hint: 'give one --prompt per --image (paired in order), one --prompt for all images, one --image for all prompts, or no --prompt to caption',
  });
}

/** Whether a loaded model is a bridge that generates from images (family 'vision-to-llm' with generate). */
export const readsImages = (model: VisionLanguageModel): boolean =>
  model.family === 'vision-to-llm' && typeof model.generate === 'function';

/**
 * The images preprocessed with the model's image processing, stacked [N, 3, S, S] in the order given.
 * A missing or undecodable file is an E_INPUT error naming it.
 */
export async function imagePixels(
  model: VisionLanguageModel,
  files: readonly string[],
  shown: readonly string[] = files,
): Promise<tf.Tensor4D> {
  const p = model.processor.imageProcessing;
  if (!p) {
    throw new MmftError('E_CHECKPOINT', `model "${model.modelType}" reads images but has no image processing (preprocessor_config.json)`, {
      hint: 'put the preprocessor_config.json of the checkpoint in its folder',
    });
  }
  const options = preprocessOptionsSchema.parse({ size: p.size, cropSize: p.cropSize, mean: [...p.mean], std: [...p.std] });
  const images = await Promise.all(
    files.map(async (file, i) => {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
        throw new MmftError('E_INPUT', `--image ${shown[i]}: no such file (${file})`, {
          hint: 'give the path of a JPEG, PNG, WebP or SVG file',
        });
      }
      try {
        return await preprocessResolved(file, options);
      } catch (cause) {
        throw new MmftError('E_INPUT', `--image ${shown[i]}: ${cause instanceof Error ? cause.message : String(cause)}`, {
          cause,
          hint: 'mmft reads JPEG, PNG, WebP and SVG images; re-encode the file',
        });
      }
    }),
  );
  const [, h, w] = images[0]!.shape;
  const data = new Float32Array(images.length * 3 * h * w);
  images.forEach((image, i) => data.set(image.data, i * 3 * h * w));
  return tf.tensor4d(data, [images.length, 3, h, w], 'float32');
}
