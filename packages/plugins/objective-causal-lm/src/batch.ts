// Batch plumbing of the causal-LM objective: rows of ids padded into tensors (right-padded with
// labels for training, left-padded prompts for decoder-only generation) and the decoding options
// that config.generation gives generate().
import * as tf from '@tensorflow/tfjs-core';
import type { GenerationOptions } from '@mmft/core';
import type { CausalLmConfig } from './config';
import { IGNORE_INDEX } from './encode';

/** config.generation → GenerationOptions (unset fields stay unset: generation_config.json fills them). */
export function generationOptions(config: CausalLmConfig): GenerationOptions {
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
export function padRows(
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
