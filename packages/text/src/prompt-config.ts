// The recipe section that picks prompts: a language and optional per-task overrides, validated
// against each task's placeholders (docs/conventions.md §7: configs validate themselves, every field described).
import { z } from 'zod';
import type { TaskKind } from '@mmft/core';
import { DEFAULT_PROMPTS, PROMPT_LANGS, TASK_PLACEHOLDERS, type PromptLang } from './defaults';
import { validateTemplate } from './render';

/** zod schema of a recipe's `prompts` section. */
export const promptConfigSchema = z
  .object({
    lang: z
      .enum(PROMPT_LANGS)
      .optional()
      .describe('Language of the default prompts: "en" or "zh"; unset, each example\'s own language (en when it has none)'),
    caption: z.string().optional().describe('Caption prompt (no placeholders), e.g. "a photo of" or "描述这张图片："'),
    vqa: z.string().optional().describe('VQA prompt; must use {question}, e.g. "Question: {question} Answer:"'),
    retrieval: z.string().optional().describe('Text template for retrieval; must use {text}, e.g. "a photo of {text}"'),
    instruction: z.string().optional().describe('Instruction prompt; must use {instruction}'),
    text: z
      .literal('', { error: 'plain text takes no prompt: the whole text is trained on (remove prompts.text)' })
      .optional()
      .describe('Plain-text (task text) examples have no prompt; only "" is accepted'),
    interleaved: z
      .literal('', { error: 'interleaved documents take no prompt: every text segment is trained on (remove prompts.interleaved)' })
      .optional()
      .describe('Interleaved image-text documents (task interleaved) have no prompt; only "" is accepted'),
  })
  .describe('Prompt templates per task; unset tasks use the defaults of `lang`.');

export type PromptConfig = z.input<typeof promptConfigSchema>;

/**
 * The prompt template of `task` under `config`, checked against the task's placeholders.
 *
 * @example
 * resolvePrompt('vqa', { lang: 'zh' }); // '问题：{question} 答案：'
 * resolvePrompt('vqa', { vqa: 'Q: {q}' }); // throws E_CONFIG naming {q} and listing {question}
 * resolvePrompt('caption', {}, undefined, 'zh'); // '描述这张图片：' (no lang set: the example's language)
 */
export function resolvePrompt(task: TaskKind, config: PromptConfig = {}, where = `prompts.${task}`, exampleLang?: string): string {
  const parsed = promptConfigSchema.parse(config);
  const lang = parsed.lang ?? (PROMPT_LANGS.includes(exampleLang as PromptLang) ? (exampleLang as PromptLang) : 'en');
  const template = parsed[task] ?? DEFAULT_PROMPTS[task][lang];
  // every placeholder of a task is required: a VQA prompt without {question} would drop the question
  validateTemplate(template, TASK_PLACEHOLDERS[task], where, TASK_PLACEHOLDERS[task]);
  return template;
}
