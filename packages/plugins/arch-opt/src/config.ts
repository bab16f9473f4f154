// The recipe section of architecture "opt": every field described, so `mmft schema` can complete it.
import { z } from 'zod';

export const optConfigSchema = z.strictObject({});

export type OptConfig = z.output<typeof optConfigSchema>;
