// The causal-LM objective (contract: packages/core/src/contracts/objective.ts): examples → prompt
// and target tokens through the model's tokenizer (chat template or plain text, pieces.ts), labels
// -100 on prompts and padding (encode.ts), a loss summed over label tokens that the loop divides by
// the step's label-token total (transformers' num_items_in_batch, trainer.py), and evaluation by
// teacher-forced loss plus generate() feeding caption (text) and VQA metric inputs.
import * as tf from '@tensorflow/tfjs-core';
import {
  isCausalLanguageModel,
  MmftError,
  type CausalLanguageModel,
  type Dataset,
  type EvalPart,
  type Example,
  type GenerationOptions,
  type MetricInput,
  type Objective,
  type ObjectiveBatch,
  type ObjectiveContext,
  type TextTokenizer,
} from '@mmft/core';
import { deriveSeed } from '@mmft/core/nn';
import type { CausalLmConfig } from './config';
import { encodePieces, IGNORE_INDEX, labelCount, labelsOf, specialPrefixIds, type EncodedExample } from './encode';
import { chatPieces, conversationOf, exampleWhere, plainPieces, promptMessages, type ChatRenderer } from './pieces';

const hasChatTemplate = (t: TextTokenizer): t is TextTokenizer & ChatRenderer & { chatTemplate?: string } =>
  typeof (t as Partial<ChatRenderer>).applyChatTemplate === 'function' &&
  typeof (t as { chatTemplate?: unknown }).chatTemplate === 'string';

/** config.generation → GenerationOptions (unset fields stay unset: generation_config.json fills them). */
function generationOptions(config: CausalLmConfig): GenerationOptions {
  const g = config.generation;
  const all: GenerationOptions = {
    maxNewTokens: g.max_new_tokens,
    numBeams: g.num_beams,
    lengthPenalty: g.length_penalty,
    noRepeatNgramSize: g.no_repeat_ngram_size,
    repetitionPenalty: g.repetition_penalty,
    minNewTokens: g.min_new_tokens,
  };
  return Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as GenerationOptions;
}

/** Rows of ids padded to the longest on `side`, as int32 tensors with the attention mask (and labels). */
function padRows(
  rows: ReadonlyArray<{ ids: readonly number[]; labels?: readonly number[] }>,
  padId: number,
  side: 'left' | 'right',
): { inputIds: tf.Tensor; attentionMask: tf.Tensor; labels?: tf.Tensor } {
  const width = Math.max(1, ...rows.map((r) => r.ids.length));
  const pad = <T>(row: readonly T[], fill: T): T[] => {
    const extra = new Array<T>(width - row.length).fill(fill);
    return side === 'left' ? [...extra, ...row] : [...row, ...extra];
  };
  const shape: [number, number] = [rows.length, width];
  return {
    inputIds: tf.tensor2d(
      rows.flatMap((r) => pad(r.ids, padId)),
      shape,
      'int32',
    ),
    attentionMask: tf.tensor2d(
      rows.flatMap((r) =>
        pad(
          r.ids.map(() => 1),
          0,
        ),
      ),
      shape,
      'int32',
    ),
    labels: rows.every((r) => r.labels)
      ? tf.tensor2d(
          rows.flatMap((r) => pad(r.labels!, IGNORE_INDEX)),
          shape,
          'int32',
        )
      : undefined,
  };
}

