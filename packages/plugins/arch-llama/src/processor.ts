// The processor of a Llama model (ModelProcessor: LlamaTokenizerFast with its chat template, no
// image preprocessing) and its towers. `language` is the decoder (model.*); `head` is an untied
// lm_head. A tied lm_head is embed_tokens.weight itself, listed once under model.embed_tokens, so a
// tied model has no head tower (freezing `language` freezes the head with it, as in transformers).
import type { ModelProcessor, ModelTowers, TextTokenizer } from '@mmft/core';

/** Llama parameter names by tower; every parameter is in exactly one. */
export function llamaTowers(tied: boolean): ModelTowers {
  return tied ? { language: ['model.**'] } : { language: ['model.**'], head: ['lm_head.**'] };
}

/**
 * @example
 * llamaProcessor(tokenizer, false).towers; // { language: ['model.**'], head: ['lm_head.**'] }
 */
export function llamaProcessor(tokenizer: (TextTokenizer & { chatTemplate?: string }) | undefined, tied: boolean): ModelProcessor {
  return { tokenizer, chatTemplate: tokenizer?.chatTemplate, towers: llamaTowers(tied) };
}
