// The architecture provider "gpt2" (contract: packages/core/src/contracts/architecture.ts). The members
// throw until written; `tsc -b` checks their signatures against the contract.
import { MmftError, type ArchitectureProvider } from '@mmft/core';
import { gpt2SectionSchema, type Gpt2SectionConfig } from './config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', `architecture "gpt2": ${member} is not written yet (src/plugin.ts)`);

/** `architecture: { type: gpt2 }` */
export const gpt2Provider: ArchitectureProvider<Gpt2SectionConfig> = {
  kind: 'architecture',
  id: 'gpt2',
  description: 'GPT-2 (Hugging Face GPT2LMHeadModel): causal language model on HF checkpoints',
  configSchema: gpt2SectionSchema,
  family: 'language-model',
  modelTypes: ['gpt2'],
  async fromConfig() {
    throw notYet('fromConfig');
  },
  async fromPretrained() {
    throw notYet('fromPretrained');
  },
};
