// The blip2-stage1 objective (contract: packages/core/src/contracts/objective.ts) over any model of
// core's query-transformer family (packages/core/src/contracts/query-transformer.ts): collate image
// + one caption per example, the loss of losses.ts (a mean over the micro-batch, so count 1, as the
// contrastive objective counts), and evaluation by the same loss plus ITC retrieval similarities
// (max over queries) for metric-retrieval. docs/blip2-stage1.md.
import * as tf from '@tensorflow/tfjs-core';
import {
  isQueryTransformerModel,
  MmftError,
  type Dataset,
  type EvalPart,
  type Example,
  type MetricInputKind,
  type Objective,
  type ObjectiveBatch,
  type ObjectiveContext,
  type QueryTransformerModel,
} from '@mmft/core';
import type { Blip2Stage1Config } from './config';
import { pixelsOf, preprocessOf, tokenizerOf, tokensOf } from './collate';
import { stage1Losses, type Stage1Inputs, type Stage1Settings } from './losses';
import { retrievalInputOf, RetrievalCollector } from './retrieval';
import { pickCaption, positiveTexts, processText, type TextOptions } from './texts';

/** A collated batch with what the loss needs beyond the tensors (where the negatives are drawn from). */
export interface Stage1Batch extends ObjectiveBatch {
  readonly stage1: Stage1Inputs;
}

const isStage1Batch = (batch: ObjectiveBatch): batch is Stage1Batch => 'stage1' in batch;

/** The model as a query transformer, or an error saying which models are. */
export function queryTransformerOf(context: ObjectiveContext): QueryTransformerModel {
  const model = context.model;
  if (!isQueryTransformerModel(model)) {
    throw new MmftError(
      'E_CONFIG',
      `objective blip2-stage1 needs a query transformer (a BLIP-2 Q-Former with ITC/ITM/ITG heads); model is "${model.modelType}" (${model.family})`,
      {
        hint: 'load a Blip2ForImageTextRetrieval folder or use model.type blip2-retrieval; stage 2 (Blip2ForConditionalGeneration) trains with objective causal-lm',
      },
    );
  }
  return model;
}

/**
 * Build the objective for `context` (its model must be a query transformer).
 *
 * @example
 * const objective = await createBlip2Stage1(blip2Stage1ConfigSchema.parse({}), context);
 */
