// The recipe section of architecture "llava": every field described, so `mmft schema` can complete it.
import { z } from 'zod';

export const llavaConfigSchema = z.strictObject({});

export type LlavaConfig = z.output<typeof llavaConfigSchema>;
