// Writes a randomly initialised, tiny Blip2ForImageTextRetrieval checkpoint in the HF folder layout
// (config.json, model.safetensors, preprocessor_config.json, tokenizer files when given), with or
// without the stage-1 extras (`temp`, `qformer_lm_head.*`; without them it is what transformers'
// save_pretrained writes), for tests of this and other packages.
import { join } from 'node:path';
import { readSafetensors, writeSafetensors, type WritableTensor } from '@mmft/core/io';
import type { Blip2Config, Blip2ConfigInput } from '../config';
import { Blip2ForImageTextRetrieval } from '../retrieval/blip2-for-image-text-retrieval';
import { isStageOneExtra } from '../retrieval/retrieval-root';
import { TINY_BLIP2_CONFIG } from './tiny-checkpoint';

/**
 * The tiny retrieval shape: TINY_BLIP2_CONFIG's 2-layer ViT on 8×8 images and 3-layer Q-Former
 * (cross-attention in layers 0 and 2) with 4 queries, plus a 20-token text vocabulary (id 19 is the
 * decoder start, LAVIS' "[DEC]"), 8 text positions and a 6-wide ITC space.
 */
export const TINY_BLIP2_RETRIEVAL_CONFIG: Blip2ConfigInput = {
  ...TINY_BLIP2_CONFIG,
  qformer_config: {
    ...TINY_BLIP2_CONFIG.qformer_config,
    vocab_size: 20,
    max_position_embeddings: 8,
    use_qformer_text_input: true,
    bos_token_id: 19,
  } as NonNullable<Blip2ConfigInput['qformer_config']>,
  image_text_hidden_size: 6,
  image_token_index: null,
};

/** Options of `createTinyBlip2RetrievalCheckpoint`. */
export interface TinyBlip2RetrievalOptions {
  /** Seed of the weights (default 0). */
  seed?: number;
  /** Overrides of TINY_BLIP2_RETRIEVAL_CONFIG (shallow; give whole sub-configs). */
  config?: Blip2ConfigInput;
  /** Folder of tokenizer files saved with the checkpoint. */
  tokenizer?: string;
  /** Leave `temp` and `qformer_lm_head.*` out, as a Hugging Face retrieval checkpoint has them. */
  withoutStageOneExtras?: boolean;
}

/**
 * Saves a tiny random retrieval model to `dir`.
 *
 * @example
 * const { dir } = await createTinyBlip2RetrievalCheckpoint(path.join(tmp, 'itm'), { seed: 1 });
 * const model = await Blip2ForImageTextRetrieval.fromPretrained(dir);
 */
export async function createTinyBlip2RetrievalCheckpoint(
  dir: string,
  options: TinyBlip2RetrievalOptions = {},
): Promise<{ dir: string; config: Blip2Config }> {
  const model = await Blip2ForImageTextRetrieval.fromConfig(
    { ...TINY_BLIP2_RETRIEVAL_CONFIG, ...options.config },
    { seed: options.seed ?? 0, tokenizer: options.tokenizer },
  );
  try {
    await model.save(dir);
    if (options.withoutStageOneExtras) await dropStageOneExtras(dir);
    return { dir, config: model.config };
  } finally {
    model.dispose();
  }
}

/** Rewrites model.safetensors without the stage-1 extras. */
async function dropStageOneExtras(dir: string): Promise<void> {
  const file = join(dir, 'model.safetensors');
  const { tensors } = await readSafetensors(file);
  const out = new Map<string, WritableTensor>();
  for (const [name, t] of tensors)
    if (!isStageOneExtra(name)) out.set(name, { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array });
  await writeSafetensors(file, out, { format: 'pt' });
}