export async function createBlip2Stage1(config: Blip2Stage1Config, context: ObjectiveContext): Promise<Objective> {
  const model = queryTransformerOf(context);
  if (config.max_length > model.maxTextLength) {
    throw new MmftError(
      'E_CONFIG',
      `objective.max_length is ${config.max_length}, but model "${model.modelType}" reads at most ${model.maxTextLength} text tokens (its position embeddings)`,
      { hint: `set objective.max_length to ${model.maxTextLength} or less (LAVIS uses 32)` },
    );
  }
  const preprocess = preprocessOf(model);
  const tokenizer = tokenizerOf(model);
  const settings: Stage1Settings = { labelSmoothing: config.label_smoothing, weights: config.weights };
  const textOptions: TextOptions = { preCaption: config.pre_caption, prompt: config.prompt };

  const batchOf = async (
    examples: readonly Example[],
    texts: readonly string[],
    epoch: number,
    positions: number[],
  ): Promise<Stage1Batch> => {
    const pixelValues = await pixelsOf(examples, preprocess, context.seed, epoch, positions);
    const { inputIds, attentionMask } = tokensOf(tokenizer, texts, config.max_length);
    const stage1: Stage1Inputs = { pixelValues, inputIds, attentionMask, seed: context.seed, epoch, positions };
    return {
      inputs: { pixelValues, inputIds, attentionMask },
      examples,
      count: 1,
      stage1,
      dispose: () => tf.dispose([pixelValues, inputIds, attentionMask]),
    };
  };

  const collate = async (examples: readonly Example[], at: { epoch: number; positions: readonly number[] }): Promise<ObjectiveBatch> => {
    const positions = examples.map((_, i) => at.positions[i] ?? i);
    const texts = examples.map((example, i) => pickCaption(example, context.seed, at.epoch, positions[i]!, textOptions));
    return batchOf(examples, texts, at.epoch, positions);
  };

  const loss = (batch: ObjectiveBatch): tf.Scalar => {
    if (!isStage1Batch(batch)) {
      throw new MmftError('E_INPUT', 'objective blip2-stage1: loss() was given a batch its collate() did not make');
    }
    // The parts are intermediates of the total: the caller's tidy (tf.variableGrads' forward) frees them.
    return stage1Losses(model, batch.stage1, settings).total;
  };

  /** One eval chunk: its loss (first caption of each example, negatives drawn at epoch 0) and its retrieval features. */
  const evalChunk = async (examples: readonly Example[], start: number, retrieval: RetrievalCollector | undefined): Promise<EvalPart> => {
    const positions = examples.map((_, i) => start + i);
    const batch = await batchOf(
      examples,
      examples.map((example) => processText(positiveTexts(example)[0]!, textOptions)),
      0,
      positions,
    );
    try {
      const mean = tf.tidy(() => stage1Losses(model, batch.stage1, settings).total);
      const lossSum = (await mean.data())[0]! * examples.length;
      mean.dispose();
      if (retrieval) {
        const all = examples.map((example) => positiveTexts(example).map((text) => processText(text, textOptions)));
        const tokens = tokensOf(tokenizer, all.flat(), config.max_length);
        const [imageFeats, textFeats] = tf.tidy(() => [
          model.encodeImage(batch.stage1.pixelValues).imageFeats,
          model.encodeText(tokens.inputIds, tokens.attentionMask),
        ]);
        retrieval.add(
          examples.map((e) => e.id),
          imageFeats!,
          textFeats!,
          all.map((texts) => texts.length),
        );
        tf.dispose([imageFeats!, textFeats!, tokens.inputIds, tokens.attentionMask]);
      }
      return { lossSum, count: examples.length, inputs: [] };
    } finally {
      batch.dispose();
    }
  };

  /**
   * With `range`, the chunks of the whole pass that start in [start, end): the loop runs as the
   * whole pass does from `start` (a chunk boundary), reading past `end` to see whether the split
   * goes on, so every chunk, the joined last one included, is cut as in the whole pass.
   */
  async function* evaluate(
    given: Dataset | undefined,
    options: { batchSize: number; kinds: readonly MetricInputKind[]; range?: { start: number; end: number } },
  ): AsyncIterable<EvalPart> {
    const data = given ?? context.eval;
    if (!data) throw new MmftError('E_RECIPE', 'objective blip2-stage1 has no evaluation data', { hint: 'add data.eval to the recipe' });
    const range = options.range;
    // Each chunk needs a negative: a last chunk of one example joins the chunk before it.
    const size = Math.max(2, options.batchSize);
    if (range) {
      if (options.kinds.includes('retrieval')) {
        throw new MmftError(
          'E_UNSUPPORTED',
          `objective blip2-stage1 scores retrieval on one similarity matrix of the whole eval split, so it cannot evaluate it on examples ${range.start}–${range.end - 1} alone`,
          { hint: 'evaluate the whole split in one pass (no --queue)' },
        );
      }
      if (range.start % size !== 0) {
        throw new MmftError(
          'E_INPUT',
          `objective blip2-stage1 cuts data.eval in chunks of ${size}; a range must start at a multiple of it, not at ${range.start}`,
          {
            hint: `use a shard size that is a multiple of ${size}`,
          },
        );
      }
    }
    const end = range?.end ?? Infinity;
    const retrieval = options.kinds.includes('retrieval') ? new RetrievalCollector() : undefined;
    let chunk: Example[] = [];
    let position = range?.start ?? 0;
    for await (const example of data.iterate({ shuffle: false, ...(range ? { startAt: range.start } : {}) })) {
      chunk.push(example);
      if (chunk.length === size + 2) {
        yield await evalChunk(chunk.slice(0, size), position, retrieval);
        position += size;
        chunk = chunk.slice(size);
        if (position >= end) return;
      }
    }
    if (chunk.length === 1 && position === 0) {
      throw new MmftError('E_DATA', `objective blip2-stage1: data.eval has one example (${chunk[0]!.id}); its losses need at least 2`, {
        hint: 'give data.eval two or more examples',
      });
    }
    // A lone last example starting a range belongs to the chunk before it (the shard before this one).
    if (range && chunk.length === 1 && position === range.start) return;
    if (chunk.length > 0 && position < end) yield await evalChunk(chunk, position, retrieval);
    if (retrieval && !retrieval.empty) yield { lossSum: 0, count: 0, inputs: [retrievalInputOf(retrieval)] };
  }

  return {
    emits: ['retrieval'],
    wholeSetKinds: ['retrieval'],
    trainsModel: true,
    minBatchSize: 2,
    collate,
    loss,
    // The temperature is the model's (a variable in model.root), so it trains and saves with the model.
    parameters: () => [],
    evaluate,
    canEvaluate: context.eval !== undefined,
    dispose: () => undefined,
  };
}
