// Evaluation during training: the objective evaluates the eval split into typed metric inputs,
// which feed each of the recipe's metrics by the kind it consumes (core's MetricSink), and the
// eval loss is summed over the objective's items (eval_loss, as HF Trainer's evaluation_loop
// reports it). Scores are named "<metric id>.<score>".
import { MetricSink, type FedMetric, type MetricInputKind, type Objective } from '@mmft/core';

/**
 * Score the eval split: `eval_loss` plus every metric's scores.
 *
 * @example
 * const scores = await evaluate(objective, metrics, { name: 'objective "contrastive"', batchSize: 8 }); // { eval_loss: 1.2, 'retrieval.i2t_R@1': 40, ... }
 */
export async function evaluate(
  objective: Objective,
  metrics: readonly FedMetric[],
  options: { readonly name: string; readonly batchSize: number },
): Promise<Record<string, number>> {
  const sink = new MetricSink(metrics, { name: options.name, emits: objective.emits });
  sink.reset();
  const kinds = [...new Set(metrics.map((m) => m.consumes))] as MetricInputKind[];
  let lossSum = 0;
  let count = 0;
  for await (const part of objective.evaluate(undefined, { batchSize: options.batchSize, kinds })) {
    lossSum += part.lossSum;
    count += part.count;
    if (part.inputs.length > 0) sink.update(part.inputs);
  }
  return { eval_loss: count ? lossSum / count : Number.NaN, ...sink.scores() };
}