/** The objective of a run; `model` must be a causal LM with a tokenizer. */
export async function createCausalLm(config: CausalLmConfig, context: ObjectiveContext): Promise<Objective> {
  const model = context.model;
  if (!isCausalLanguageModel(model)) {
    throw new MmftError(
      'E_CONFIG',
      `objective causal-lm needs a causal language model; model is "${model.modelType}" (${model.family}), which does not predict tokens`,
      { hint: 'use a language model (model.type: opt, gpt2, llama) or a vision-to-LLM model, or objective: contrastive for dual encoders' },
    );
  }
  const lm: CausalLanguageModel = model;
  const tokenizer = lm.processor.tokenizer;
  if (!tokenizer)
    throw new MmftError('E_CHECKPOINT', `model "${lm.modelType}" has no tokenizer (tokenizer.json), so texts cannot be encoded`);
  const chatAvailable = hasChatTemplate(tokenizer);
  if (config.template === 'chat' && !chatAvailable) {
    throw new MmftError('E_CONFIG', 'objective.template is chat, but the tokenizer has no chat_template (tokenizer_config.json)', {
      hint: 'set objective.template: plain (or auto), or use a tokenizer with a chat_template',
    });
  }
  const chat = config.template === 'chat' || (config.template === 'auto' && chatAvailable);
  const ids = tokenizer.specialTokenIds ?? {};
  const eosId = ids.eos;
  // transformers' generate() and LLaMA-Factory fall back to eos as the pad token when there is none.
  const padId = ids.pad ?? ids.eos ?? 0;
  const prefix = specialPrefixIds(tokenizer);
  const decoding = generationOptions(config);

  /** An example's tokens; the caption among several is drawn by (seed, epoch, position). */
  const encode = (example: Example, epoch: number, position: number): EncodedExample => {
    const pick = (n: number) => (deriveSeed(context.seed, `causal-lm:${epoch}:${position}`) ?? 0) % n;
    const messages = conversationOf(example, config.prompts, pick);
    if (chat && example.task !== 'text') {
      // The template writes bos itself (transformers' apply_chat_template encodes without special tokens).
      return encodePieces(chatPieces(messages, tokenizer as unknown as ChatRenderer, exampleWhere(example)), tokenizer, eosId, []);
    }
    return encodePieces(plainPieces(messages, example, config.prompts), tokenizer, eosId, prefix);
  };

  const rowOf = (example: Example, epoch: number, position: number) => {
    const row = labelsOf(encode(example, epoch, position), config.max_length, config.train_on_prompt);
    if (labelCount(row.labels) === 0) {
      throw new MmftError(
        'E_DATA',
        `${exampleWhere(example)}: nothing is left to train on after truncation to objective.max_length ${config.max_length} (the prompt takes every position)`,
        { hint: 'raise objective.max_length, or shorten or drop this example (mmft data validate lists long examples)' },
      );
    }
    return row;
  };

  const collate = async (examples: readonly Example[], at: { epoch: number; positions: readonly number[] }): Promise<ObjectiveBatch> => {
    const rows = examples.map((e, i) => rowOf(e, at.epoch, at.positions[i] ?? i));
    const inputs = padRows(rows, padId, 'right');
    const count = rows.reduce((n, r) => n + labelCount(r.labels), 0);
    return {
      inputs,
      examples,
      count,
      dispose: () => tf.dispose([inputs.inputIds, inputs.attentionMask, inputs.labels!]),
    };
  };

  const loss = (batch: ObjectiveBatch): tf.Scalar => {
    // numItemsInBatch 1: the model returns the sum over label tokens; the loop divides by the step's count.
    const out = lm.forward({ ...batch.inputs, numItemsInBatch: 1 });
    tf.dispose(out.logits);
    if (!out.loss) throw new MmftError('E_UNSUPPORTED', `model "${lm.modelType}" returned no loss for labelled inputs`);
    return out.loss as tf.Scalar;
  };

  /** Metric inputs of one evaluated chunk: generations for caption, VQA and instruction examples. */
  const generateFor = async (examples: readonly Example[], kinds: ReadonlySet<string>): Promise<MetricInput[]> => {
    const wanted = examples
      .map((example, i) => ({ example, encoded: encode(example, 0, i) }))
      .filter(({ example }) =>
        example.task === 'vqa' ? kinds.has('vqa') : (example.task === 'caption' || example.task === 'instruction') && kinds.has('text'),
      );
    if (wanted.length === 0) return [];
    const prompts = wanted.map(({ encoded }) => ({ ids: encoded.ids.slice(0, Math.min(encoded.lastTargetStart, config.max_length)) }));
    // Decoder-only generation continues the right end of every row: prompts are left-padded.
    const { inputIds, attentionMask } = padRows(prompts, padId, 'left');
    try {
      const result = await lm.generate({ inputIds, attentionMask }, decoding);
      return wanted.map(({ example }, i): MetricInput => {
        const prediction = (result.texts[i] ?? '').trim();
        if (example.task === 'vqa') {
          return {
            kind: 'vqa',
            id: example.id,
            prediction,
            answers: example.answers ?? [example.answer],
            answerType: example.answerType,
            questionType: example.questionType,
          };
        }
        const references =
          example.task === 'caption'
            ? example.captions
            : [promptMessages(conversationOf(example, config.prompts, () => 0)).reference ?? ''];
        return { kind: 'text', id: example.id, prediction, references };
      });
    } finally {
      tf.dispose([inputIds, attentionMask]);
    }
  };

  /** `data` undefined: the run's eval split. */
  async function* evaluate(given: Dataset | undefined, options: { batchSize: number; kinds: readonly string[] }): AsyncIterable<EvalPart> {
    const data = given ?? context.eval;
    if (!data) return;
    const kinds = new Set(options.kinds);
    let chunk: Example[] = [];
    let position = 0;
    const run = async (examples: Example[], start: number): Promise<EvalPart> => {
      const batch = await collate(examples, { epoch: 0, positions: examples.map((_, i) => start + i) });
      try {
        const sum = tf.tidy(() => loss(batch));
        const lossSum = (await sum.data())[0]!;
        sum.dispose();
        return { lossSum, count: batch.count, inputs: await generateFor(examples, kinds) };
      } finally {
        batch.dispose();
      }
    };
    for await (const example of data.iterate({ shuffle: false })) {
      chunk.push(example);
      if (chunk.length === options.batchSize) {
        yield await run(chunk, position);
        position += chunk.length;
        chunk = [];
      }
    }
    if (chunk.length > 0) yield await run(chunk, position);
  }

  return {
    emits: ['text', 'vqa'],
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
