// The recipe section of architecture "llama": every field described, so `mmft schema` can complete it.
import { z } from 'zod';

export const llamaConfigSchema = z.strictObject({});

export type LlamaConfig = z.output<typeof llamaConfigSchema>;
