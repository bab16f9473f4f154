// The architecture provider "llama": builds LlamaForCausalLM from a recipe's `model:` section, from a
// checkpoint folder or from LlamaConfig fields + a tokenizer folder, and names the model_type it
// handles for the model_type → factory table (docs/conventions.md §8).
import * as path from 'node:path';
import { ensureBackend, MmftError, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { readTokenizerFiles } from '@mmft/core/hf';
import { LLAMA_MODEL_TYPES } from './checkpoint/parse-config';
import { llamaSectionSchema, type LlamaSectionConfig } from './config';
import { LlamaForCausalLM } from './llama-for-causal-lm';

/** The tokenizer files HF keeps beside tokenizer.json, read from a folder; tokenizer.json is required. */
async function readTokenizerFolder(dir: string): Promise<Map<string, Uint8Array>> {
  const files = await readTokenizerFiles(dir);
  if (!files.has('tokenizer.json')) {
    throw new MmftError('E_CONFIG', `model (llama): tokenizer folder ${dir} has no tokenizer.json`, {
      hint: 'point tokenizer: at a folder written by a Hugging Face tokenizer (save_pretrained), e.g. a Llama checkpoint folder',
    });
  }
  return files;
}

/**
 * `model: { type: llama }` — HF LlamaForCausalLM (decoder-only language model).
 *
 * @example
 * const model = await llamaProvider.fromPretrained('models/llama-shapes-base');
 */
export const llamaProvider: ArchitectureProvider<LlamaSectionConfig> = {
  kind: 'architecture',
  id: 'llama',
  description: 'Llama (transformers LlamaForCausalLM): RMSNorm, rotary positions, grouped-query attention, SiLU MLP; HF checkpoints',
  configSchema: llamaSectionSchema,
  family: 'language-model',
  modelTypes: LLAMA_MODEL_TYPES,
  async fromConfig(raw) {
    const section = parseConfig(llamaProvider, raw, 'model (llama)');
    await ensureBackend();
    if (section.checkpoint)
      return LlamaForCausalLM.fromPretrained(path.resolve(section.checkpoint), { ignoreUnexpected: section.ignoreUnexpected });
    const tokenizerFiles = section.tokenizer ? await readTokenizerFolder(path.resolve(section.tokenizer)) : undefined;
    return LlamaForCausalLM.fromConfig(section.config, { seed: section.seed, tokenizerFiles });
  },
  fromPretrained: (dir, options) => LlamaForCausalLM.fromPretrained(dir, options),
};
