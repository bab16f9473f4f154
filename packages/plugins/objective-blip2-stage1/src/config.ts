// The recipe section of objective "blip2-stage1": every field described, so `mmft schema` can complete it.
import { z } from 'zod';

export const blip2Stage1ConfigSchema = z.strictObject({});

export type Blip2Stage1Config = z.output<typeof blip2Stage1ConfigSchema>;
