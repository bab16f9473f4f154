// The image half of `mmft generate` for vision-to-LLM models (BLIP-2, later LLaVA): which image goes
// with which prompt, the pixels as the checkpoint's processor prescribes them (@mmft/image with
// preprocessor_config.json, as objective-causal-lm feeds them), and the token rows with the image
// span where the model's processor says it goes (ModelProcessor.imageTokens in
// packages/core/src/contracts/model.ts):
// - absent: the model places the image itself (legacy BLIP-2 prepends its queries), the text alone;
// - 'prefix': `count` image ids in front of the tokenized text (transformers' Blip2Processor,
//   models/blip_2/processing_blip_2.py, writes num_query_tokens of them before bos);
// - 'placeholder': the ids replace the prompt's `<image>` mark (LlavaProcessor,
//   models/llava/processing_llava.py), one span per mark and one image per span in reading order
//   when a prompt has several (IDEFICS's interleaved prompts); without a mark `<image>\n` goes in front of the prompt, as
//   LLaVA's preprocess_multimodal (llava/train/train.py) does. Each side of the mark is tokenized on
//   its own, as LLaVA's tokenizer_image_token (llava/mm_utils.py) splits the prompt.
// Rows are left-padded: decoder-only generation continues the right end of every row, and positions
// come from the attention mask, so padding before a prefix span equals Blip2Processor's padding
// between the span and the text (objective-causal-lm pads evaluation prompts the same way).
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { IMAGE_MARK, imagePromptIds, MmftError, type ImageTokens, type TextTokenizer, type VisionLanguageModel } from '@mmft/core';
import { preprocessOptionsSchema, preprocessResolved } from '@mmft/image';

// The image span's placement is shared with `mmft serve`, so it lives in core (processor/image-prompt.ts).
export { IMAGE_MARK, imagePromptIds, withImageMark } from '@mmft/core';

/**
 * The token ids of a prompt with several `<image>` marks for a 'placeholder' model: each mark
 * replaced by the image span, each piece of text between marks tokenized on its own (core's
 * imagePromptIds does this for one mark, as LLaVA's tokenizer_image_token splits the prompt;
 * IdeficsProcessor, src/transformers/models/idefics/processing_idefics.py, tokenizes the whole
 * string, where the special added `<image>` splits the text the same way before the tokenizer's
 * model sees it). Other placements place one image themselves, so imagePromptIds refuses their marks.
 *
 * @example
 * severalImagePromptIds(tokenizer, '<image>Output: a red circle<image>Output:', { tokenId: 654, count: 1, placement: 'placeholder' }, true, '--prompt');
 */
export function severalImagePromptIds(
  tokenizer: TextTokenizer,
  text: string,
  imageTokens: ImageTokens | undefined,
  addSpecialTokens: boolean,
  where: string,
): number[] {
  if (imageMarks(text) <= 1 || imageTokens?.placement !== 'placeholder')
    return imagePromptIds(tokenizer, text, imageTokens, addSpecialTokens, where);
  const encode = (t: string, special: boolean) => tokenizer.encode([t], { truncation: false, addSpecialTokens: special }).inputIds[0]!;
  const span = new Array<number>(imageTokens.count).fill(imageTokens.tokenId);
  const [first, ...rest] = text.split(IMAGE_MARK);
  return [...encode(first!, addSpecialTokens), ...rest.flatMap((piece) => [...span, ...(piece === '' ? [] : encode(piece, false))])];
}

/** One generation row: its image (index into the --image list) and its prompt (absent: caption from bos alone). */
export interface ImageRow {
  readonly image: number;
  /** Every image of a prompt with several `<image>` marks, in reading order (`image` is the first). */
  readonly images?: readonly number[];
  readonly prompt?: string;
}

/** How many `<image>` marks a prompt has. */
export const imageMarks = (prompt: string): number => prompt.split(IMAGE_MARK).length - 1;

/**
 * Rows whose prompts have several `<image>` marks (an interleaved, few-shot prompt for IDEFICS or
 * LLaVA): the prompts take the --image files in order, one per mark (a prompt without a mark takes
 * one, placed in front of it); the counts must add up to the number of images.
 */
function severalImageRows(images: readonly string[], prompts: readonly string[]): ImageRow[] {
  const counts = prompts.map((p) => Math.max(1, imageMarks(p)));
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== images.length) {
    throw new MmftError(
      'E_INPUT',
      `mmft generate: the --prompt "${IMAGE_MARK}" marks (${counts.join(' + ')}, a prompt without one counting 1) take ${total} images but ${images.length} --image were given`,
      { hint: `give one --image per "${IMAGE_MARK}" mark, in reading order, prompt after prompt` },
    );
  }
  let next = 0;
  return prompts.map((prompt, i) => {
    const taken = Array.from({ length: counts[i]! }, () => next++);
    return taken.length > 1 ? { image: taken[0]!, images: taken, prompt } : { image: taken[0]!, prompt };
  });
}

/**
 * Pairs images and prompts: as many of each → pairwise; one prompt → it asks about every image;
 * one image → every prompt asks about it; no prompt → each image is captioned from bos alone
 * (Blip2ForConditionalGeneration.generate without input_ids). When a prompt has several `<image>`
 * marks, the prompts take the images in order instead, one per mark.
 *
 * @example
 * imageRows(['a.png', 'b.png'], ['Question: what color? Answer:']); // [{ image: 0, prompt }, { image: 1, prompt }]
 */
export function imageRows(images: readonly string[], prompts: readonly string[]): ImageRow[] {
  if (prompts.some((p) => imageMarks(p) > 1)) return severalImageRows(images, prompts);
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
