// Objective contract: what a run trains for (LAVIS calls it a task, lavis/tasks/base_task.py;
// LLaMA-Factory a stage). An objective turns examples into model inputs, the model's outputs into
// a loss, and an evaluation split into typed metric inputs; the trainer around it is only the loop
// (optimizer, schedule, accumulation, clipping, checkpoints, resume, logging). docs/architecture.md
// "The path of a sample".
import type { Scalar, Variable } from '@tensorflow/tfjs-core';
import type { ConversationTurn, Dataset, Example, ImageRef } from './dataset';
import type { Batch } from './loss';
import type { MetricInput, MetricInputKind } from './metric-input';
import type { VisionLanguageModel } from './architecture';
import type { ProviderBase } from './provider';
import type { ProviderResolver } from './resolver';

/** Where a micro-batch sits in the training order: its epoch and each example's position in it. */
export interface BatchPosition {
  readonly epoch: number;
  readonly positions: readonly number[];
}

/**
 * A collated micro-batch. `count` is the number of items its loss sums over (pairs, label
 * tokens, or 1 for a loss that is already a mean over a whole batch, as a contrastive loss is):
 * the loop divides each micro-batch's loss by the step's total count, so accumulation weights
 * every item alike (HF Trainer's num_items_in_batch, transformers/trainer.py).
 */
export interface ObjectiveBatch extends Batch {
  readonly count: number;
  /** Frees the batch's tensors; the loop calls it once the step has used the batch. */
  dispose(): void;
}

/** A micro-batch an objective drew itself (`Objective.batches`), with where the next one starts. */
export interface DrawnBatch extends BatchPosition {
  readonly batch: ObjectiveBatch;
  /** Examples in the micro-batch (samples seen). */
  readonly size: number;
  /** Position right after this micro-batch in `epoch`. */
  readonly nextPosition: number;
}

/** One evaluated chunk: its summed loss over `count` items, and the metric inputs it produced. */
export interface EvalPart {
  readonly lossSum: number;
  readonly count: number;
  readonly inputs: readonly MetricInput[];
}

/**
 * What an objective's evaluation loss (`EvalPart.lossSum / count` over the eval split) is, when it
 * is more than a number to minimise. 'token-cross-entropy': the mean next-token cross-entropy in
 * nats over label tokens, so the loop also reports `perplexity` = exp(eval_loss), as transformers'
 * examples/pytorch/language-modeling/run_clm.py does.
 */
export type EvalLossKind = 'token-cross-entropy';

export interface Objective {
  /** The metric input kinds `evaluate` can produce (checked against the recipe's metrics up front). */
  readonly emits: readonly MetricInputKind[];
  /** What the eval loss is (see EvalLossKind); absent: a loss with no derived score (contrastive). */
  readonly evalLoss?: EvalLossKind;
  /**
   * False when the objective trains only its own parameters (a head on cached features): the loop
   * then neither optimizes nor saves the model's weights.
   */
  readonly trainsModel: boolean;
  /**
   * Examples a micro-batch needs for its loss to mean anything: 2 for a contrastive loss (a positive
   * and an in-batch negative); default 1. A last partial batch smaller than this is dropped, and a
   * training set smaller than this is an error.
   */
  readonly minBatchSize?: number;
  /**
   * Examples per epoch when the objective draws its own batches (`batches`); otherwise the loop
   * counts the training dataset.
   */
  readonly size?: number;
  /**
   * Model inputs for `examples` at `at`. Deterministic in (seed, epoch, position): a resumed run
   * collates the same batch (caption choice, augmentation) as the uninterrupted one.
   */
  collate(examples: readonly Example[], at: BatchPosition): Promise<ObjectiveBatch>;
  /**
   * Micro-batches from (epoch, position) on, forever, for an objective that reads its own rows
   * (cached features) instead of the dataset; absent = the loop draws from the dataset and calls
   * `collate`. Must cut epochs as the loop would (`batchSize`, `dropLast`).
   */
  batches?(start: {
    readonly seed: number;
    readonly batchSize: number;
    readonly dropLast: boolean;
    readonly epoch: number;
    readonly position: number;
  }): AsyncGenerator<DrawnBatch>;
  /** Called inside tf.variableGrads: the loss summed over `batch.count` items. */
  loss(batch: ObjectiveBatch): Scalar;
  /** Trainable parameters the objective owns beyond the model's (SigLIP's bias, a feature head). */
  parameters(): ReadonlyArray<readonly [string, Variable]>;
  /**
   * Evaluate `data` in order: eval loss (summed, with its count) and metric inputs of the `kinds`
   * asked for (a subset of `emits`; the others are not computed).
   */
  evaluate(
    data: Dataset | undefined,
    options: {
      readonly batchSize: number;
      readonly kinds: readonly MetricInputKind[];
      /**
       * Evaluate only examples [start, end) of the data, each at its position in the whole set (so
       * few-shot demos and seeds are those the whole pass draws). `start` is a multiple of
       * `batchSize`, so the batches are the whole pass's (a queue shard, `mmft eval recipe --queue`).
       */
      readonly range?: { readonly start: number; readonly end: number };
    },
  ): AsyncIterable<EvalPart>;
  /**
   * Metric input kinds whose inputs compare every eval example with every other (the contrastive
   * objective's captions-by-retrieval and zero-shot VQA): they cannot be produced shard by shard,
   * so `evaluate` with a `range` refuses them. Absent: every kind is per batch.
   */
  readonly wholeSetKinds?: readonly MetricInputKind[];
  /** Whether there is anything to evaluate (eval data, or cached eval rows). */
  readonly canEvaluate: boolean;
  /** Writes the objective's own files (beyond `parameters`, which the checkpoint holds) into `dir`. */
  saveState?(dir: string): Promise<void>;
  /** Reads back what `saveState` wrote. */
  loadState?(dir: string): Promise<void>;
  /** Frees what the objective holds (not the model). */
  dispose(): void;
}

/** What an objective is built with. */
export interface ObjectiveContext {
  readonly model: VisionLanguageModel;
  readonly resolver: ProviderResolver;
  /** The validated recipe (the objective reads `loss:` and other sections it owns). */
  readonly recipe: Readonly<Record<string, unknown>>;
  readonly seed: number;
  /** The run's output folder (caches such as features/ go under it). */
  readonly outputDir: string;
  readonly train?: Dataset;
  readonly eval?: Dataset;
  /** Examples per batch when the objective embeds a dataset itself (feature cache). */
  readonly batchSize: number;
}

/**
 * A training example as the chat another engine trains on (`mmft handoff`): the turns the
 * objective would render, with one `<image>` mark per image in reading order (LLaMA-Factory's and
 * ms-swift's convention), and the images those marks stand for.
 */
export interface HandoffConversation {
  readonly messages: readonly ConversationTurn[];
  readonly images: readonly ImageRef[];
}

export interface ObjectiveProvider<Config = unknown, Input = unknown> extends ProviderBase<Config, Input> {
  readonly kind: 'objective';
  create(config: Config, context: ObjectiveContext): Promise<Objective>;
  /**
   * The conversations `example` trains as under `config` (one per caption of a caption example),
   * without a model: what `mmft handoff` writes for other engines. Absent: the objective's data
   * cannot be handed off as chats (a contrastive objective).
   */
  conversations?(config: Config, example: Example): readonly HandoffConversation[];
}

declare module './kinds' {
  interface ProviderKindMap {
    objective: ObjectiveProvider;
  }
}
