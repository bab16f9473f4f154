// The default prompt of each task in English and Chinese, and the placeholders each task's prompt
// may use. Caption/VQA prompts follow BLIP-2's (LAVIS `blip2_opt.py`: "a photo of",
// "Question: {} Answer:"); the instruction prompt follows LLaVA v1's "USER: <image>\n... ASSISTANT:";
// plain text ('text' task) has none (docs/data.md, "Text records").
import type { TaskKind } from '@mmft/core';

/** Languages with first-class default prompts. */
export const PROMPT_LANGS = ['en', 'zh'] as const;
export type PromptLang = (typeof PROMPT_LANGS)[number];

/** Placeholders a prompt of each task may use. */
export const TASK_PLACEHOLDERS: Readonly<Record<TaskKind, readonly string[]>> = {
  caption: [],
  vqa: ['question'],
  retrieval: ['text'],
  instruction: ['instruction'],
  text: [],
  interleaved: [],
};

/**
 * Default prompt per task and language.
 *
 * @example
 * DEFAULT_PROMPTS.vqa.zh; // '问题：{question} 答案：'
 */
export const DEFAULT_PROMPTS: Readonly<Record<TaskKind, Readonly<Record<PromptLang, string>>>> = {
  caption: { en: 'a photo of', zh: '描述这张图片：' },
  vqa: { en: 'Question: {question} Answer:', zh: '问题：{question} 答案：' },
  // CLIP-style text side: the text as is; a recipe can wrap it ("a photo of {text}").
  retrieval: { en: '{text}', zh: '{text}' },
  instruction: { en: 'USER: <image>\n{instruction} ASSISTANT:', zh: '用户：<image>\n{instruction} 助手：' },
  // Plain text has no prompt: the whole text is the target, as run_clm and LLaMA-Factory's
  // pretraining stage train it (transformers examples/pytorch/language-modeling/run_clm.py).
  text: { en: '', zh: '' },
  // Interleaved documents (images and texts in order) are all target, as plain text is.
  interleaved: { en: '', zh: '' },
};
