// The architecture provider "opt" (contract: packages/core/src/contracts/architecture.ts): builds
// OPTForCausalLM from a recipe's `model:` section (a checkpoint folder, or OPTConfig fields + a
// tokenizer folder) and names the model_type it handles for the model_type → factory table
// (docs/conventions.md §8).
import { MmftError, type ArchitectureProvider } from '@mmft/core';
import { optSectionSchema, type OptSectionConfig } from './config';
import { OPT_MODEL_TYPES } from './checkpoint/parse-config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', `architecture "opt": ${member} is not written yet (src/plugin.ts)`);

/** `model: { type: opt }` — transformers' OPTForCausalLM. */
export const optProvider: ArchitectureProvider<OptSectionConfig> = {
  kind: 'architecture',
  id: 'opt',
  description: 'OPT (Hugging Face OPTForCausalLM): causal language model on HF checkpoints',
  configSchema: optSectionSchema,
  family: 'language-model',
  modelTypes: OPT_MODEL_TYPES,
  async fromConfig() {
    throw notYet('fromConfig');
  },
  async fromPretrained() {
    throw notYet('fromPretrained');
  },
};
