// Runs the three conditions of conditions.ts through the recipe's objective and collects, per
// condition: the generated answers (agreement with the true-image answers), the metric scores of
// those answers, the mean log-likelihood per reference token (−Σ eval loss / Σ label tokens: the
// objective's teacher-forced token cross-entropy, what the trainer logs as eval_loss) and, for a
// model that returns attention probabilities (AttentionProbing), the attention mass on image
// positions per layer of its language model. Only the generic contracts are used: an objective,
// metrics and a VisionLanguageModel; nothing here knows BLIP-2 or LLaVA.
import * as tf from '@tensorflow/tfjs-core';
import {
  MetricSink,
  MmftError,
  probesAttention,
  type AttentionProbing,
  type Dataset,
  type Example,
  type FedMetric,
  type MetricInputKind,
  type ModelInputs,
  type Objective,
  type VisionLanguageModel,
} from '@mmft/core';
import {
  agreement,
  blankImage,
  CONDITIONS,
  derangement,
  imageAttentionSums,
  meanMass,
  withCondition,
  type AttentionSums,
  type Condition,
} from './conditions';

export interface ConditionResult {
  /** Σ log p(reference token) / reference tokens (natural log; higher is more likely). */
  readonly meanLogLikelihood: number;
  readonly tokens: number;
  /** Share of answers equal to the true-image answer (1 for 'true' itself; NaN without generated answers). */
  readonly agreement: number;
  /** `<metric id>.<score>` of this condition's answers. */
  readonly scores: Readonly<Record<string, number>>;
  /** Answers by example id. */
  readonly predictions: Readonly<Record<string, string>>;
  /** Mean attention mass on image positions per layer (absent when the model cannot say). */
  readonly attention?: readonly number[];
}

export interface ProbeResult {
  readonly examples: number;
  /** Examples without an image, which the probe leaves out (nothing to take away). */
  readonly imageless: number;
  readonly seed: number;
  readonly conditions: Readonly<Partial<Record<Condition, ConditionResult>>>;
  /** Why attention is missing ('not available for this model ...'), or undefined when measured. */
  readonly attentionUnavailable?: string;
}

export interface ProbeOptions {
  readonly model: VisionLanguageModel;
  readonly objective: Objective;
  readonly metrics: readonly FedMetric[];
  readonly examples: readonly Example[];
  readonly batchSize: number;
  /** Seed of the shuffled condition's derangement. */
  readonly seed: number;
  /** Where the examples came from, for messages. */
  readonly source: string;
}

const inMemory = (examples: readonly Example[]): Dataset => ({
  task: examples[0]!.task,
  size: examples.length,
  async *iterate() {
    yield* examples;
  },
});

/** Attention sums over the examples under one condition, batch by batch through the objective's collate. */
async function attentionOf(
  model: AttentionProbing,
  objective: Objective,
  examples: readonly Example[],
  batchSize: number,
): Promise<number[]> {
  const sums: AttentionSums = { sums: [], counts: [] };
  for (let start = 0; start < examples.length; start += batchSize) {
    const chunk = examples.slice(start, start + batchSize);
    const batch = await objective.collate(chunk, { epoch: 0, positions: chunk.map((_, i) => start + i) });
    try {
      const out = model.attentionProbabilities(batch.inputs as ModelInputs);
      try {
        const probs = out.probabilities.map((p) => p.arraySync() as number[][][][]);
        imageAttentionSums(probs, out.imagePositions, out.attentionMask, sums);
      } finally {
        tf.dispose(out.probabilities);
      }
    } finally {
      batch.dispose();
    }
  }
  return meanMass(sums);
}

/**
 * Probes `examples` under the three conditions (see conditions.ts).
 *
 * @example
 * const result = await runProbe({ model, objective, metrics, examples, batchSize: 16, seed: 0, source: 'data.eval' });
 * result.conditions.blank?.agreement; // 0.12: answers rarely survive without the image
 */
export async function runProbe(o: ProbeOptions): Promise<ProbeResult> {
  const processing = o.model.processor.imageProcessing;
  if (o.model.family !== 'vision-to-llm' || !processing) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `mmft probe: model "${o.model.modelType}" (${o.model.family}) does not generate text from images, so there is no image to take away`,
      { hint: 'probe a vision-to-LLM model (blip-2, llava) with a generating objective (objective: causal-lm)' },
    );
  }
  const withImages = o.examples.filter((e) => e.image !== undefined);
  if (withImages.length === 0) {
    throw new MmftError('E_DATA', `mmft probe: ${o.source} has no example with an image`, {
      hint: 'probe caption, VQA or instruction data whose examples carry images',
    });
  }
  // Conversations feed `instruction` inputs only when a metric reads them (else `text`), as in training.
  const instructionMetric = o.metrics.some((m) => m.consumes === 'instruction');
  const kinds = o.objective.emits.filter(
    (k): k is MetricInputKind => k === 'text' || k === 'vqa' || (k === 'instruction' && instructionMetric),
  );
  if (kinds.length === 0) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `mmft probe: the objective emits ${o.objective.emits.join(', ') || 'nothing'}, no generated answers`,
      {
        hint: 'probe with objective: causal-lm (it generates answers for caption, VQA and instruction examples)',
      },
    );
  }
  const order = derangement(withImages.length, o.seed);
  const blank = blankImage(processing);
  const sink = new MetricSink(o.metrics, { name: 'mmft probe', emits: kinds });
  const conditions: Partial<Record<Condition, ConditionResult>> = {};
  let truth: Map<string, string> | undefined;
  for (const condition of CONDITIONS) {
    if (condition === 'shuffled' && !order) continue;
    const examples = withCondition(withImages, condition, blank, order);
    sink.reset();
    const predictions = new Map<string, string>();
    let lossSum = 0;
    let tokens = 0;
    for await (const part of o.objective.evaluate(inMemory(examples), { batchSize: o.batchSize, kinds })) {
      lossSum += part.lossSum;
      tokens += part.count;
      sink.update(part.inputs);
      for (const input of part.inputs) if ('prediction' in input && 'id' in input) predictions.set(input.id, input.prediction);
    }
    truth ??= predictions;
    const attention = probesAttention(o.model) ? await attentionOf(o.model, o.objective, examples, o.batchSize) : undefined;
    conditions[condition] = {
      meanLogLikelihood: tokens > 0 ? -lossSum / tokens : Number.NaN,
      tokens,
      agreement: agreement(truth, predictions),
      scores: o.metrics.length > 0 ? sink.scores() : {},
      predictions: Object.fromEntries(predictions),
      ...(attention ? { attention } : {}),
    };
  }
  return {
    examples: withImages.length,
    imageless: o.examples.length - withImages.length,
    seed: o.seed,
    conditions,
    ...(probesAttention(o.model)
      ? {}
      : {
          attentionUnavailable: `not available for this model (${o.model.modelType}: it does not return attention probabilities)`,
        }),
  };
}
