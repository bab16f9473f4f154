// Writes a randomly initialised, tiny CLIP checkpoint in the HF folder layout (config.json,
// model.safetensors, tokenizer files, preprocessor_config.json) for tests of this and other
// packages: small enough to build and run in milliseconds, shaped like a real one.
import type { ClipConfig, ClipTextConfig, ClipVisionConfig, ClipVisionModelConfig } from '../config';
import { ClipModel } from '../clip-model';
import { ClipVisionModel } from '../clip-vision-model';
import { wordLevelTokenizerFileMap, type WordLevelIds } from '@mmft/core/hf';

/** Options of `createTinyClipCheckpoint`. */
export interface TinyClipOptions {
  /** Seed of the weights (default 0): the same seed writes the same bytes. */
  seed?: number;
  /** Tokenizer vocabulary (phrases are split into words, Chinese into characters). */
  words?: readonly string[];
  /** Overrides of the tiny text_config (hidden 8, 2 heads, 1 layer, 16 positions). */
  text?: Partial<ClipTextConfig>;
  /** Overrides of the tiny vision_config (hidden 8, 2 heads, 1 layer, 8×8 images, patch 4). */
  vision?: Partial<ClipVisionConfig>;
  /** Joint embedding width (default 4). */
  projectionDim?: number;
}

/** Where the checkpoint went and what it holds. */
export interface TinyClipCheckpoint {
  dir: string;
  config: ClipConfig;
  /** Special-token ids of its tokenizer. */
  ids: WordLevelIds;
}

/** A few words of the shapes domain, in English and Chinese. */
export const TINY_WORDS = ['a red green blue circle square triangle', '红色 绿色 蓝色 圆形 方形 三角形'];

/**
 * Saves a tiny random CLIP to `dir` and returns its config.
 *
 * @example
 * const { dir } = await createTinyClipCheckpoint(path.join(tmp, 'clip'), { seed: 1 });
 * const model = await ClipModel.fromPretrained(dir);
 */
export async function createTinyClipCheckpoint(dir: string, options: TinyClipOptions = {}): Promise<TinyClipCheckpoint> {
  const maxPositions = options.text?.max_position_embeddings ?? 16;
  const { files, ids } = wordLevelTokenizerFileMap(options.words ?? TINY_WORDS, { modelMaxLength: maxPositions });
  const small = {
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    projection_dim: options.projectionDim ?? 4,
  };
  const model = ClipModel.fromConfig(
    {
      projection_dim: options.projectionDim ?? 4,
      text_config: {
        ...small,
        vocab_size: ids.vocabSize,
        max_position_embeddings: maxPositions,
        bos_token_id: ids.bos,
        eos_token_id: ids.eos,
        pad_token_id: ids.pad,
        ...options.text,
      },
      vision_config: { ...small, image_size: 8, patch_size: 4, ...options.vision },
    },
    { seed: options.seed ?? 0, tokenizerFiles: files },
  );
  try {
    await model.save(dir);
    return { dir, config: model.config, ids };
  } finally {
    model.dispose();
  }
}

/** Where a tiny CLIPVisionModel went and its config. */
export interface TinyClipVisionCheckpoint {
  dir: string;
  config: ClipVisionModelConfig;
}

/**
 * Saves a tiny random CLIPVisionModel folder (hidden 8, 2 heads, 2 layers, 8×8 images, patch 4;
 * config.json model_type clip_vision_model) to `dir`: the vision tower bridges such as LLaVA use.
 *
 * @example
 * const { dir } = await createTinyClipVisionCheckpoint(path.join(tmp, 'vision'), { seed: 1 });
 */
export async function createTinyClipVisionCheckpoint(
  dir: string,
  options: { seed?: number; vision?: Partial<ClipVisionConfig> } = {},
): Promise<TinyClipVisionCheckpoint> {
  const model = ClipVisionModel.fromConfig(
    {
      hidden_size: 8,
      intermediate_size: 16,
      num_hidden_layers: 2,
      num_attention_heads: 2,
      image_size: 8,
      patch_size: 4,
      ...options.vision,
    },
    { seed: options.seed ?? 0 },
  );
  try {
    await model.save(dir);
    return { dir, config: model.config };
  } finally {
    model.dispose();
  }
}
