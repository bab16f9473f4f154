// An example as the text a causal LM reads, cut into pieces that are trained on (targets: a
// caption, an answer, an assistant turn, plain text) or not (prompts). Two renderings:
// - chat: the tokenizer's chat_template (transformers' apply_chat_template). The target of turn k is
//   what rendering turns 0..k adds to rendering turns 0..k-1 with the generation prompt, so the
//   template's own end-of-turn marks (e.g. Llama-2's " </s>") are trained and generation learns to stop.
// - plain: prompt text, then " " + target and the eos token, as LAVIS's blip2_opt.py joins its
//   prompt and caption and LLaMA-Factory appends eos to every response
//   (src/llamafactory/data/processor/supervised.py) and to every pretraining text (pretrain.py).
// Language-only models and bridges whose image span is not a text placeholder (BLIP-2) drop a
// `<image>` mark in LLaVA-style text with the newline after it; 'placeholder' bridges (LLaVA) keep
// it, and encode.ts writes the image span there.
import { MmftError, type Example } from '@mmft/core';
import { renderTemplate, resolvePrompt, type PromptConfig } from '@mmft/text';

/** A run of text and whether its tokens are labels, or the eos token. */
export type Piece = { readonly text: string; readonly target: boolean } | { readonly eos: true; readonly target: boolean };

/** A conversation turn as chat templates take it. */
export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

/** What rendering needs of the tokenizer. */
export interface ChatRenderer {
  applyChatTemplate(messages: readonly ChatMessage[], options: { addGenerationPrompt?: boolean }): string;
}

const IMAGE_MARK = /<image>\n?/g;
const dropImageMark = (text: string): string => text.replace(IMAGE_MARK, '');

/** The image placeholder of LLaVA-style text (llava/constants.py DEFAULT_IMAGE_TOKEN). */
export const IMAGE_PLACEHOLDER = '<image>';

/** What happens to `<image>` marks: dropped (no placeholder span) or kept for encode.ts. */
export type ImageMarks = 'drop' | 'keep';

/**
 * A conversation with its image's mark: when no turn has one, `<image>\n` goes in front of the first
 * user turn, as LLaVA's preprocess_multimodal (llava/train/train.py) and LLaMA-Factory's
 * _add_default_tags (src/llamafactory/data/template.py) do.
 */
export function withImageMark(messages: readonly ChatMessage[]): ChatMessage[] {
  if (messages.some((m) => m.content.includes(IMAGE_PLACEHOLDER))) return [...messages];
  const first = messages.findIndex((m) => m.role === 'user');
  if (first < 0) return [{ role: 'user', content: IMAGE_PLACEHOLDER }, ...messages];
  return messages.map((m, i) => (i === first ? { ...m, content: `${IMAGE_PLACEHOLDER}\n${m.content}` } : m));
}

/** Where an example came from, for messages. */
export const exampleWhere = (example: Example): string =>
  example.source ? `example "${example.id}" (${example.source.file}:${example.source.line})` : `example "${example.id}"`;

/**
 * The user turn of a VQA example rendered by a chat or named template: the recipe's own
 * `prompts.vqa` with {question} when it sets one, else the bare question. LLaVA-1.5 evaluates VQA
 * this way: its question files hold the question + "\nAnswer the question using a single word or
 * phrase." (LLaVA: docs/Evaluation.md, run by scripts/v1_5/eval/vqav2.sh), and
 * llava/eval/model_vqa_loader.py makes "<image>\n" + that text the user turn of conv_templates[conv_mode].
 * The default prompts ("Question: {question} Answer:") are plain-mode wording and stay out of chat turns.
 */
function chatVqaTurn(example: Extract<Example, { task: 'vqa' }>, prompts: PromptConfig | undefined, marks: ImageMarks): string {
  if (prompts?.vqa === undefined) return example.question;
  // A leading kept mark stays in front ("<image>\n… Answer the question …"), as plainPieces keeps it.
  const mark = marks === 'keep' && example.question.startsWith(IMAGE_PLACEHOLDER) ? /^<image>\n?/.exec(example.question)![0] : '';
  const template = resolvePrompt('vqa', prompts, 'objective.prompts.vqa', example.lang);
  return mark + renderTemplate(template, { question: example.question.slice(mark.length) });
}

