// The architecture provider "opt" (contract: packages/core/src/contracts/architecture.ts). The members
// throw until written; `tsc -b` checks their signatures against the contract.
import { MmftError, type ArchitectureProvider } from '@mmft/core';
import { optConfigSchema, type OptConfig } from './config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', `architecture "opt": ${member} is not written yet (src/plugin.ts)`);

/** `architecture: { type: opt }` */
export const optProvider: ArchitectureProvider<OptConfig> = {
  kind: 'architecture',
  id: 'opt',
  description: 'OPT (Hugging Face OPTForCausalLM): causal language model on HF checkpoints',
  configSchema: optConfigSchema,
  family: 'dual-encoder',
  modelTypes: ['opt'],
  async fromConfig() {
    throw notYet('fromConfig');
  },
  async fromPretrained() {
    throw notYet('fromPretrained');
  },
};
