// The recipe section of architecture "gpt2": every field described, so `mmft schema` can complete it.
import { z } from 'zod';

export const gpt2ConfigSchema = z.strictObject({});

export type Gpt2Config = z.output<typeof gpt2ConfigSchema>;