/**
 * The conversation of an example: caption → ask for a caption, VQA → the question, instruction →
 * its turns; `pick` chooses among several captions (deterministic in seed, epoch, position).
 * `chat`: rendered by a chat or named template, where a VQA user turn carries prompts.vqa only
 * when the recipe sets it (chatVqaTurn); plain mode renders VQA prompts itself (plainPieces).
 */
export function conversationOf(
  example: Example,
  prompts: PromptConfig | undefined,
  pick: (n: number) => number,
  marks: ImageMarks = 'drop',
  chat = false,
): ChatMessage[] {
  switch (example.task) {
    case 'caption': {
      if (example.captions.length === 0) throw new MmftError('E_DATA', `${exampleWhere(example)} has no caption`);
      return [
        { role: 'user', content: resolvePrompt('caption', prompts, undefined, example.lang) },
        { role: 'assistant', content: example.captions[pick(example.captions.length)]! },
      ];
    }
    case 'vqa':
      return [
        { role: 'user', content: chat ? chatVqaTurn(example, prompts, marks) : example.question },
        { role: 'assistant', content: example.answer },
      ];
    case 'instruction':
      return example.turns.map((t) => ({ role: t.role, content: marks === 'keep' ? t.content : dropImageMark(t.content) }));
    case 'retrieval':
      throw new MmftError('E_DATA', `${exampleWhere(example)} is a retrieval example; objective causal-lm trains on text targets`, {
        hint: 'use caption, vqa, instruction or text data with objective causal-lm (retrieval data trains objective contrastive)',
      });
    case 'text':
      return [{ role: 'assistant', content: example.text }];
    case 'interleaved':
      // A document has no roles: the whole of it is one trained text (interleavedPieces renders it).
      return [
        {
          role: 'assistant',
          content: example.segments.map((s) => (s.image ? (marks === 'keep' ? IMAGE_PLACEHOLDER : '') : s.text)).join(''),
        },
      ];
  }
}

/**
 * An interleaved document as pieces, whatever the template: every text segment a target, every
 * image segment a `<image>` mark (kept marks only; no newline is added, the text after it is
 * written as the data has it), then eos (a target), as run_clm-style pretraining texts end.
 * Flamingo trains on such documents (MMC4, OBELICS) with every text token a label.
 */
export function interleavedPieces(example: Extract<Example, { task: 'interleaved' }>, marks: ImageMarks): Piece[] {
  const pieces: Piece[] = [];
  for (const segment of example.segments) {
    if (segment.image) {
      if (marks === 'keep') pieces.push({ text: IMAGE_PLACEHOLDER, target: false });
    } else if (segment.text !== '') pieces.push({ text: segment.text, target: true });
  }
  if (!pieces.some((p) => p.target)) throw new MmftError('E_DATA', `${exampleWhere(example)} has no text segment to train on`);
  pieces.push({ eos: true, target: true });
  return pieces;
}

/** The number of `<image>` marks in a conversation. */
export const imageMarkCount = (messages: readonly ChatMessage[]): number =>
  messages.reduce((n, m) => n + m.content.split(IMAGE_PLACEHOLDER).length - 1, 0);

/**
 * Pieces through the chat template. Each assistant turn is a target; system and user turns, and
 * what the template writes around them, are prompt.
 */
