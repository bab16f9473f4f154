// A prompt's token ids with the image span where the model's processor says it goes
// (ModelProcessor.imageTokens, contracts/model.ts), shared by `mmft generate` and `mmft serve`:
// - absent: the model places the image itself (legacy BLIP-2 prepends its queries), the text alone;
// - 'prefix': `count` image ids in front of the tokenized text (transformers' Blip2Processor,
//   models/blip_2/processing_blip_2.py, writes num_query_tokens of them before bos);
// - 'placeholder': the ids replace the prompt's `<image>` mark (LlavaProcessor,
//   models/llava/processing_llava.py); without a mark `<image>\n` goes in front of the prompt, as
//   LLaVA's preprocess_multimodal (llava/train/train.py) does. Each side of the mark is tokenized on
//   its own, as LLaVA's tokenizer_image_token (llava/mm_utils.py) splits the prompt.
import type { ImageTokens, TextTokenizer } from '../contracts/model';
import { MmftError } from '../errors';

/** The mark a 'placeholder' model's prompt carries where the image goes (LLaVA's DEFAULT_IMAGE_TOKEN). */
export const IMAGE_MARK = '<image>';

/**
 * One row's token ids with its image span. `text` is the prompt as the model reads it (chat
 * template already rendered); `addSpecialTokens` false when a template wrote bos; `where` names the
 * prompt in error messages.
 *
 * @example
 * imagePromptIds(tokenizer, '<image>\nWhat shape?', { tokenId: 32000, count: 4, placement: 'placeholder' }, true, '--prompt');
 */
export function imagePromptIds(
  tokenizer: TextTokenizer,
  text: string,
  imageTokens: ImageTokens | undefined,
  addSpecialTokens: boolean,
  where: string,
): number[] {
  const encode = (t: string, special: boolean) => tokenizer.encode([t], { truncation: false, addSpecialTokens: special }).inputIds[0]!;
  const span = imageTokens ? new Array<number>(imageTokens.count).fill(imageTokens.tokenId) : [];
  if (imageTokens?.placement !== 'placeholder') {
    if (text.includes(IMAGE_MARK)) {
      throw new MmftError('E_INPUT', `${where} contains "${IMAGE_MARK}", and this model places the image itself`, {
        hint: `drop "${IMAGE_MARK}" from the prompt: the image goes ${imageTokens ? 'in front of the text' : 'before the text (the model prepends it)'}`,
      });
    }
    return [...span, ...encode(text, addSpecialTokens)];
  }
  const parts = text.split(IMAGE_MARK);
  if (parts.length !== 2) {
    throw new MmftError('E_INPUT', `${where} has ${parts.length - 1} "${IMAGE_MARK}" marks, and each prompt goes with one image`, {
      hint: `write one "${IMAGE_MARK}" where the image belongs (or none: it then goes in front of the prompt)`,
    });
  }
  return [...encode(parts[0]!, addSpecialTokens), ...span, ...encode(parts[1]!, false)];
}

/** A prompt with the image mark a 'placeholder' model needs: `<image>\n` in front when it has none. */
export const withImageMark = (prompt: string, imageTokens: ImageTokens | undefined): string =>
  imageTokens?.placement === 'placeholder' && !prompt.includes(IMAGE_MARK) ? `${IMAGE_MARK}\n${prompt}` : prompt;
