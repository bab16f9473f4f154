// The inputs of `mmft generate`: its options, prompts encoded through the tokenizer (and its chat
// template), left-padded token rows for a causal LM, and pixels plus rows with the processor's image
// span for a vision-to-LLM model (generate-image.ts places the span as the model's processor says).
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type ModelInputs, type TextTokenizer, type VisionLanguageModel } from '@mmft/core';
import type { CliContext } from '../context';
import { imagePixels, imageRows, severalImagePromptIds, withImageMark, type ImageRow } from './generate-image';

export interface GenerateCliOptions {
  prompt: string[];
  chat?: boolean;
  system?: string;
  image: string[];
  adapter?: string;
  loadIn4bit?: boolean;
  maxNewTokens?: number;
  minNewTokens?: number;
  numBeams?: number;
  numReturnSequences?: number;
  doSample?: boolean;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  noRepeatNgramSize?: number;
  lengthPenalty?: number;
  earlyStopping?: string;
  stop?: string[];
  seed?: number;
  json?: boolean;
  stream?: boolean;
  plugin?: string[];
}

/** A tokenizer that can render a chat template (core's HfTokenizer). */
interface ChatTokenizer extends TextTokenizer {
  applyChatTemplate(messages: ReadonlyArray<{ role: string; content: string }>, options: { addGenerationPrompt: boolean }): string;
}

const hasChatTemplate = (t: TextTokenizer | undefined): t is ChatTokenizer =>
  typeof (t as Partial<ChatTokenizer> | undefined)?.applyChatTemplate === 'function';

/** Token rows left-padded to one width (decoder-only generation needs the new tokens at the right end). */
export function leftPad(rows: readonly (readonly number[])[], padTokenId: number): { ids: number[][]; mask: number[][] } {
  const width = Math.max(...rows.map((r) => r.length));
  return {
    ids: rows.map((r) => [...new Array<number>(width - r.length).fill(padTokenId), ...r]),
    mask: rows.map((r) => [...new Array<number>(width - r.length).fill(0), ...r.map(() => 1)]),
  };
}

/** The prompt rows as token ids, left-padded. */
export function encodePrompts(
  tokenizer: TextTokenizer,
  texts: readonly string[],
  padTokenId: number,
  addSpecialTokens = true,
): { ids: number[][]; mask: number[][] } {
  // One text at a time: no padding from the tokenizer, whatever its padding side; rows are padded here.
  return leftPad(
    texts.map((t) => tokenizer.encode([t], { truncation: false, addSpecialTokens }).inputIds[0]!),
    padTokenId,
  );
}

/** The prompts as the model reads them: raw, or rendered through the tokenizer's chat template. */
function promptTexts(tokenizer: TextTokenizer, prompts: readonly string[], o: GenerateCliOptions, source: string): string[] {
  if (!o.chat) return [...prompts];
  if (!hasChatTemplate(tokenizer) || !(tokenizer as { chatTemplate?: string }).chatTemplate) {
    throw new MmftError('E_CONFIG', `${source}: --chat needs a chat_template in tokenizer_config.json, and this tokenizer has none`, {
      hint: 'drop --chat to send the prompt as written, or use a checkpoint whose tokenizer_config.json has a chat_template',
    });
  }
  return prompts.map((content) =>
    tokenizer.applyChatTemplate([...(o.system ? [{ role: 'system', content: o.system }] : []), { role: 'user', content }], {
      addGenerationPrompt: true,
    }),
  );
}

/** The model inputs of the command line: token rows (and pixels for a vision-to-LLM model), plus how to label the output. */
export interface PreparedInputs {
  readonly inputs: ModelInputs;
  /** Rows of the batch (each returns numReturnSequences texts). */
  readonly rows: number;
  /** What --json reports beside the texts. */
  readonly echo: Record<string, unknown>;
  readonly owned: tf.Tensor[];
}

function tokenizerOf(model: VisionLanguageModel, dir: string): TextTokenizer {
  const tokenizer = model.processor.tokenizer;
  if (!tokenizer) throw new MmftError('E_CHECKPOINT', `${dir}: the folder has no tokenizer.json, so prompts cannot be encoded`);
  return tokenizer;
}

