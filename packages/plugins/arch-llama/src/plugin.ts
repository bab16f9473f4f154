// The architecture provider "llama" (contract: packages/core/src/contracts/architecture.ts). The members
// throw until written; `tsc -b` checks their signatures against the contract.
import { MmftError, type ArchitectureProvider } from '@mmft/core';
import { llamaConfigSchema, type LlamaConfig } from './config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', `architecture "llama": ${member} is not written yet (src/plugin.ts)`);

/** `architecture: { type: llama }` */
export const llamaProvider: ArchitectureProvider<LlamaConfig> = {
  kind: 'architecture',
  id: 'llama',
  description: 'Llama (Hugging Face LlamaForCausalLM): causal language model on HF checkpoints',
  configSchema: llamaConfigSchema,
  family: 'dual-encoder',
  modelTypes: ['llama'],
  async fromConfig() {
    throw notYet('fromConfig');
  },
  async fromPretrained() {
    throw notYet('fromPretrained');
  },
};
