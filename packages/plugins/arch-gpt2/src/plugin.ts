// The architecture provider "gpt2": builds GPT2LMHeadModel from a recipe's `model:` section, from a
// checkpoint folder or from GPT2Config fields + a tokenizer folder, and names the model_type it
// handles for the model_type → factory table (docs/conventions.md §8).
import * as path from 'node:path';
import { ensureBackend, MmftError, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { readTokenizerFiles } from '@mmft/core/hf';
import { gpt2SectionSchema, type Gpt2SectionConfig } from './config';
import { GPT2_MODEL_TYPES } from './checkpoint/parse-config';
import { GPT2LMHeadModel } from './gpt2-lm-head-model';

/** The tokenizer files HF keeps beside tokenizer.json, read from a folder; tokenizer.json is required. */
async function readTokenizerFolder(dir: string): Promise<Map<string, Uint8Array>> {
  const files = await readTokenizerFiles(dir);
  if (!files.has('tokenizer.json')) {
    throw new MmftError('E_CONFIG', `model (gpt2): tokenizer folder ${dir} has no tokenizer.json`, {
      hint: 'point tokenizer: at a folder written by a Hugging Face tokenizer (save_pretrained)',
    });
  }
  return files;
}

/**
 * `model: { type: gpt2 }` — HF GPT2LMHeadModel (decoder-only language model).
 *
 * @example
 * const model = await gpt2Provider.fromPretrained('models/gpt2');
 */
export const gpt2Provider: ArchitectureProvider<Gpt2SectionConfig> = {
  kind: 'architecture',
  id: 'gpt2',
  description: 'GPT-2 (transformers GPT2LMHeadModel): causal language model on HF checkpoints, Conv1D weights, tied head, byte-level BPE',
  configSchema: gpt2SectionSchema,
  family: 'language-model',
  modelTypes: GPT2_MODEL_TYPES,
  async fromConfig(raw) {
    const section = parseConfig(gpt2Provider, raw, 'model (gpt2)');
    await ensureBackend();
    if (section.checkpoint)
      return GPT2LMHeadModel.fromPretrained(path.resolve(section.checkpoint), { ignoreUnexpected: section.ignoreUnexpected });
    const tokenizerFiles = section.tokenizer ? await readTokenizerFolder(path.resolve(section.tokenizer)) : undefined;
    return GPT2LMHeadModel.fromConfig(section.config, { seed: section.seed, tokenizerFiles });
  },
  fromPretrained: (dir, options) => GPT2LMHeadModel.fromPretrained(dir, options),
};
