// The causal-LM objective (contract: packages/core/src/contracts/objective.ts): examples → prompt
// and target tokens through the model's tokenizer (chat template or plain text, pieces.ts), labels
// -100 on prompts and padding (encode.ts), a loss summed over label tokens that the loop divides by
// the step's label-token total (transformers' num_items_in_batch, trainer.py), and evaluation by
// teacher-forced loss plus generate() feeding caption (text), VQA and instruction metric inputs
// (generate-for.ts).
//
// Vision→LLM bridges (family 'vision-to-llm' with generate: BLIP-2, LLaVA, IDEFICS) train the same
// way with images added (images.ts), the processor's image span written into the ids with labels
// -100 (rows.ts). Few-shot episodes (demo-sources.ts, episodes.ts, encoder.ts) put solved caption or
// VQA examples before each such example (docs/language-models.md, "Few-shot and interleaved data").
// This file wires them: collate, loss and evaluate.
import * as tf from '@tensorflow/tfjs-core';
import {
  isCausalLanguageModel,
  MmftError,
  type Dataset,
  type EvalPart,
  type Example,
  type Objective,
  type ObjectiveBatch,
  type ObjectiveContext,
} from '@mmft/core';
import { generationOptions, padRows } from './batch';
import type { CausalLmConfig } from './config';
import { demoSources } from './demo-sources';
import { labelCount } from './encode';
import { createEncoder } from './encoder';
import { createGenerateFor, type TextGenerator } from './generate-for';
import { imageMode, isBridge, pixelsOf, preprocessOf } from './images';
import type { ImageMarks } from './pieces';
import { createRows } from './rows';

/** The objective of a run; `model` must be a causal LM or a vision→LLM bridge, with a tokenizer. */
export async function createCausalLm(config: CausalLmConfig, context: ObjectiveContext): Promise<Objective> {
  const model = context.model;
  if (!isCausalLanguageModel(model) && !isBridge(model)) {
    throw new MmftError(
      'E_CONFIG',
      `objective causal-lm needs a causal language model; model is "${model.modelType}" (${model.family}), which does not predict tokens`,
      { hint: 'use a language model (model.type: opt, gpt2, llama) or a vision-to-LLM model, or objective: contrastive for dual encoders' },
    );
  }
  const lm = model as unknown as TextGenerator;
  const mode = imageMode(model);
  const tokens = mode.kind === 'tokens' ? mode.tokens : undefined;
  const marks: ImageMarks = tokens?.placement === 'placeholder' ? 'keep' : 'drop';
  const preprocess = mode.kind === 'none' ? undefined : preprocessOf(model);
  const tokenizer = lm.processor.tokenizer;
  if (!tokenizer)
    throw new MmftError('E_CHECKPOINT', `model "${lm.modelType}" has no tokenizer (tokenizer.json), so texts cannot be encoded`);
  const encoder = createEncoder({ config, tokenizer, tokens, seed: context.seed, modelType: lm.modelType });
  const ids = tokenizer.specialTokenIds ?? {};
  // transformers' generate() and LLaMA-Factory fall back to eos as the pad token when there is none.
  const padId = ids.pad ?? ids.eos ?? 0;
  const decoding = generationOptions(config);
  const fewShot = config.few_shot;
  const sources = fewShot && (fewShot.shots > 0 || fewShot.train_shots[1] > 0) ? await demoSources(fewShot, context) : undefined;
  const { shotsFor, rowOf } = createRows({ config, lm, mode, marks, encoder, fewShot, sources });
  const generateFor = createGenerateFor({ lm, config, padId, decoding });

  /** A batch, and per row its encoded tokens and which pixel rows are its images. */
  const collateRows = async (
    examples: readonly Example[],
    at: { epoch: number; positions: readonly number[] },
    phase: 'train' | 'eval',
  ) => {
    const positions = examples.map((_, i) => at.positions[i] ?? i);
    const shots = examples.map((e, i) => shotsFor(e, at.epoch, positions[i]!, phase));
    const pool = shots.some((k) => k > 0) ? await sources![phase].pool() : undefined;
    const rows = examples.map((e, i) => rowOf(e, at.epoch, positions[i]!, phase, shots[i]!, pool));
    const pixelValues = mode.kind === 'none' ? undefined : await pixelsOf(rows, examples, at.epoch, positions, preprocess, context);
    const text = padRows(rows, padId, 'right');
    const inputs = pixelValues ? { ...text, pixelValues } : text;
    const count = rows.reduce((n, r) => n + labelCount(r.labels), 0);
    let next = 0;
    const imageRows = rows.map((r) => r.images.map(() => next++));
    const batch: ObjectiveBatch = {
      inputs,
      examples,
      count,
      dispose: () => tf.dispose([inputs.inputIds, inputs.attentionMask, inputs.labels!, ...(pixelValues ? [pixelValues] : [])]),
    };
    return { batch, encoded: rows.map((r) => r.encoded), imageRows };
  };

  const collate = async (examples: readonly Example[], at: { epoch: number; positions: readonly number[] }): Promise<ObjectiveBatch> =>
    (await collateRows(examples, at, 'train')).batch;

  const loss = (batch: ObjectiveBatch): tf.Scalar => {
    // numItemsInBatch 1: the model returns the sum over label tokens; the loop divides by the step's count.
    const out = lm.forward({ ...batch.inputs, numItemsInBatch: 1 });
    if (out.logits) tf.dispose(out.logits);
    if (!out.loss) throw new MmftError('E_UNSUPPORTED', `model "${lm.modelType}" returned no loss for labelled inputs`);
    return out.loss as tf.Scalar;
  };

  /**
   * `data` undefined: the run's eval split. With `range`, examples [start, end) only, each at its
   * position in the whole pass, so its few-shot demos and batches are the whole pass's.
   */
  async function* evaluate(
    given: Dataset | undefined,
    options: { batchSize: number; kinds: readonly string[]; range?: { start: number; end: number } },
  ): AsyncIterable<EvalPart> {
    const data = given ?? context.eval;
    if (!data) return;
    const kinds = new Set(options.kinds);
    const range = options.range;
    let chunk: Example[] = [];
    let position = range?.start ?? 0;
    let left = range ? range.end - range.start : Infinity;
    if (left <= 0) return;
    const run = async (examples: Example[], start: number): Promise<EvalPart> => {
      const { batch, encoded, imageRows } = await collateRows(examples, { epoch: 0, positions: examples.map((_, i) => start + i) }, 'eval');
      try {
        const sum = tf.tidy(() => loss(batch));
        const lossSum = (await sum.data())[0]!;
        sum.dispose();
        return { lossSum, count: batch.count, inputs: await generateFor(examples, kinds, batch.inputs.pixelValues, encoded, imageRows) };
      } finally {
        batch.dispose();
      }
    };
    for await (const example of data.iterate({ shuffle: false, ...(range ? { startAt: range.start } : {}) })) {
      chunk.push(example);
      left--;
      if (chunk.length === options.batchSize || left === 0) {
        yield await run(chunk, position);
        position += chunk.length;
        chunk = [];
      }
      if (left === 0) break;
    }
    if (chunk.length > 0) yield await run(chunk, position);
  }

  return {
    emits: ['text', 'vqa', 'instruction'],
    evalLoss: 'token-cross-entropy',
    trainsModel: true,
    minBatchSize: 1,
    collate,
    loss,
    parameters: () => [],
    evaluate,
    canEvaluate: context.eval !== undefined,
    dispose: () => undefined,
  };
}
