// The tensor side of decoding: the prompt read and expanded per returned sequence or beam
// (`_expand_inputs_for_generation`, repeat_interleave on the batch axis), the attention mask inferred
// when absent (`_prepare_attention_mask_for_generation`) and grown by a column of ones each step
// (`_update_model_kwargs_for_generation`), positions from the mask, one DynamicCache per call, and the
// last position's logits read back in float32 (all in transformers' generation/utils.py).
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs } from '../contracts/model';
import { MmftError, assertThat } from '../errors';
import { DynamicCache } from '../nn/kv-cache';
import { positionIdsFromMask } from '../nn/masks';
import type { GenerationModel, GenerationSettings } from './types';

/** The prompt as the loop sees it, before expansion. */
export interface Prompt {
  readonly batch: number;
  /** Prompt ids per row (with their padding), or empty rows when only embeddings are given. */
  readonly ids: number[][];
  readonly mask: number[][];
  readonly length: number;
  readonly inputsEmbeds?: tf.Tensor;
  readonly pixelValues?: tf.Tensor;
}

const shape = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** Reads inputIds / inputsEmbeds / attentionMask and checks that they fit together. */
export async function readPrompt(inputs: ModelInputs, s: GenerationSettings): Promise<Prompt> {
  const { inputIds, inputsEmbeds, attentionMask } = inputs;
  if (!inputIds && !inputsEmbeds) {
    throw new MmftError('E_INPUT', 'generate: give inputIds [B, T] or inputsEmbeds [B, T, D] as the prompt', {
      hint: 'tokenize the prompt with the model processor; generation from nothing needs at least a BOS token',
    });
  }
  assertThat(!inputIds || inputIds.rank === 2, 'E_SHAPE', () => `generate: inputIds must be [B, T], got ${shape(inputIds!)}`);
  assertThat(
    !inputsEmbeds || inputsEmbeds.rank === 3,
    'E_SHAPE',
    () => `generate: inputsEmbeds must be [B, T, D], got ${shape(inputsEmbeds!)}`,
  );
  const lead = (inputsEmbeds ?? inputIds)!;
  const [batch, length] = [lead.shape[0]!, lead.shape[1]!];
  assertThat(
    !inputIds || !inputsEmbeds || (inputIds.shape[0] === batch && inputIds.shape[1] === length),
    'E_SHAPE',
    () => `generate: inputIds ${shape(inputIds!)} and inputsEmbeds ${shape(inputsEmbeds!)} must cover the same [B, T] positions`,
  );
  assertThat(
    !attentionMask || (attentionMask.rank === 2 && attentionMask.shape[0] === batch && attentionMask.shape[1] === length),
    'E_SHAPE',
    () => `generate: attentionMask must be [B, T] = [${batch}, ${length}] like the prompt, got ${shape(attentionMask!)}`,
  );
  const ids = inputIds ? ((await inputIds.array()) as number[][]) : Array.from({ length: batch }, () => []);
  let mask: number[][];
  if (attentionMask) mask = (await attentionMask.array()) as number[][];
  else {
    const pad = s.padTokenId;
    // Infer padding only when pad is in the prompt and is not an EOS id, as HF does; else all ones.
    const infer = inputIds && pad !== undefined && !s.eosTokenIds.includes(pad) && ids.some((row) => row.includes(pad));
    mask = Array.from({ length: batch }, (_, b) => Array.from({ length }, (_, t) => (infer && ids[b]![t] === pad ? 0 : 1)));
  }
  return { batch, ids, mask, length, inputsEmbeds, pixelValues: inputs.pixelValues };
}

/**
 * Runs the model over a batch of rows that share one DynamicCache: `prefill` once with the prompt,
 * then `step` with one new id per row. Each returns the last position's logits [rows × V] in float32.
 */
export class DecodingRunner {
  readonly cache = new DynamicCache();
  private mask: number[][];
  private past = 0;
  vocabSize = 0;

  /** `expand` copies each prompt row that many times in place (row b → rows b·expand … b·expand + expand − 1). */
  constructor(
    private readonly model: GenerationModel,
    private readonly prompt: Prompt,
    readonly expand: number,
  ) {
    this.mask = prompt.mask.flatMap((row) => Array.from({ length: expand }, () => [...row]));
  }

  get rows(): number {
    return this.mask.length;
  }

  prefill(): Promise<Float32Array> {
    const { prompt, expand } = this;
    const index = Array.from({ length: this.rows }, (_, r) => Math.floor(r / expand));
    return this.run(prompt.length, () => {
      const repeat = (t: tf.Tensor) => (expand === 1 ? t : tf.gather(t, tf.tensor1d(index, 'int32'), 0));
      if (prompt.inputsEmbeds)
        return { inputsEmbeds: repeat(prompt.inputsEmbeds), pixelValues: prompt.pixelValues && repeat(prompt.pixelValues) };
      const ids = index.flatMap((b) => prompt.ids[b]!);
      return {
        inputIds: tf.tensor2d(ids, [this.rows, prompt.length], 'int32'),
        pixelValues: prompt.pixelValues && repeat(prompt.pixelValues),
      };
    });
  }

  step(tokens: readonly number[]): Promise<Float32Array> {
    for (const row of this.mask) row.push(1);
    return this.run(1, () => ({ inputIds: tf.tensor2d([...tokens], [this.rows, 1], 'int32') }));
  }

  /** Beam search: keep rows `rows` in this order (cache and mask). */
  reorder(rows: readonly number[]): void {
    this.cache.reorder(rows);
    this.mask = rows.map((r) => [...this.mask[r]!]);
  }

  dispose(): void {
    this.cache.dispose();
  }

  private async run(queryLength: number, inputs: () => ModelInputs): Promise<Float32Array> {
    const total = this.past + queryLength;
    const logits = tf.tidy(() => {
      const attentionMask = tf.tensor2d(Int32Array.from(this.mask.flat()), [this.rows, total], 'int32');
      const positionIds = positionIdsFromMask(attentionMask, this.past, queryLength);
      // Only the last position is read: a model that honours logitsToKeep skips the head over the rest of the prompt.
      const out = this.model.forward({ ...inputs(), attentionMask, positionIds, pastKeyValues: this.cache, logitsToKeep: 1 }).logits;
      assertThat(
        out.rank === 3 && out.shape[0] === this.rows && out.shape[1]! >= 1,
        'E_SHAPE',
        () => `generate: the model's logits must be [${this.rows}, T, V] for ${this.rows} rows, got ${shape(out)}`,
      );
      const [, t, v] = out.shape as [number, number, number];
      return tf.cast(tf.reshape(tf.slice(out, [0, t - 1, 0], [this.rows, 1, v]), [this.rows, v]), 'float32');
    });
    try {
      this.vocabSize = logits.shape[1]!;
      this.past = total;
      return (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
  }
}
