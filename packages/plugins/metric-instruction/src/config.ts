// The recipe section of metric "instruction" (`metrics: [{ type: instruction }]`): every field described,
// so `mmft schema` can complete it.
import { z } from 'zod';

export const INSTRUCTION_RULES = ['auto', 'en', 'zh'] as const;

/**
 * Config of the instruction-following score.
 *
 * @example
 * instructionConfigSchema.parse({}); // { lang: 'auto' }
 * instructionConfigSchema.parse({ lang: 'zh' }); // CMRC 2018 rules for every input without its own lang
 */
export const instructionConfigSchema = z
  .strictObject({
    lang: z
      .enum(INSTRUCTION_RULES)
      .default('auto')
      .describe(
        "rules for inputs that carry no language of their own: en = SQuAD v1.1's evaluate-v1.1.py, zh = CMRC 2018's " +
          'cmrc2018_evaluate.py, auto = zh when the reference has a CJK ideograph (U+4E00..U+9FA5), else en. An input whose ' +
          'example has a language uses it (zh, zh-CN, ... → zh; anything else → en)',
      ),
  })
  .describe('Instruction-following score: exact match and token F1 of each reply against its reference reply, in percent');

export type InstructionConfig = z.output<typeof instructionConfigSchema>;
export type InstructionConfigInput = z.input<typeof instructionConfigSchema>;
