// Example → tokens and target flags under the recipe's template: the one path the objective
// (objective.ts) trains on and `mmft data preview` shows, so what the preview marks as trained is
// what trains.
//
// Several images: a 'placeholder' bridge (LLaVA, IDEFICS) reads one image per `<image>` mark, so an
// example's marks must match its images one for one (LLaMA-Factory's rule, mm_plugin.py
// _validate_input); the row's images are returned in mark order. A 'prefix' or model-placed image
// (BLIP-2) is one per row. Few-shot episodes (episodes.ts draws them) are rendered here too: the
// demos' complete conversations, then the query's.
import { imagesOf, MmftError, type Example, type ImageRef, type ImageTokens, type TextTokenizer } from '@mmft/core';
import { deriveSeed } from '@mmft/core/nn';
import type { CausalLmConfig } from './config';
import { encodePieces, specialPrefixIds, type EncodedExample } from './encode';
import {
  chatPieces,
  conversationOf,
  exampleWhere,
  imageMarkCount,
  interleavedPieces,
  plainPieces,
  withImageMark,
  type ChatMessage,
  type ChatRenderer,
  type ImageMarks,
  type Piece,
} from './pieces';
import { isNamedTemplate, templatePieces } from './templates';

export const hasChatTemplate = (t: TextTokenizer): t is TextTokenizer & ChatRenderer & { chatTemplate?: string } =>
  typeof (t as Partial<ChatRenderer>).applyChatTemplate === 'function' &&
  typeof (t as { chatTemplate?: unknown }).chatTemplate === 'string';

export interface EncoderSetup {
  readonly config: Pick<CausalLmConfig, 'template' | 'prompts' | 'default_system' | 'system_lang'>;
  readonly tokenizer: TextTokenizer;
  /** The model's image span (ModelProcessor.imageTokens), if it has one. */
  readonly tokens?: ImageTokens;
  readonly seed: number;
  /** The model, for "reads one image per row" messages. */
  readonly modelType?: string;
}

/** An encoded row and the images its spans stand for, in order (one per span; [] without image). */
export interface EncodedRow extends EncodedExample {
  readonly images: readonly ImageRef[];
}

export interface Encoder {
  /** The template in use after `auto` is resolved. */
  readonly template: string;
  readonly eosId: number | undefined;
  /** An example's tokens; `image` says whether its image spans are written. */
  encode(example: Example, epoch: number, position: number, image: boolean): EncodedRow;
  /**
   * A few-shot episode: each demo complete (prompt + target), then the query. `trainDemos`: the
   * demos' targets are trained too (a training episode); otherwise only the query's target is.
   * 'placeholder' bridges keep every demo's image (before the query's); other models read the
   * demos as text and only the query's image.
   */
  encodeEpisode(
    demos: readonly Example[],
    query: Example,
    epoch: number,
    position: number,
    image: boolean,
    trainDemos: boolean,
  ): EncodedRow;
}

/** Every target piece before the last run of target pieces made a prompt piece: only the last answer trains. */
function onlyLastTarget(pieces: readonly Piece[]): Piece[] {
  let start = pieces.length;
  while (start > 0 && pieces[start - 1]!.target) start -= 1;
  // Trailing prompt pieces (a chat template's closing text) come after the last answer.
  if (start === pieces.length) {
    let end = pieces.length;
    while (end > 0 && !pieces[end - 1]!.target) end -= 1;
    start = end;
    while (start > 0 && pieces[start - 1]!.target) start -= 1;
  }
  return pieces.map((p, i) => (i < start && p.target ? { ...p, target: false } : p));
}