const padOf = (tokenizer: TextTokenizer): number => {
  const ids = tokenizer.specialTokenIds ?? {};
  return ids.pad ?? ids.eos ?? 0;
};

function int2d(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');
}

/** Prompts of a causal LM (no image). */
export function textInputs(model: VisionLanguageModel, dir: string, o: GenerateCliOptions): PreparedInputs {
  if (o.image.length > 0) {
    throw new MmftError('E_UNSUPPORTED', `--image ${o.image[0]}: ${dir} is a language model (${model.modelType}) without a vision tower`, {
      hint: 'drop --image, or generate with a vision-language checkpoint (blip-2, llava)',
    });
  }
  if (o.prompt.length === 0) throw new MmftError('E_INPUT', 'mmft generate: give at least one --prompt');
  const tokenizer = tokenizerOf(model, dir);
  const texts = promptTexts(tokenizer, o.prompt, o, path.join(dir, 'tokenizer_config.json'));
  // A chat template writes bos itself (transformers' apply_chat_template encodes without special tokens).
  const { ids, mask } = encodePrompts(tokenizer, texts, padOf(tokenizer), !o.chat);
  const inputIds = int2d(ids);
  const attentionMask = int2d(mask);
  return { inputs: { inputIds, attentionMask }, rows: ids.length, echo: { prompts: o.prompt }, owned: [inputIds, attentionMask] };
}

/** Images and prompts of a vision-to-LLM model: pixels [N, 3, S, S] and rows with the processor's image span. */
export async function imageInputs(
  ctx: CliContext,
  model: VisionLanguageModel,
  dir: string,
  o: GenerateCliOptions,
): Promise<PreparedInputs> {
  if (o.image.length === 0) {
    throw new MmftError(
      'E_INPUT',
      `${dir} is a vision-to-LLM model (${model.modelType}): it reads an image with every prompt, and no --image was given`,
      {
        hint: 'add --image <file> (repeat it for a batch); without --prompt each image is captioned',
      },
    );
  }
  const rows: ImageRow[] = imageRows(o.image, o.prompt);
  const imageTokens = model.processor.imageTokens;
  const owned: tf.Tensor[] = [];
  try {
    const images = await imagePixels(
      model,
      o.image.map((file) => path.resolve(ctx.cwd, file)),
      o.image,
    );
    owned.push(images);
    // The images row by row, each row's in reading order ([ΣN, 3, S, S] when a row has several).
    const order = rows.flatMap((r) => r.images ?? [r.image]);
    const pixelValues =
      order.every((image, i) => image === i) && order.length === o.image.length ? images : tf.gather(images, tf.tensor1d(order, 'int32'));
    if (pixelValues !== images) owned.push(pixelValues);
    const echo = {
      images: rows.map((r) => (r.images ? r.images.map((i) => o.image[i]!) : o.image[r.image]!)),
      prompts: rows.map((r) => r.prompt ?? null),
    };
    // No prompt: Blip2ForConditionalGeneration.generate starts from bos (and its image span) itself;
    // a 'placeholder' model gets the mark alone, i.e. [bos, image span, "\n"].
    if (o.prompt.length === 0 && imageTokens?.placement !== 'placeholder') {
      if (o.chat) throw new MmftError('E_INPUT', 'mmft generate: --chat needs a --prompt (the user turn)');
      return { inputs: { pixelValues }, rows: rows.length, echo, owned };
    }
    const tokenizer = tokenizerOf(model, dir);
    const contents = rows.map((r) => withImageMark(r.prompt ?? '', imageTokens));
    const texts = promptTexts(tokenizer, contents, o, path.join(dir, 'tokenizer_config.json'));
    const ids = texts.map((text, i) =>
      severalImagePromptIds(tokenizer, text, imageTokens, !o.chat, `--prompt ${JSON.stringify(rows[i]!.prompt ?? '')}`),
    );
    const padded = leftPad(ids, padOf(tokenizer));
    const inputIds = int2d(padded.ids);
    const attentionMask = int2d(padded.mask);
    owned.push(inputIds, attentionMask);
    return { inputs: { pixelValues, inputIds, attentionMask }, rows: rows.length, echo, owned };
  } catch (error) {
    tf.dispose(owned);
    throw error;
  }
}
