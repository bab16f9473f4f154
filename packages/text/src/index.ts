// @mmft/text: prompt templates for every task, English and Chinese first-class.
export { renderTemplate, templatePlaceholders, validateTemplate } from './render';
export { DEFAULT_PROMPTS, PROMPT_LANGS, TASK_PLACEHOLDERS, type PromptLang } from './defaults';
export { promptConfigSchema, resolvePrompt, type PromptConfig } from './prompt-config';
