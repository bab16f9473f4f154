// Synthetic batches of a vision-to-LLM model (BLIP-2 stage 2 and captioning, LLaVA) with a closed form, so
// the PyTorch peer (python/torch_peer.py, vlm_batch / vlm_prompt) builds the same inputs:
//   pixels of pool batch k: synthetic.ts syntheticPixels (sin pattern, sample s = k·B + b);
//   text of row b: the causal-LM training row of lm-synthetic.ts (lmHostBatch: T positions, right
//     padding, labels −100 on the 4–15-token prompt and on padding);
//   current layout (model config image_token_index set): Q image tokens in front of the text, as
//     Blip2Processor writes them, labels −100 on them (Q + T positions per row);
//   legacy layout (image_token_index null): the text alone; the model prepends the queries.
// The caption prompt of the generate kind is what Blip2ForConditionalGeneration.generate builds
// without input ids: [image × Q, bos] (current) or [bos] (legacy) per row; LLaVA's generate without
// input ids builds [bos, image × Q] (arch-llava llava-for-conditional-generation.ts).
// LLaVA: Q is the number of image features (numImageTokens of arch-llava processor.ts) and `<image>`
// is the last id of the vocabulary, so the synthetic text draws from ids 3…V − 2 (spec.vocabSize V − 1).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { IGNORE_INDEX } from '@mmft/core/lm';
import { numImageTokens } from '@mmft/arch-llava';
import { filledBlip2Config, filledLlavaConfig } from '../suite/vlm-config';
import { lmHostBatch } from './lm-synthetic';
import { syntheticPixels } from './synthetic';

/** Shapes and special ids of the synthetic vision-to-LLM batches. */
export interface VlmSyntheticSpec {
  readonly batch: number;
  /** Side of the square image. */
  readonly imageSize: number;
  /** Text positions per row (the caption with its prompt and padding). */
  readonly textLength: number;
  /** Image positions the language model reads (num_query_tokens). */
  readonly queryTokens: number;
  /** Id of `<image>` in the current layout; null in the legacy layout (queries prepended). */
  readonly imageTokenId: number | null;
  /** The synthetic text draws its ids from 3 … vocabSize − 1. */
  readonly vocabSize: number;
  readonly padId: number;
  readonly bosId: number;
  /** The caption prompt puts bos before the image span (LLaVA) instead of after it (BLIP-2). */
  readonly bosFirst?: boolean;
}

/** One training batch as host arrays: pixels [B, 3, S, S], ids / mask / labels [B, N]. */
export interface VlmHostBatch {
  readonly pixels: Float32Array;
  readonly ids: Int32Array;
  readonly mask: Int32Array;
  readonly labels: Int32Array;
  /** Positions per row: Q + T (current layout) or T (legacy). */
  readonly length: number;
  /** Label tokens the loss scores (non-ignored labels at positions ≥ 1). */
  readonly count: number;
}

/** One training batch as kept tensors. */
export interface VlmBatch {
  readonly pixelValues: tf.Tensor4D;
  readonly inputIds: tf.Tensor2D;
  readonly attentionMask: tf.Tensor2D;
  readonly labels: tf.Tensor2D;
  readonly count: number;
}

/** Image positions in the text of one row: Q in the current layout, none in the legacy one. */
const spanOf = (spec: VlmSyntheticSpec) => (spec.imageTokenId === null ? 0 : spec.queryTokens);

/** Host arrays of pool batch `k`. */
export function vlmHostBatch(spec: VlmSyntheticSpec, k: number): VlmHostBatch {
  const { batch: B, textLength: T } = spec;
  const span = spanOf(spec);
  const n = span + T;
  const text = lmHostBatch({ batch: B, length: T, vocabSize: spec.vocabSize, padId: spec.padId }, k);
  const ids = new Int32Array(B * n);
  const mask = new Int32Array(B * n);
  const labels = new Int32Array(B * n);
  let count = 0;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < n; t++) {
      const at = b * n + t;
      const image = t < span;
      ids[at] = image ? spec.imageTokenId! : text.ids[b * T + t - span]!;
      mask[at] = image ? 1 : text.mask[b * T + t - span]!;
      labels[at] = image ? IGNORE_INDEX : text.labels[b * T + t - span]!;
      if (t >= 1 && labels[at] !== IGNORE_INDEX) count++;
    }
  }
  return { pixels: syntheticPixels(spec, k), ids, mask, labels, length: n, count };
}

/** The training pool as kept tensors (dispose with disposeVlmPool). */
export function vlmPool(spec: VlmSyntheticSpec, batches: number): VlmBatch[] {
  return Array.from({ length: batches }, (_, k) => {
    const host = vlmHostBatch(spec, k);
    if (host.count === 0) {
      // Prompts take up to 15 tokens (lm-synthetic.ts), so a short text can be all prompt: the loss would be 0 / 0.
      throw new MmftError('E_CONFIG', `benchmark: synthetic batch ${k} has no label tokens at bench.text_length ${spec.textLength}`, {
        hint: 'use bench.text_length 16 or more',
      });
    }
    const shape: [number, number] = [spec.batch, host.length];
    return {
      pixelValues: tf.keep(tf.tensor4d(host.pixels, [spec.batch, 3, spec.imageSize, spec.imageSize])),
      inputIds: tf.keep(tf.tensor2d(host.ids, shape, 'int32')),
      attentionMask: tf.keep(tf.tensor2d(host.mask, shape, 'int32')),
      labels: tf.keep(tf.tensor2d(host.labels, shape, 'int32')),
      count: host.count,
    };
  });
}

