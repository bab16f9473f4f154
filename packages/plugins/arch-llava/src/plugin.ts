// The architecture provider "llava" (contract: packages/core/src/contracts/architecture.ts). The members
// throw until written; `tsc -b` checks their signatures against the contract.
import { MmftError, type ArchitectureProvider } from '@mmft/core';
import { llavaConfigSchema, type LlavaConfig } from './config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', `architecture "llava": ${member} is not written yet (src/plugin.ts)`);

/** `architecture: { type: llava }` */
export const llavaProvider: ArchitectureProvider<LlavaConfig> = {
  kind: 'architecture',
  id: 'llava',
  description: 'LLaVA (Hugging Face LlavaForConditionalGeneration): vision tower and causal LM through the registry, multi-modal projector, <image> expansion',
  configSchema: llavaConfigSchema,
  family: 'dual-encoder',
  modelTypes: ['llava'],
  async fromConfig() {
    throw notYet('fromConfig');
  },
  async fromPretrained() {
    throw notYet('fromPretrained');
  },
};
