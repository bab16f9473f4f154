// The objective provider "blip2-stage1" (contract: packages/core/src/contracts/objective.ts). The members
// throw until written; `tsc -b` checks their signatures against the contract.
import { MmftError, type ObjectiveProvider } from '@mmft/core';
import { blip2Stage1ConfigSchema, type Blip2Stage1Config } from './config';

const notYet = (member: string) => new MmftError('E_UNSUPPORTED', `objective "blip2-stage1": ${member} is not written yet (src/plugin.ts)`);

/** `objective: { type: blip2-stage1 }` */
export const blip2Stage1Provider: ObjectiveProvider<Blip2Stage1Config> = {
  kind: 'objective',
  id: 'blip2-stage1',
  description: 'BLIP-2 stage 1 (LAVIS blip2_qformer.py): image-text contrastive, matching with hard negatives, image-grounded text generation',
  configSchema: blip2Stage1ConfigSchema,
  async create() {
    throw notYet('create');
  },
};
