// A batch row's prompt against the loaded model: its images checked, its text rendered (as written,
// or through the chat template as transformers' apply_chat_template(add_generation_prompt=True))
// and encoded as one-off `mmft generate` encodes it (commands/generate-image.ts).
import * as path from 'node:path';
import { IMAGE_MARK, MmftError, type TextTokenizer } from '@mmft/core';
import { readsImages, severalImagePromptIds, withImageMark } from '../commands/generate-image';
import type { BatchMessage, BatchModel, BatchRow, GenerateBatchSpec } from './spec';

/** A tokenizer that can render a chat template (core's HfTokenizer). */
interface ChatTokenizer extends TextTokenizer {
  readonly chatTemplate?: string;
  applyChatTemplate(messages: ReadonlyArray<{ role: string; content: string }>, options: { addGenerationPrompt: boolean }): string;
}

export const where = (spec: GenerateBatchSpec, row: BatchRow, field: string) => `${spec.input}:${row.line}: ${field}`;

/** Checks the rows against the model: images where it reads them, none where it does not, one `<image>` mark per image. */
export function checkRowsForModel(model: BatchModel, spec: GenerateBatchSpec, rows: readonly BatchRow[]): void {
  const images = readsImages(model as never);
  for (const row of rows) {
    const text = row.prompt ?? row.messages!.map((m) => m.content).join('\n');
    const marks = text.split(IMAGE_MARK).length - 1;
    if (!images && row.images.length > 0) {
      throw new MmftError(
        'E_INPUT',
        `${where(spec, row, 'images')}: ${spec.modelDir} is a language model (${model.modelType}) without a vision tower`,
        {
          hint: 'drop "images" from the rows, or generate with a vision-language checkpoint (blip-2, llava)',
        },
      );
    }
    if (images && row.images.length === 0) {
      throw new MmftError(
        'E_INPUT',
        `${where(spec, row, 'images')}: ${spec.modelDir} (${model.modelType}) reads an image with every prompt, and this row has none`,
        {
          hint: 'give "images": ["a.png"] on every row',
        },
      );
    }
    if (images && (row.images.length > 1 ? marks !== row.images.length : marks > 1)) {
      throw new MmftError(
        'E_INPUT',
        `${where(spec, row, row.prompt !== undefined ? 'prompt' : 'messages')}: ${marks} "${IMAGE_MARK}" marks for ${row.images.length} images`,
        {
          hint: `write one "${IMAGE_MARK}" per image, in the order of "images" (with one image the mark may be left out: it goes in front)`,
        },
      );
    }
  }
}

function chatText(tokenizer: TextTokenizer, spec: GenerateBatchSpec, row: BatchRow, messages: readonly BatchMessage[]): string {
  const chat = tokenizer as ChatTokenizer;
  if (typeof chat.applyChatTemplate !== 'function' || !chat.chatTemplate) {
    throw new MmftError(
      'E_CONFIG',
      `${where(spec, row, row.messages ? 'messages' : 'prompt')}: a chat needs a chat_template in ${path.join(spec.modelDir, 'tokenizer_config.json')}, and this tokenizer has none`,
      { hint: 'write "prompt" rows without --chat to send them as written, or use a checkpoint with a chat_template' },
    );
  }
  const system = spec.system !== undefined && messages[0]?.role !== 'system' ? [{ role: 'system' as const, content: spec.system }] : [];
  return chat.applyChatTemplate([...system, ...messages], { addGenerationPrompt: true });
}

/** The token ids of a row: as written, or through the chat template (which writes bos itself, so no special tokens are added). */
export function rowIds(model: BatchModel, tokenizer: TextTokenizer, spec: GenerateBatchSpec, row: BatchRow): number[] {
  const imageTokens = model.processor.imageTokens;
  const reads = readsImages(model as never);
  const mark = (content: string) => (reads && row.images.length === 1 ? withImageMark(content, imageTokens) : content);
  let text: string;
  let special: boolean;
  if (row.messages) {
    // The image goes in the first user turn when no turn places it, as LLaVA's data does.
    const placed = row.messages.some((m) => m.content.includes(IMAGE_MARK));
    const first = row.messages.findIndex((m) => m.role === 'user');
    const messages = row.messages.map((m, i) => (!placed && i === first ? { ...m, content: mark(m.content) } : m));
    [text, special] = [chatText(tokenizer, spec, row, messages), false];
  } else if (spec.chat) {
    [text, special] = [chatText(tokenizer, spec, row, [{ role: 'user', content: mark(row.prompt!) }]), false];
  } else {
    [text, special] = [mark(row.prompt!), true];
  }
  if (reads) return severalImagePromptIds(tokenizer, text, imageTokens, special, where(spec, row, row.messages ? 'messages' : 'prompt'));
  return tokenizer.encode([text], { truncation: false, addSpecialTokens: special }).inputIds[0]!;
}