/** Frees the pool's tensors. */
export function disposeVlmPool(pool: readonly VlmBatch[]): void {
  for (const batch of pool) tf.dispose([batch.pixelValues, batch.inputIds, batch.attentionMask, batch.labels]);
}

/** The caption prompt of every row: [image × Q, bos] (current layout), [bos] (legacy) or [bos, image × Q] (bosFirst). */
export function vlmPromptRow(spec: VlmSyntheticSpec): number[] {
  const images = new Array<number>(spanOf(spec)).fill(spec.imageTokenId ?? 0);
  return spec.bosFirst ? [spec.bosId, ...images] : [...images, spec.bosId];
}

const numberOr = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);

/**
 * The spec of a validated vision-to-LLM config (BLIP-2: vision_config.image_size, num_query_tokens,
 * image_token_index, text_config vocab_size / pad / bos) at `batch` × `textLength`. An image token
 * that a synthetic text token or the padding could take is an E_CONFIG error.
 */
export function vlmSpecOf(raw: Record<string, unknown>, batch: number, textLength: number, source = 'benchmark'): VlmSyntheticSpec {
  const config = filledBlip2Config(raw, source);
  const vision = (config.vision_config ?? {}) as Record<string, unknown>;
  const text = (config.text_config ?? {}) as Record<string, unknown>;
  const vocabSize = text.vocab_size;
  if (typeof vocabSize !== 'number') {
    throw new MmftError('E_CONFIG', `${source}: the vision-to-LLM experiment has no model.config.text_config.vocab_size`, {
      hint: 'give the language model by config fields (text_config: { model_type: opt, vocab_size: ... })',
    });
  }
  const padId = numberOr(text.pad_token_id, 0);
  const token = config.image_token_index;
  const imageTokenId = typeof token === 'number' ? token : null;
  // Synthetic text takes every id from 3 to vocab_size − 1, so only 0–2 (minus padding) are free.
  if (imageTokenId !== null && (imageTokenId < 0 || imageTokenId >= 3 || imageTokenId === padId)) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model.config.image_token_index ${imageTokenId} collides with the synthetic text (ids 3…${vocabSize - 1}) or the padding id ${padId}`,
      { hint: 'use an id below 3 that is not text_config.pad_token_id (e.g. 0 with OPT, whose padding is 1)' },
    );
  }
  return {
    batch,
    imageSize: numberOr(vision.image_size, 224),
    textLength,
    queryTokens: numberOr(config.num_query_tokens, 32),
    imageTokenId,
    vocabSize,
    padId,
    bosId: numberOr(text.bos_token_id, 2),
  };
}

/**
 * The spec of a llava experiment's config at `batch` × `textLength`: Q = the image features per
 * image (vision_config image / patch size, class token, vision_feature_select_strategy); `<image>`
 * must be text_config.vocab_size − 1 (the synthetic text then draws from 3 … vocab − 2).
 */
export function llavaSpecOf(raw: Record<string, unknown>, batch: number, textLength: number, source = 'benchmark'): VlmSyntheticSpec {
  const config = filledLlavaConfig(raw, source);
  const vision = config.vision_config as Record<string, unknown>;
  const text = config.text_config as Record<string, unknown>;
  const vocab = text.vocab_size as number;
  const token = config.image_token_index as number;
  if (token !== vocab - 1) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: model.config.image_token_index ${token} is not the last id of text_config.vocab_size ${vocab}; the synthetic text uses ids 3…${vocab - 2}`,
      { hint: `set image_token_index: ${vocab - 1} (llava-1.5 appends <image> after the Llama vocabulary the same way)` },
    );
  }
  const imageSize = vision.image_size as number;
  const strategy = config.vision_feature_select_strategy as 'default' | 'full';
  return {
    batch,
    imageSize,
    textLength,
    queryTokens: numImageTokens({ imageSize, patchSize: vision.patch_size as number, hasClassToken: true }, strategy),
    imageTokenId: token,
    vocabSize: vocab - 1,
    padId: numberOr(text.pad_token_id, 0),
    bosId: numberOr(text.bos_token_id, 1),
    bosFirst: true,
  };
}

/** The synthetic spec of a vision-to-LLM experiment by its model type (blip2 or llava). */
export function vlmSpecOfModel(
  type: string | undefined,
  raw: Record<string, unknown>,
  batch: number,
  textLength: number,
  source = 'benchmark',
): VlmSyntheticSpec {
  return type === 'llava' ? llavaSpecOf(raw, batch, textLength, source) : vlmSpecOf(raw, batch, textLength, source);
}
