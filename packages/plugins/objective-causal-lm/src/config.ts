// The recipe's `objective:` section for `type: causal-lm` (docs/language-models.md, "Fine-tuning
// with objective: causal-lm"). Field names follow what users of transformers' run_clm and
// LLaMA-Factory know: max_length (LLaMA-Factory's cutoff_len), train_on_prompt, template.
import { z } from 'zod';
import { recipePath } from '@mmft/core';
import { promptConfigSchema } from '@mmft/text';
import { NAMED_TEMPLATES } from './templates';

const positiveInt = () => z.number().int().positive();

/** Decoding of the evaluation's generations, in generation_config.json's snake_case names. */
export const evalGenerationSchema = z
  .strictObject({
    max_new_tokens: positiveInt().default(32).describe('new tokens per generated answer or caption'),
    num_beams: positiveInt().optional().describe('beam search with this many beams (default: generation_config.json, else greedy)'),
    length_penalty: z.number().optional().describe('beam scores are divided by length ** length_penalty'),
    no_repeat_ngram_size: z.number().int().nonnegative().optional().describe('never repeat an n-gram of this size'),
    repetition_penalty: z.number().positive().optional().describe('penalise tokens already generated (CTRL)'),
    min_new_tokens: z.number().int().nonnegative().optional().describe('tokens before an end-of-sequence token may end the text'),
  })
  .describe(
    'decoding of the texts evaluation generates (greedy by default, as LAVIS evaluates BLIP-2 captions with beams 5: set num_beams)',
  );

const shotCount = () => z.number().int().nonnegative();

/**
 * Few-shot episodes (docs/language-models.md, "Few-shot and interleaved data"): k solved examples of
 * the same task before a caption or VQA example, as Flamingo and IDEFICS are evaluated
 * (open_flamingo/eval/evaluate.py samples the demos from a query set).
 */
export const fewShotSchema = z
  .strictObject({
    shots: shotCount().default(0).describe('evaluation: in-context examples before each caption or VQA eval example'),
    train_shots: z
      .tuple([shotCount(), shotCount()])
      .default([0, 0])
      .refine(([min, max]) => min <= max, { message: 'is [min, max] with min <= max' })
      .describe('training: each caption or VQA training example gets k ~ uniform{min..max} in-context examples before it'),
    support: z
      .looseObject({
        type: z.string().min(1).describe('id of the dataset provider, e.g. shapes or jsonl (`mmft plugins` lists them)'),
      })
      .optional()
      .describe(
        "the data section the in-context examples come from, as under data.train (`type` and that provider's fields); default: data.train",
      ),
    seed: z.number().int().default(0).describe('seed of the draws (which examples, and k in training)'),
    base_dir: recipePath(z.string())
      .default('.')
      .describe("folder the support section's relative paths resolve from (default: the folder of the recipe file that sets it)"),
  })
  .describe(
    'few-shot episodes: caption and VQA examples get solved examples of the same task in front (never themselves, never one with the same image)',
  );

export type FewShotConfig = z.output<typeof fewShotSchema>;

export const causalLmConfigSchema = z
  .strictObject({
    max_length: positiveInt()
      .default(512)
      .describe('tokens per example after truncation (prompt + target); a target cut to nothing is an error naming the example'),
    train_on_prompt: z
      .boolean()
      .default(false)
      .describe('also train on prompt tokens (default false: labels are -100 on prompts and padding, as LLaMA-Factory)'),
    template: z
      .enum(['auto', 'chat', 'plain', ...NAMED_TEMPLATES])
      .default('auto')
      .describe(
        "chat: the tokenizer's chat_template; plain: prompt text + target + eos; llava_plain: LLaVA stage 1 (<image> + answer + newline); llava_v1 / vicuna_v1: LLaVA's USER: … ASSISTANT: …</s> with its system prompt; chatml: <|im_start|>role … <|im_end|>; auto: chat when the tokenizer has a chat_template, else plain (docs/templates.md)",
      ),
    default_system: z
      .string()
      .optional()
      .describe(
        "system prompt of llava_v1 / vicuna_v1 / chatml instead of the template's default ('' for none); a conversation's own system turn still wins, as in LLaMA-Factory",
      ),
    system_lang: z
      .enum(['en', 'zh'])
      .optional()
      .describe(
        "language of the template's default system prompt; unset: prompts.lang, else each example's language (en when it has none)",
      ),
    prompts: promptConfigSchema
      .optional()
      .describe(
        'prompt texts. Plain mode: caption and VQA prompts and instruction turns (the defaults of prompts.lang when unset). ' +
          'Chat and named templates (chat, llava_v1, vicuna_v1, chatml): a VQA user turn is prompts.vqa with {question} when set ' +
          '(LLaVA-1.5\'s short-answer format: "{question}\\nAnswer the question using a single word or phrase."), else the bare question; ' +
          'a caption user turn is the caption prompt; instruction turns are used as written',
      ),
    few_shot: fewShotSchema.optional(),
    generation: evalGenerationSchema.default({ max_new_tokens: 32 }).describe('decoding when evaluation generates captions and answers'),
  })
  .describe(
    'the causal-LM objective: next-token loss on targets (captions, answers, assistant turns, plain text), evaluation by generate()',
  );

export type CausalLmConfig = z.output<typeof causalLmConfigSchema>;
