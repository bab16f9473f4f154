// The streaming VQA metric: per-question accuracies collected by `update`, overall / per answer
// type / per question type means at `compute`, rounded as vqaEval.py `setAccuracy` rounds them.
import { MmftError, type Metric, type MetricReport, type Untagged, type VqaInput } from '@mmft/core';
import { vqaAccuracy } from './accuracy';
import { vqaConfigSchema, type VqaConfig, type VqaConfigInput } from './config';
import { VQA_VARIANTS } from './variants';

/** One question as `update` takes it: core's `vqa` input (answer, human answers, types), `kind` optional. */
export type VqaUpdate = Untagged<VqaInput>;

/**
 * VQA accuracy in percent (0–100), overall and per answer/question type.
 *
 * @example
 * const m = new VqaMetric(); // { variant: 'official', decimals: 2 }
 * m.update({ id: '1', prediction: 'yes', answers: Array(10).fill('yes'), answerType: 'yes/no' });
 * m.compute().scores.accuracy; // 100
 */
export class VqaMetric implements Metric<VqaInput> {
  private ids: string[] = [];
  private seen = new Set<string>();
  private accs: number[] = [];
  private byAnswerType = new Map<string, number[]>();
  private byQuestionType = new Map<string, number[]>();

  private readonly config: VqaConfig;

  constructor(config: VqaConfigInput = {}) {
    this.config = vqaConfigSchema.parse(config);
  }

  reset(): void {
    this.ids = [];
    this.seen = new Set();
    this.accs = [];
    this.byAnswerType = new Map();
    this.byQuestionType = new Map();
  }

  update(batch: VqaUpdate | readonly VqaUpdate[]): void {
    const items: readonly VqaUpdate[] = Array.isArray(batch) ? batch : [batch as VqaUpdate];
    for (const item of items) {
      if (this.seen.has(item.id)) {
        throw new MmftError('E_DATA', `vqa metric: question "${item.id}" was given twice`, {
          hint: 'score exactly one answer per question id',
        });
      }
      if (item.answers.length === 0) {
        throw new MmftError('E_DATA', `vqa metric: question "${item.id}" has no human answers`, {
          hint: 'VQA accuracy needs the human answers (10 in VQA v2) for every question',
        });
      }
      const acc = vqaAccuracy(item.prediction, item.answers, this.config.variant);
      this.seen.add(item.id);
      this.ids.push(item.id);
      this.accs.push(acc);
      if (item.answerType !== undefined) push(this.byAnswerType, item.answerType, acc);
      if (item.questionType !== undefined) push(this.byQuestionType, item.questionType, acc);
    }
  }

  compute(): MetricReport {
    if (this.accs.length === 0) throw new MmftError('E_INPUT', 'vqa metric: nothing to score (compute() before any update())');
    const { decimals, variant } = this.config;
    const round = (x: number): number => (decimals === null ? x : VQA_VARIANTS[variant].round(x, decimals));
    // Python's sum(): left to right; then 100 * sum / n in that order (vqaEval.py setAccuracy).
    const percent = (values: readonly number[]): number => round((100 * values.reduce((a, b) => a + b, 0)) / values.length);
    const perItem: Record<string, Record<string, number>> = {};
    this.ids.forEach((id, i) => (perItem[id] = { accuracy: round(100 * this.accs[i]!) }));
    const groups: Record<string, Record<string, Record<string, number>>> = {};
    if (this.byAnswerType.size > 0) groups.answer_type = table(this.byAnswerType, percent);
    if (this.byQuestionType.size > 0) groups.question_type = table(this.byQuestionType, percent);
    return { scores: { accuracy: percent(this.accs) }, perItem, groups };
  }
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function table(map: Map<string, number[]>, percent: (v: readonly number[]) => number): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [key, values] of map) out[key] = { accuracy: percent(values), count: values.length };
  return out;
}
