// The metric provider "instruction": reference agreement of generated replies (`instruction` inputs,
// packages/core/src/contracts/metric-input.ts) as extractive QA scores it: exact match and F1 in
// percent, averaged over inputs, by SQuAD v1.1's rules in English (squad.ts) and CMRC 2018's in
// Chinese (cmrc.ts). Not a judge-model score (docs/metrics.md, "Instruction-following score").
import { parseConfig, type InstructionInput, type Metric, type MetricProvider, type MetricReport } from '@mmft/core';
import { cmrcExact, cmrcF1 } from './cmrc';
import { instructionConfigSchema, type InstructionConfig } from './config';
import { squadExact, squadF1 } from './squad';

type Rules = 'en' | 'zh';

const CJK = /[\u4e00-\u9fa5]/u;

/** Which rules score `input`: its own language first, else the config's (auto: a CJK reference → zh). */
export function rulesFor(input: Pick<InstructionInput, 'lang' | 'reference'>, fallback: InstructionConfig['lang']): Rules {
  if (input.lang !== undefined && input.lang !== '') return /^zh(?:$|[-_])/i.test(input.lang) ? 'zh' : 'en';
  if (fallback !== 'auto') return fallback;
  return CJK.test(input.reference) ? 'zh' : 'en';
}

/** Exact match and F1 of one reply, each in [0, 1]. */
export function scoreReply(prediction: string, reference: string, rules: Rules): { exact_match: number; f1: number } {
  return rules === 'zh'
    ? { exact_match: cmrcExact(prediction, reference), f1: cmrcF1(prediction, reference) }
    : { exact_match: squadExact(prediction, reference), f1: squadF1(prediction, reference) };
}

const RULE_NAMES: Record<Rules, string> = { en: 'squad-v1.1', zh: 'cmrc2018' };

class InstructionMetric implements Metric<InstructionInput> {
  private items: { id: string; rules: Rules; exact_match: number; f1: number }[] = [];
  readonly settings: Readonly<Record<string, string>>;

  constructor(private readonly config: InstructionConfig) {
    this.settings = { normalization: 'squad-v1.1 (en), cmrc2018 (zh)', lang: config.lang };
  }

  reset(): void {
    this.items = [];
  }

  update(batch: InstructionInput | readonly InstructionInput[]): void {
    for (const input of Array.isArray(batch) ? (batch as readonly InstructionInput[]) : [batch as InstructionInput]) {
      const rules = rulesFor(input, this.config.lang);
      this.items.push({ id: input.id, rules, ...scoreReply(input.prediction, input.reference, rules) });
    }
  }

  compute(): MetricReport {
    // Percent means over inputs, as both official scripts report them (100 * sum / total).
    const mean = (items: readonly { exact_match: number; f1: number }[]) => ({
      exact_match: items.length === 0 ? 0 : (100 * items.reduce((s, i) => s + i.exact_match, 0)) / items.length,
      f1: items.length === 0 ? 0 : (100 * items.reduce((s, i) => s + i.f1, 0)) / items.length,
    });
    const perItem: Record<string, Record<string, number>> = {};
    for (const i of this.items) perItem[i.id] = { exact_match: 100 * i.exact_match, f1: 100 * i.f1 };
    const rules: Record<string, Record<string, number>> = {};
    for (const r of ['en', 'zh'] as const) {
      const of = this.items.filter((i) => i.rules === r);
      if (of.length > 0) rules[RULE_NAMES[r]] = { ...mean(of), count: of.length };
    }
    return { scores: mean(this.items), perItem, groups: { rules } };
  }
}

/**
 * `metrics: [{ type: instruction }]`
 *
 * @example
 * const m = instructionMetric.create(instructionMetric.configSchema.parse({}));
 * m.update({ kind: 'instruction', id: '1', prediction: 'Two circles.', reference: 'two circles', instruction: 'How many?' });
 * m.compute().scores; // { exact_match: 100, f1: 100 }
 */
export const instructionMetric: MetricProvider<InstructionConfig, InstructionInput> = {
  kind: 'metric',
  id: 'instruction',
  consumes: 'instruction',
  description:
    "Instruction-following score: exact match and token F1 of generated replies against reference replies, in percent (SQuAD v1.1's evaluate-v1.1.py rules; CMRC 2018's for Chinese)",
  configSchema: instructionConfigSchema,
  scores: { exact_match: 'higher', f1: 'higher' },
  create: (config) => new InstructionMetric(parseConfig(instructionMetric, config)),
};
