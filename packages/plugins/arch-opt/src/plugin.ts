// The architecture provider "opt" (contract: packages/core/src/contracts/architecture.ts): builds
// OPTForCausalLM from a recipe's `model:` section (a checkpoint folder, or OPTConfig fields + a
// tokenizer folder) and names the model_type it handles for the model_type → factory table
// (docs/conventions.md §8).
import * as path from 'node:path';
import { ensureBackend, MmftError, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { readTokenizerFiles } from '@mmft/core/hf';
import { optSectionSchema, type OptSectionConfig } from './config';
import { OPT_MODEL_TYPES } from './checkpoint/parse-config';
import { OPTForCausalLM } from './opt-model';

/** The tokenizer files of a folder; tokenizer.json is required. */
async function readTokenizerFolder(dir: string): Promise<Map<string, Uint8Array>> {
  const files = await readTokenizerFiles(dir);
  if (!files.has('tokenizer.json')) {
    throw new MmftError('E_CONFIG', `model (opt): tokenizer folder ${dir} has no tokenizer.json`, {
      hint: 'point tokenizer: at a folder written by a Hugging Face tokenizer (save_pretrained), e.g. an OPT checkpoint',
    });
  }
  return files;
}

/**
 * `model: { type: opt }` — transformers' OPTForCausalLM.
 *
 * @example
 * const model = await optProvider.fromPretrained('models/opt-shapes-base');
 */
export const optProvider: ArchitectureProvider<OptSectionConfig> = {
  kind: 'architecture',
  id: 'opt',
  description: 'OPT (Hugging Face OPTForCausalLM): causal language model on HF checkpoints',
  configSchema: optSectionSchema,
  family: 'language-model',
  modelTypes: OPT_MODEL_TYPES,
  async fromConfig(raw) {
    const section = parseConfig(optProvider, raw, 'model (opt)');
    await ensureBackend();
    if (section.checkpoint)
      return OPTForCausalLM.fromPretrained(path.resolve(section.checkpoint), { ignoreUnexpected: section.ignoreUnexpected });
    const tokenizerFiles = section.tokenizer ? await readTokenizerFolder(path.resolve(section.tokenizer)) : undefined;
    return OPTForCausalLM.fromConfig(section.config, { seed: section.seed, tokenizerFiles });
  },
  fromPretrained: (dir, options) => OPTForCausalLM.fromPretrained(dir, options),
};
