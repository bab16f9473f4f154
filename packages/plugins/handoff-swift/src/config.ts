// The `swift` handoff target's options. mmft handoff passes none by default; the overrides exist for
// models ms-swift cannot recognise from their config.json (docs/conventions.md §7).
import { z } from 'zod';

export const swiftConfigSchema = z
  .strictObject({
    model_type: z.string().min(1).optional().describe("ms-swift --model_type, when mmft's mapping from config.json does not fit"),
    template: z.string().min(1).optional().describe('ms-swift --template, when the model type default does not fit'),
  })
  .describe('ms-swift handoff target');

export type SwiftConfig = z.output<typeof swiftConfigSchema>;
export type SwiftConfigInput = z.input<typeof swiftConfigSchema>;
