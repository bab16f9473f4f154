// Named conversation templates (docs/templates.md): the formats LLaVA trains with, written as
// pieces (pieces.ts) so that labels cover exactly the assistant turns.
// - llava_v1 / vicuna_v1: LLaVA's SeparatorStyle.TWO (haotian-liu/LLaVA llava/conversation.py,
//   conv_llava_v1 and conv_vicuna_v1): `system + " "`, then "USER: " + text + " " for user turns and
//   "ASSISTANT: " + text + "</s>" for assistant turns. As LLaVA's preprocess_v1 (llava/train/train.py)
//   masks each round up to "ASSISTANT:", the answer and its "</s>" are trained; "</s>" is written as
//   the tokenizer's eos token.
// - llava_plain: LLaVA's conv_llava_plain (registered there as "plain"), stage 1: preprocess_plain
//   replaces the user's text by the image mark and trains `answer + "\n"` (no roles, no eos).
// - chatml: "<|im_start|>{role}\n{text}<|im_end|>" per turn joined by "\n", as LLaMA-Factory's chatml
//   template (hiyouga/LLaMA-Factory template.py, register_template name "chatml": default system
//   "You are a helpful assistant.", sep "\n", <|im_end|> the stop word that ends each response) writes
//   it; "{text}<|im_end|>" of assistant turns is trained, the "\n" between rounds is prompt.
// A conversation's own first system turn replaces the template's default system prompt, as
// LLaMA-Factory does; `default_system` replaces the default; `system_lang: zh` picks its Chinese text.
import { MmftError } from '@mmft/core';
import { IMAGE_PLACEHOLDER, type ChatMessage, type ImageMarks, type Piece } from './pieces';

/** Templates with a fixed format of their own (not the tokenizer's chat_template). */
export const NAMED_TEMPLATES = ['llava_plain', 'llava_v1', 'vicuna_v1', 'chatml'] as const;
export type NamedTemplate = (typeof NAMED_TEMPLATES)[number];

export const isNamedTemplate = (name: string): name is NamedTemplate => (NAMED_TEMPLATES as readonly string[]).includes(name);

/** Default system prompts: English as LLaVA's conversation.py writes them, Chinese our translation. */
export const DEFAULT_SYSTEMS: Readonly<Record<NamedTemplate, { readonly en: string; readonly zh: string }>> = {
  llava_plain: { en: '', zh: '' },
  llava_v1: {
    en: "A chat between a curious human and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the human's questions.",
    zh: '一段好奇的人类与人工智能助手之间的对话。助手对人类的问题给出有帮助、详细且礼貌的回答。',
  },
  vicuna_v1: {
    en: "A chat between a curious user and an artificial intelligence assistant. The assistant gives helpful, detailed, and polite answers to the user's questions.",
    zh: '一段好奇的用户与人工智能助手之间的对话。助手对用户的问题给出有帮助、详细且礼貌的回答。',
  },
  chatml: { en: 'You are a helpful assistant.', zh: '你是一个乐于助人的助手。' },
};

export interface TemplateOptions {
  /** Replaces the template's default system prompt ('' for none). */
  readonly defaultSystem?: string;
  /** Language of the default system prompt. */
  readonly systemLang: 'en' | 'zh';
  /** Whether `<image>` marks stay in the text (a 'placeholder' model) or are dropped. */
  readonly marks: ImageMarks;
}

const IMAGE_MARKS = /<image>\n?/g;

/**
 * The turn's text with its image mark leading ("<image>\n" + text), as LLaVA's preprocess_multimodal
 * (llava/train/train.py) moves it; without kept marks, the text without them.
 */
function markLeading(content: string, marks: ImageMarks): string {
  if (!content.includes(IMAGE_PLACEHOLDER)) return content;
  const rest = content.replace(IMAGE_MARKS, '').trim();
  return marks === 'keep' ? `${IMAGE_PLACEHOLDER}\n${rest}` : rest;
}

