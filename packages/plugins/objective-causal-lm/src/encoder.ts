// Example → tokens and target flags under the recipe's template: the one path the objective
// (objective.ts) trains on and `mmft data preview` shows, so what the preview marks as trained is
// what trains.
import { MmftError, type Example, type ImageTokens, type TextTokenizer } from '@mmft/core';
import { deriveSeed } from '@mmft/core/nn';
import type { CausalLmConfig } from './config';
import { encodePieces, specialPrefixIds, type EncodedExample } from './encode';
import { chatPieces, conversationOf, exampleWhere, plainPieces, withImageMark, type ChatRenderer, type ImageMarks } from './pieces';
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
}

export interface Encoder {
  /** The template in use after `auto` is resolved. */
  readonly template: string;
  readonly eosId: number | undefined;
  /** An example's tokens; `image` says whether its image span is written. */
  encode(example: Example, epoch: number, position: number, image: boolean): EncodedExample;
}

export function createEncoder({ config, tokenizer, tokens, seed }: EncoderSetup): Encoder {
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

  const encode = (example: Example, epoch: number, position: number, withImage: boolean): EncodedExample => {
    const pick = (n: number) => (deriveSeed(seed, `causal-lm:${epoch}:${position}`) ?? 0) % n;
    const image = withImage ? tokens : undefined;
    const exampleMarks = image ? marks : 'drop';
    const conversation = conversationOf(example, config.prompts, pick, exampleMarks, template === 'chat' || isNamedTemplate(template));
    const messages = image?.placement === 'placeholder' ? withImageMark(conversation) : conversation;
    if (image?.placement === 'placeholder') {
      const count = messages.reduce((n, m) => n + m.content.split('<image>').length - 1, 0);
      if (count !== 1) {
        throw new MmftError('E_DATA', `${exampleWhere(example)} has ${count} <image> marks and one image`, {
          hint: 'write one <image> mark where the image belongs (or none: it then goes in front of the first user turn)',
        });
      }
    }
    if (template === 'chat' && example.task !== 'text') {
      // The template writes bos itself (transformers' apply_chat_template encodes without special tokens).
      const pieces = chatPieces(messages, tokenizer as unknown as ChatRenderer, exampleWhere(example));
      return encodePieces(pieces, tokenizer, eosId, [], image);
    }
    if (isNamedTemplate(template) && example.task !== 'text') {
      const lang = config.system_lang ?? config.prompts?.lang ?? (example.lang === 'zh' ? 'zh' : 'en');
      const options = { defaultSystem: config.default_system, systemLang: lang, marks: exampleMarks };
      return encodePieces(templatePieces(template, messages, options, exampleWhere(example)), tokenizer, eosId, prefix, image);
    }
    return encodePieces(plainPieces(messages, example, config.prompts, exampleMarks), tokenizer, eosId, prefix, image);
  };
  return { template, eosId, encode };
}
