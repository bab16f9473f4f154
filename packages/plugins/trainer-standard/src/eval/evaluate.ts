// Evaluation during training: the objective evaluates the eval split into typed metric inputs,
// which feed each of the recipe's metrics by the kind it consumes (core's MetricSink), and the
// eval loss is summed over the objective's items (eval_loss, as HF Trainer's evaluation_loop
// reports it). An objective whose eval loss is a mean token cross-entropy (Objective.evalLoss) also
// gets `perplexity` = exp(eval_loss), as transformers' examples/pytorch/language-modeling/run_clm.py
// adds it. Scores are named "<metric id>.<score>".
import { MetricSink, MmftError, type FedMetric, type MetricInput, type MetricInputKind, type Objective } from '@mmft/core';

/**
 * Scores the loop derives from the eval loss itself (no metric plugin), with their direction; they
 * can be train.metric_for_best like eval_loss.
 *
 * @example
 * lossScores({ evalLoss: 'token-cross-entropy' }); // { perplexity: 'lower' }
 */
export function lossScores(objective: Pick<Objective, 'evalLoss'>): Record<string, 'higher' | 'lower'> {
  return objective.evalLoss === 'token-cross-entropy' ? { perplexity: 'lower' } : {};
}

/**
 * Score the eval split: `eval_loss` (plus `perplexity` for a token cross-entropy) and every
 * metric's scores.
 *
 * @example
 * const scores = await evaluate(objective, metrics, { name: 'objective "contrastive"', batchSize: 8 }); // { eval_loss: 1.2, 'retrieval.i2t_R@1': 40, ... }
 */
export async function evaluate(
  objective: Objective,
  metrics: readonly FedMetric[],
  options: { readonly name: string; readonly batchSize: number; readonly onInputs?: (inputs: readonly MetricInput[]) => void },
): Promise<Record<string, number>> {
  const sink = new MetricSink(metrics, { name: options.name, emits: objective.emits });
  sink.reset();
  const kinds = [...new Set(metrics.map((m) => m.consumes))] as MetricInputKind[];
  let lossSum = 0;
  let count = 0;
  const seen = new Set<MetricInputKind>();
  for await (const part of objective.evaluate(undefined, { batchSize: options.batchSize, kinds })) {
    lossSum += part.lossSum;
    count += part.count;
    for (const input of part.inputs) seen.add(input.kind);
    if (part.inputs.length > 0) {
      sink.update(part.inputs);
      options.onInputs?.(part.inputs);
    }
  }
  // A metric fed nothing would fail with its own "nothing to score"; say which data it lacked.
  const starved = metrics.find((m) => !seen.has(m.consumes));
  if (starved) {
    const why =
      'perplexity' in lossScores(objective)
        ? ' (a generating objective turns captions into text inputs, VQA into vqa inputs, conversations into instruction inputs, or text inputs when no metric reads instruction; plain text is scored by eval_loss and perplexity only)'
        : '';
    throw new MmftError(
      'E_DATA',
      `metric "${starved.id}" reads ${starved.consumes} inputs, but ${options.name} produced none from data.eval${why}`,
      {
        hint: `remove ${starved.id} from metrics:, or give data.eval examples that ${options.name} turns into ${starved.consumes} inputs`,
      },
    );
  }
  const evalLoss = count ? lossSum / count : Number.NaN;
  // Summed over every label token of the split, then divided once: the token-weighted mean, so the
  // perplexity does not depend on how the split was cut into batches (Math.exp overflows to
  // Infinity where run_clm catches OverflowError and writes inf).
  const derived: Record<string, number> = 'perplexity' in lossScores(objective) ? { perplexity: Math.exp(evalLoss) } : {};
  return { eval_loss: evalLoss, ...derived, ...sink.scores() };
}