/** The system prompt and the turns after a leading system turn. */
function splitSystem(messages: readonly ChatMessage[], name: NamedTemplate, options: TemplateOptions, where: string) {
  const own = messages[0]?.role === 'system' ? messages[0].content : undefined;
  const turns = own === undefined ? messages : messages.slice(1);
  const late = turns.findIndex((m) => m.role === 'system');
  if (late >= 0) {
    throw new MmftError('E_DATA', `${where}: turn ${late + (own === undefined ? 0 : 1)} is a system turn after the first turn`, {
      hint: 'put the system prompt first (one system turn), or drop it',
    });
  }
  return { system: own ?? options.defaultSystem ?? DEFAULT_SYSTEMS[name][options.systemLang], turns };
}

function assertTrained(pieces: readonly Piece[], where: string): Piece[] {
  if (!pieces.some((p) => p.target)) throw new MmftError('E_DATA', `${where} has no assistant turn to train on`);
  return [...pieces];
}

/** LLaVA's SeparatorStyle.TWO with roles USER / ASSISTANT, seps " " and eos. */
function twoPieces(system: string, turns: readonly ChatMessage[], marks: ImageMarks): Piece[] {
  const pieces: Piece[] = [];
  let pending = `${system} `;
  for (const m of turns) {
    if (m.role === 'assistant') {
      pieces.push({ text: `${pending}ASSISTANT:`, target: false }, { text: ` ${m.content}`, target: true }, { eos: true, target: true });
      pending = '';
    } else pending += `USER: ${markLeading(m.content, marks)} `;
  }
  return pieces;
}

/** ChatML turns; the assistant's text and its <|im_end|> are trained, the newline after it is the next round's prompt. */
function chatmlPieces(system: string, turns: readonly ChatMessage[], marks: ImageMarks): Piece[] {
  const pieces: Piece[] = [];
  let pending = system === '' ? '' : `<|im_start|>system\n${system}<|im_end|>\n`;
  for (const m of turns) {
    if (m.role === 'assistant') {
      pieces.push({ text: `${pending}<|im_start|>assistant\n`, target: false }, { text: `${m.content}<|im_end|>`, target: true });
      pending = '\n';
    } else pending += `<|im_start|>${m.role}\n${markLeading(m.content, marks)}<|im_end|>\n`;
  }
  // Turns after the last answer train nothing and are left out, as a trailing separator is.
  return pieces;
}

/** LLaVA stage 1: the image mark, then the one answer and "\n"; every other text is dropped. */
function llavaPlainPieces(turns: readonly ChatMessage[], marks: ImageMarks, where: string): Piece[] {
  const shape = turns.map((m) => m.role).join(',');
  if (shape !== 'user,assistant' && shape !== 'assistant') {
    throw new MmftError('E_DATA', `${where}: template llava_plain takes one user turn and one assistant turn, got [${shape}]`, {
      hint: 'llava_plain is LLaVA stage 1 (image → caption); use llava_v1 or chatml for conversations',
    });
  }
  const answer = turns[turns.length - 1]!.content;
  const pieces: Piece[] = marks === 'keep' ? [{ text: IMAGE_PLACEHOLDER, target: false }] : [];
  pieces.push({ text: `${answer}\n`, target: true });
  return pieces;
}

/** Pieces of a conversation through a named template; `where` names the example in errors. */
export function templatePieces(name: NamedTemplate, messages: readonly ChatMessage[], options: TemplateOptions, where: string): Piece[] {
  const { system, turns } = splitSystem(messages, name, options, where);
  switch (name) {
    case 'llava_plain':
      return assertTrained(llavaPlainPieces(turns, options.marks, where), where);
    case 'llava_v1':
    case 'vicuna_v1':
      return assertTrained(twoPieces(system, turns, options.marks), where);
    case 'chatml':
      return assertTrained(chatmlPieces(system, turns, options.marks), where);
  }
}