export function chatPieces(messages: readonly ChatMessage[], renderer: ChatRenderer, where: string): Piece[] {
  const pieces: Piece[] = [];
  let done = '';
  const take = (text: string, target: boolean, what: string) => {
    if (!text.startsWith(done)) {
      throw new MmftError(
        'E_CONFIG',
        `${where}: the chat template does not render ${what} as an extension of the turns before it, so targets cannot be told from prompts`,
        { hint: 'set objective.template: plain, or use a tokenizer whose chat_template renders conversations turn by turn' },
      );
    }
    if (text.length > done.length) pieces.push({ text: text.slice(done.length), target });
    done = text;
  };
  messages.forEach((m, k) => {
    if (m.role !== 'assistant') return;
    take(renderer.applyChatTemplate(messages.slice(0, k), { addGenerationPrompt: true }), false, `turn ${k}'s prompt`);
    take(renderer.applyChatTemplate(messages.slice(0, k + 1), { addGenerationPrompt: false }), true, `turn ${k}`);
  });
  take(renderer.applyChatTemplate(messages, { addGenerationPrompt: false }), false, 'the whole conversation');
  if (!pieces.some((p) => p.target)) throw new MmftError('E_DATA', `${where} has no assistant turn to train on`);
  return pieces;
}

/** The generation prompt of a conversation: every turn before the last assistant turn. */
export function promptMessages(messages: readonly ChatMessage[]): { prompt: ChatMessage[]; reference?: string } {
  const last = messages.map((m) => m.role).lastIndexOf('assistant');
  return last < 0 ? { prompt: [...messages] } : { prompt: messages.slice(0, last), reference: messages[last]!.content };
}

/**
 * The instruction an instruction example's generation answers: the last user turn before the last
 * assistant turn, `<image>` marks removed (what metric "instruction" reports it under).
 */
export function lastInstruction(messages: readonly ChatMessage[]): string {
  const { prompt } = promptMessages(messages);
  const user = prompt.map((m) => m.role).lastIndexOf('user');
  return user < 0 ? '' : dropImageMark(prompt[user]!.content).trim();
}

/** Joins a prompt and what follows it with one space unless either side already has one. */
const joined = (prompt: string, next: string): string => (prompt === '' || /\s$/.test(prompt) || /^\s/.test(next) ? next : ` ${next}`);

/**
 * Pieces in plain text: caption and VQA prompts from @mmft/text's templates; instruction user
 * turns through the instruction template (LLaVA v1's "USER: … ASSISTANT:"), assistant turns as
 * targets each followed by eos; plain text is all target, then eos.
 */
export function plainPieces(
  messages: readonly ChatMessage[],
  example: Example,
  prompts: PromptConfig | undefined,
  marks: ImageMarks = 'drop',
): Piece[] {
  if (example.task === 'text')
    return [
      { text: example.text, target: true },
      { eos: true, target: true },
    ];
  const pieces: Piece[] = [];
  let pending = '';
  const userPrompt = (content: string): string => {
    // A kept mark leads the rendered prompt ("<image>\nQuestion: … Answer:"), as LLaVA's prompts start with it.
    const mark = marks === 'keep' && content.startsWith(IMAGE_PLACEHOLDER) ? /^<image>\n?/.exec(content)![0] : '';
    const rest = content.slice(mark.length);
    if (example.task === 'vqa') return mark + renderTemplate(resolvePrompt('vqa', prompts, undefined, example.lang), { question: rest });
    if (example.task === 'caption') return content;
    // Kept marks are the user's (withImageMark puts one first when there is none), not the template's,
    // which would repeat on every user turn: "USER: <image>\nWhat is … ASSISTANT:" as LLaVA v1 writes it.
    const template = resolvePrompt('instruction', prompts, undefined, example.lang);
    return marks === 'keep'
      ? renderTemplate(dropImageMark(template), { instruction: content })
      : dropImageMark(renderTemplate(template, { instruction: content }));
  };
  for (const m of messages) {
    if (m.role === 'system') pending += `${m.content}\n`;
    else if (m.role === 'user') pending += (pending === '' || /\s$/.test(pending) ? '' : ' ') + userPrompt(m.content);
    else {
      if (pending !== '') pieces.push({ text: pending, target: false });
      pieces.push({ text: joined(pending, m.content), target: true }, { eos: true, target: true });
      pending = '';
    }
  }
  if (!pieces.some((p) => p.target)) throw new MmftError('E_DATA', `${exampleWhere(example)} has no assistant turn to train on`);
  return pieces;
}
