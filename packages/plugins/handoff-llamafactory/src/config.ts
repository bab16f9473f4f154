// The `llamafactory` handoff target's options. mmft handoff passes none by default; the override is for
// models whose LLaMA-Factory template mmft cannot pick from the recipe (docs/conventions.md §7).
import { z } from 'zod';

export const llamaFactoryConfigSchema = z
  .strictObject({
    template: z
      .string()
      .min(1)
      .optional()
      .describe("LLaMA-Factory's template name (data/template.py), when mmft's mapping from objective.template does not fit"),
  })
  .describe('LLaMA-Factory handoff target');

export type LlamaFactoryConfig = z.output<typeof llamaFactoryConfigSchema>;
export type LlamaFactoryConfigInput = z.input<typeof llamaFactoryConfigSchema>;
