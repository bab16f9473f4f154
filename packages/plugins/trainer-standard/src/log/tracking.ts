// The run's experiment tracking: the reporters `train.report_to` names (HF TrainingArguments.report_to,
// e.g. TensorBoard), fed what transformers' TensorBoardCallback logs
// (src/transformers/integrations/integration_utils.py): every log entry's numbers under train/, eval
// scores under eval/, the resolved recipe as text, plus sample predictions beside their references.
import { MmftError, type MetricInput, type ProviderResolver, type ReporterProvider, type RunTracker } from '@mmft/core';
import { stringify } from 'yaml';

/** `train.report_to` as parsed: a list of reporter ids, `'none'`, or absent (the default). */
export type ReportTo = readonly string[] | 'none' | undefined;

/** What an absent `report_to` means: TensorBoard when loaded (HF's default reports to the installed integrations). */
export const DEFAULT_REPORTERS: readonly string[] = ['tensorboard'];

/**
 * The reporters the list names (none for `[]` / `'none'`), checked before the run loads anything:
 * an unknown id fails listing the loaded ones.
 *
 * @example
 * const reporters = resolveReporters(['tensorboard'], context.resolver);
 */
export function resolveReporters(reportTo: ReportTo, resolver: ProviderResolver): ReporterProvider[] {
  const loaded = new Set(resolver.list('reporter').map((p) => p.id));
  const ids =
    reportTo === undefined
      ? DEFAULT_REPORTERS.filter((id) => loaded.has(id))
      : reportTo === 'none'
        ? []
        : [...new Set(reportTo)].filter((id) => id !== 'none');
  return ids.map((id) => {
    try {
      return resolver.resolve('reporter', id);
    } catch (cause) {
      throw new MmftError('E_UNKNOWN_ID', `train.report_to names reporter "${id}", which no loaded plugin provides`, {
        cause,
        hint: `use one of: ${[...loaded].join(', ') || '(none loaded)'}, or report_to: [] to turn tracking off`,
      });
    }
  });
}

/**
 * Open every reporter as one tracker (closing those already open if one fails).
 *
 * @example
 * const tracker = await openTracking(resolveReporters(['tensorboard'], context.resolver), { outputDir, runName: 'demo' });
 */
export async function openTracking(
  reporters: readonly ReporterProvider[],
  run: { readonly outputDir: string; readonly runName: string; readonly resumedAtStep?: number },
): Promise<RunTracker> {
  const trackers: RunTracker[] = [];
  try {
    for (const provider of reporters) trackers.push(await provider.open(provider.configSchema.parse({}), run));
  } catch (error) {
    await Promise.all(trackers.map((t) => t.close()));
    throw error;
  }
  return fanOut(trackers);
}

function fanOut(trackers: readonly RunTracker[]): RunTracker {
  return {
    scalars: (step, values) => trackers.forEach((t) => t.scalars(step, values)),
    text: (step, tag, markdown) => trackers.forEach((t) => t.text(step, tag, markdown)),
    image: (step, tag, png, size) => trackers.forEach((t) => t.image(step, tag, png, size)),
    close: async () => {
      await Promise.all(trackers.map((t) => t.close()));
    },
  };
}

/** The keys of a log entry that are not measurements. */
const NOT_SCALARS = new Set(['kind', 'step']);

/**
 * A metrics.jsonl entry's numbers as `<prefix>/<name>` scalars (`train/loss`, `eval/eval_loss`).
 *
 * @example
 * entryScalars('train', { kind: 'train', step: 3, loss: 0.5 }); // { 'train/loss': 0.5 }
 */
export function entryScalars(prefix: string, entry: Readonly<Record<string, unknown>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(entry)) if (!NOT_SCALARS.has(key) && typeof value === 'number') out[`${prefix}/${key}`] = value;
  return out;
}

/**
 * A train step's scalars: the metrics.jsonl entry's numbers, each lr group's scheduled rate,
 * throughput and memory (HF's TensorBoardCallback logs the entry; the rest is what the
 * run summary reports at the end, per step).
 *
 * @example
 * tracker.scalars(step, stepScalars(entry, { lr, baseLr: 1e-3, groupLrs: [], samples: 8, seconds: 0.5, peakBytes: 1 << 20 }));
 */
export function stepScalars(
  entry: Readonly<Record<string, unknown>>,
  o: { lr: number; baseLr: number; groupLrs: readonly number[]; samples: number; seconds: number; peakBytes: number },
): Record<string, number> {
  return {
    ...entryScalars('train', entry),
    ...Object.fromEntries(o.groupLrs.map((groupLr, i) => [`train/lr_group_${i}`, (groupLr * o.lr) / o.baseLr])),
    'train/samples_per_second': o.samples / Math.max(1e-9, o.seconds),
    'train/rss_mib': process.memoryUsage().rss / 2 ** 20,
    'train/peak_tensor_mib': o.peakBytes / 2 ** 20,
  };
}

/** The resolved recipe as markdown (a YAML code block), the `recipe` text at step 0. */
export function recipeMarkdown(recipe: Readonly<Record<string, unknown>>): string {
  return ['```yaml', stringify(recipe, { lineWidth: 0 }).trimEnd(), '```'].join('\n');
}

/** Keeps the first `limit` generated texts of an evaluation with what they are compared to. */
export class PredictionSamples {
  private rows: { id: string; prompt: string; prediction: string; reference: string }[] = [];

  constructor(private readonly limit = 8) {}

  add(inputs: readonly MetricInput[]): void {
    for (const input of inputs) {
      if (this.rows.length >= this.limit) return;
      if (input.kind === 'text')
        this.rows.push({ id: input.id, prompt: '', prediction: input.prediction, reference: input.references.join(' / ') });
      else if (input.kind === 'vqa')
        this.rows.push({ id: input.id, prompt: '', prediction: input.prediction, reference: input.answers.join(' / ') });
      else if (input.kind === 'instruction')
        this.rows.push({ id: input.id, prompt: input.instruction, prediction: input.prediction, reference: input.reference });
    }
  }

  /** A markdown table (TensorBoard's text dashboard renders it), or undefined when nothing was generated. */
  markdown(): string | undefined {
    if (this.rows.length === 0) return undefined;
    const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
    const withPrompt = this.rows.some((r) => r.prompt !== '');
    const head = withPrompt
      ? '| id | instruction | prediction | reference |\n|---|---|---|---|'
      : '| id | prediction | reference |\n|---|---|---|';
    const lines = this.rows.map((r) =>
      withPrompt
        ? `| ${cell(r.id)} | ${cell(r.prompt)} | ${cell(r.prediction)} | ${cell(r.reference)} |`
        : `| ${cell(r.id)} | ${cell(r.prediction)} | ${cell(r.reference)} |`,
    );
    return [head, ...lines].join('\n');
  }
}