export function createEncoder({ config, tokenizer, tokens, seed, modelType }: EncoderSetup): Encoder {
  const chatAvailable = hasChatTemplate(tokenizer);
  if (config.template === 'chat' && !chatAvailable) {
    throw new MmftError('E_CONFIG', 'objective.template is chat, but the tokenizer has no chat_template (tokenizer_config.json)', {
      hint: 'set objective.template: plain, llava_v1, chatml (or auto), or use a tokenizer with a chat_template',
    });
  }
  const template = config.template === 'auto' ? (chatAvailable ? 'chat' : 'plain') : config.template;
  const marks: ImageMarks = tokens?.placement === 'placeholder' ? 'keep' : 'drop';
  const eosId = tokenizer.specialTokenIds?.eos;
  const prefix = specialPrefixIds(tokenizer);
  const chatLike = template === 'chat' || isNamedTemplate(template);

  /** The images an example's row reads (checked against what the model takes). */
  const imagesFor = (example: Example, image: ImageTokens | undefined): readonly ImageRef[] => {
    if (!image) return [];
    const images = imagesOf(example);
    if (image.placement !== 'placeholder' && images.length > 1) {
      throw new MmftError(
        'E_DATA',
        `${exampleWhere(example)} has ${images.length} images; model "${modelType ?? 'this model'}" reads one image per row`,
        {
          hint: 'use a bridge that reads an image per <image> mark (llava, idefics), or give each example one image',
        },
      );
    }
    return images;
  };

  /** The example's conversation with its marks checked against its images ('placeholder' bridges). */
  const messagesOf = (example: Example, epoch: number, salt: string, image: ImageTokens | undefined): ChatMessage[] => {
    const pick = (n: number) => (deriveSeed(seed, `causal-lm:${epoch}:${salt}`) ?? 0) % n;
    const exampleMarks = image ? marks : 'drop';
    const conversation = conversationOf(example, config.prompts, pick, exampleMarks, chatLike);
    if (image?.placement !== 'placeholder') return conversation;
    const messages = withImageMark(conversation);
    const count = imageMarkCount(messages);
    const images = imagesOf(example).length;
    if (count !== images) {
      throw new MmftError(
        'E_DATA',
        `${exampleWhere(example)} has ${count} <image> marks and ${images === 1 ? 'one image' : `${images} images`}`,
        {
          hint:
            images === 1
              ? 'write one <image> mark where the image belongs (or none: it then goes in front of the first user turn)'
              : 'write one <image> mark per image, in the order of the images list',
        },
      );
    }
    return messages;
  };

  const named = (messages: readonly ChatMessage[], example: Example, exampleMarks: ImageMarks): Piece[] => {
    const lang = config.system_lang ?? config.prompts?.lang ?? (example.lang === 'zh' ? 'zh' : 'en');
    const options = { defaultSystem: config.default_system, systemLang: lang, marks: exampleMarks };
    return templatePieces(template as Parameters<typeof templatePieces>[0], messages, options, exampleWhere(example));
  };

  /** Pieces of messages under the template, and the special prefix that goes first. */
  const piecesOf = (
    messages: readonly ChatMessage[],
    example: Example,
    exampleMarks: ImageMarks,
  ): { pieces: Piece[]; first: readonly number[] } => {
    if (example.task === 'interleaved') return { pieces: interleavedPieces(example, exampleMarks), first: prefix };
    // The template writes bos itself (transformers' apply_chat_template encodes without special tokens).
    if (template === 'chat' && example.task !== 'text')
      return { pieces: chatPieces(messages, tokenizer as unknown as ChatRenderer, exampleWhere(example)), first: [] };
    if (isNamedTemplate(template) && example.task !== 'text') return { pieces: named(messages, example, exampleMarks), first: prefix };
    return { pieces: plainPieces(messages, example, config.prompts, exampleMarks), first: prefix };
  };

  const encode = (example: Example, epoch: number, position: number, withImage: boolean): EncodedRow => {
    const image = withImage ? tokens : undefined;
    const images = imagesFor(example, image);
    const messages = example.task === 'interleaved' ? [] : messagesOf(example, epoch, String(position), image);
    const { pieces, first } = piecesOf(messages, example, image ? marks : 'drop');
    return { ...encodePieces(pieces, tokenizer, eosId, first, image), images };
  };

  const encodeEpisode = (
    demos: readonly Example[],
    query: Example,
    epoch: number,
    position: number,
    withImage: boolean,
    trainDemos: boolean,
  ): EncodedRow => {
    if (demos.length === 0) return encode(query, epoch, position, withImage);
    const image = withImage ? tokens : undefined;
    // Only a 'placeholder' bridge reads the demos' images; others read them as text (BLIP-2 reads one image).
    const demoImage = image?.placement === 'placeholder' ? image : undefined;
    const queryImages = imagesFor(query, image);
    const images = [...demos.flatMap((d) => imagesFor(d, demoImage)), ...queryImages];
    const demoMessages = demos.map((d, i) => messagesOf(d, epoch, `${position}:demo${i}`, demoImage));
    const queryMessages = messagesOf(query, epoch, String(position), image);
    const queryMarks = image ? marks : 'drop';
    const demoMarks = demoImage ? marks : 'drop';
    let pieces: Piece[];
    let first: readonly number[] = prefix;
    if (chatLike && template !== 'llava_plain') {
      // One multi-turn conversation: demo turns, then the query's (a system prompt once, the template's).
      const all = [...demoMessages.flat(), ...queryMessages];
      const out = piecesOf(all, query, queryMarks === 'keep' || demoMarks === 'keep' ? 'keep' : 'drop');
      pieces = out.pieces;
      first = out.first;
    } else {
      // Plain (and LLaVA stage 1): each demo's pieces, each ending where it ends (eos), then the query's.
      pieces = [
        ...demos.flatMap((d, i) => piecesOf(demoMessages[i]!, d, demoMarks).pieces),
        ...piecesOf(queryMessages, query, queryMarks).pieces,
      ];
    }
    if (!trainDemos) pieces = onlyLastTarget(pieces);
    return { ...encodePieces(pieces, tokenizer, eosId, first, image), images };
  };

  return { template, eosId, encode, encodeEpisode };
}
