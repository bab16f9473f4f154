// The recipe section of architecture "blip2": every field described, so `mmft schema` can complete it.
import { z } from 'zod';

export const blip2ConfigSchema = z.strictObject({});

export type Blip2Config = z.output<typeof blip2ConfigSchema>;
