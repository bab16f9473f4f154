// The objective provider "blip2-stage1" (contract: packages/core/src/contracts/objective.ts):
// BLIP-2's first training stage on a query-transformer model; docs/blip2-stage1.md.
import type { ObjectiveProvider } from '@mmft/core';
import { blip2Stage1ConfigSchema, type Blip2Stage1Config } from './config';
import { createBlip2Stage1 } from './objective';

/** `objective: { type: blip2-stage1 }` */
export const blip2Stage1Provider: ObjectiveProvider<Blip2Stage1Config> = {
  kind: 'objective',
  id: 'blip2-stage1',
  description:
    'BLIP-2 stage 1 (LAVIS blip2_qformer.py): image-text contrastive, matching with hard negatives, image-grounded text generation; retrieval evaluation',
  configSchema: blip2Stage1ConfigSchema,
  create: (config, context) => createBlip2Stage1(config, context),
};
