// The architecture provider "blip2" (contract: packages/core/src/contracts/architecture.ts). The members
// throw until written; `tsc -b` checks their signatures against the contract.
import { MmftError, type ArchitectureProvider } from '@mmft/core';
import { blip2ConfigSchema, type Blip2Config } from './config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', `architecture "blip2": ${member} is not written yet (src/plugin.ts)`);

/** `architecture: { type: blip2 }` */
export const blip2Provider: ArchitectureProvider<Blip2Config> = {
  kind: 'architecture',
  id: 'blip2',
  description: 'BLIP-2 (Hugging Face Blip2ForConditionalGeneration): EVA ViT vision encoder, Q-Former bridge, language projection, any causal LM through the registry',
  configSchema: blip2ConfigSchema,
  family: 'dual-encoder',
  modelTypes: ['blip2'],
  async fromConfig() {
    throw notYet('fromConfig');
  },
  async fromPretrained() {
    throw notYet('fromPretrained');
  },
};
