// `train.eval_only` (`mmft eval recipe`): score the model as loaded (checkpoint + PEFT adapter, if
// any), log the scores to metrics.jsonl, print them as a table and stop, as HF Trainer.evaluate()
// without train().
import { MmftError, type RunContext, type RunSummary } from '@mmft/core';
import type { MetricsLog } from '../log/metrics-log';

/**
 * Runs `runEval` once at `step` and reports the scores.
 *
 * @example
 * return evaluateOnly({ canEvaluate: policy.enabled, step: 0, runEval, log, context });
 */
export async function evaluateOnly(o: {
  readonly canEvaluate: boolean;
  readonly step: number;
  readonly runEval: () => Promise<Record<string, number>>;
  readonly log: MetricsLog;
  readonly context: RunContext;
}): Promise<RunSummary> {
  if (!o.canEvaluate) {
    throw new MmftError('E_RECIPE', 'train.eval_only needs evaluation data: add data.eval (and metrics:) to the recipe');
  }
  const scores = await o.runEval();
  await o.log.append({ kind: 'eval', step: o.step, ...scores });
  const width = Math.max(6, ...Object.keys(scores).map((k) => k.length));
  o.context.reporter.info(`${'metric'.padEnd(width)}  ${'value'.padStart(9)}`);
  for (const [key, value] of Object.entries(scores)) o.context.reporter.info(`${key.padEnd(width)}  ${value.toFixed(2).padStart(9)}`);
  return { steps: 0, outputDir: o.context.outputDir, metrics: scores };
}
