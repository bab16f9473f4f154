// What the ONNX engine feeds its graphs, built as TfjsEngine builds them (tfjs-engine.ts): the prompt's
// ids from the folder's tokenizer files and chat template, the image span from config.json, and the
// pixels from preprocessor_config.json (transformers' CLIP and BLIP image processors).
import * as path from 'node:path';
import { imagePromptIds, MmftError, withImageMark, type ImageTokens, type TextTokenizer } from '@mmft/core';
import type { HfFolder } from '@mmft/core/hf';
import { preprocessOptionsSchema, preprocessResolved } from '@mmft/image';
import type { ChatTurn } from './engine';

/** The folder's tokenizer with the chat template transformers.js's tokenizers carry. */
export interface ChatTokenizer extends TextTokenizer {
  readonly chatTemplate?: string;
  applyChatTemplate(messages: ReadonlyArray<{ role: string; content: string }>, options: { addGenerationPrompt: boolean }): string;
}

export type Json = Record<string, unknown>;

/** [1, 3, S, S] float32 pixels, the shape every exported vision graph reads. */
export interface OnnxPixels {
  data: Float32Array;
  dims: number[];
}

/** What building a prompt reads from an open export; `text()` throws when the export has no tokenizer. */
export interface OnnxPromptSource {
  readonly dir: string;
  readonly folder: HfFolder;
  readonly acceptsImages: boolean;
  readonly imageTokens: ImageTokens | undefined;
  text(): ChatTokenizer;
}

/** A side of preprocessor_config.json's size / crop_size: an int, {shortest_edge}, or a square {height, width}. */
function side(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value && typeof value === 'object') {
    const v = value as { shortest_edge?: unknown; height?: unknown };
    if (typeof v.shortest_edge === 'number') return v.shortest_edge;
    if (typeof v.height === 'number') return v.height;
  }
  return undefined;
}

// transformers/utils/constants.py OPENAI_CLIP_MEAN / OPENAI_CLIP_STD: the defaults of the CLIP and BLIP image processors.
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/**
 * The image span a vision-to-LLM export's prompt needs, from config.json as the architectures compute it:
 * LLaVA, one `<image>` id per patch (+1 for the class token under the 'full' strategy) in place of the mark
 * (transformers models/llava/processing_llava.py); BLIP-2 with image_token_index, num_query_tokens ids in
 * front; legacy BLIP-2 (image_token_index null), none (its decoder prepends the queries).
 */
export function vlmImageTokens(config: Json, source: string): ImageTokens | undefined {
  const tokenId = config.image_token_index ?? config.image_token_id;
  if (config.model_type === 'llava') {
    const vision = (config.vision_config ?? {}) as Json;
    const imageSize = vision.image_size;
    const patch = vision.patch_size;
    if (typeof tokenId !== 'number' || typeof imageSize !== 'number' || typeof patch !== 'number') {
      throw new MmftError('E_CONFIG', `${source}: a LLaVA export needs image_token_index and vision_config.image_size / patch_size`, {
        hint: 'export the model again with mmft export onnx, which copies config.json',
      });
    }
    const patches = (imageSize / patch) ** 2;
    return { tokenId, count: patches + (config.vision_feature_select_strategy === 'full' ? 1 : 0), placement: 'placeholder' };
  }
  if (typeof tokenId !== 'number') return undefined;
  return { tokenId, count: (config.num_query_tokens as number | undefined) ?? 32, placement: 'prefix' };
}

/** [1, 3, S, S] pixels as preprocessor_config.json says (CLIP: resize the shortest edge, center-crop; BLIP: a square, no crop). */
export async function onnxPixels(dir: string, folder: HfFolder, bytes: Uint8Array): Promise<OnnxPixels> {
  const raw = folder.preprocessor;
  if (!raw) throw new MmftError('E_CHECKPOINT', `${path.join(dir, 'preprocessor_config.json')} is missing, and the model reads images`);
  const vision = (folder.config.vision_config ?? {}) as Json;
  const size = side(raw.size) ?? (vision.image_size as number);
  const options = preprocessOptionsSchema.parse({
    size,
    cropSize: side(raw.crop_size) ?? size,
    mean: (raw.image_mean as number[] | undefined) ?? CLIP_MEAN,
    std: (raw.image_std as number[] | undefined) ?? CLIP_STD,
  });
  const image = await preprocessResolved(bytes, options);
  const [, h, w] = image.shape;
  return { data: image.data, dims: [1, 3, h, w] };
}

/** The prompt's ids (and pixels), built as TfjsEngine.chatInputs builds them. */
export async function onnxChatInputs(
  source: OnnxPromptSource,
  turns: readonly ChatTurn[],
): Promise<{ ids: number[]; pixels?: OnnxPixels }> {
  const { dir, folder, acceptsImages, imageTokens } = source;
  const images = turns.flatMap((t) => t.images);
  if (acceptsImages && images.length !== 1)
    throw new MmftError('E_INPUT', `${dir} reads one image with every prompt, and the request has ${images.length}`, {
      hint: 'send exactly one image_url part (a data URL) in a user message',
    });
  const tokenizer = source.text();
  const contents = turns.map((t) => (t.images.length > 0 ? withImageMark(t.text, imageTokens) : t.text));
  const pixels = acceptsImages ? await onnxPixels(dir, folder, images[0]!) : undefined;
  const templated = typeof tokenizer.applyChatTemplate === 'function' && !!tokenizer.chatTemplate;
  const text = templated
    ? tokenizer.applyChatTemplate(
        turns.map((t, i) => ({ role: t.role, content: contents[i]! })),
        { addGenerationPrompt: true },
      )
    : contents.join('\n');
  // No text: BLIP-2 captions from bos, as its generate() starts when given only pixels.
  if (pixels && text.trim() === '' && imageTokens?.placement !== 'placeholder') {
    const bos = (folder.generationConfig?.bos_token_id ?? (folder.config.text_config as Json | undefined)?.bos_token_id) as
      number | undefined;
    return { ids: [...imagePromptIds(tokenizer, '', imageTokens, false, 'messages'), bos ?? 1], pixels };
  }
  const ids = imagePromptIds(tokenizer, text, imageTokens, !templated, 'messages');
  return pixels ? { ids, pixels } : { ids };
}
