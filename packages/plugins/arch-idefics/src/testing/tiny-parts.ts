// Tiny part folders for composing an IDEFICS in tests: a CLIP vision tower at 8 px in 4-pixel
// patches (with its own image mean and std, so that a test can tell them from the OpenAI defaults)
// and a 2-layer grouped-query Llama (4 query heads over 2 kv heads) of width 16 whose tokenizer is
// a given folder's. Both are built and saved through `context` (the registry), so this file imports
// no other plugin.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchitectureContext } from '@mmft/core';

/** The image mean and std the tiny tower's preprocessor_config.json says. */
export const TINY_PART_MEAN = [0.5, 0.4, 0.3] as const;
export const TINY_PART_STD = [0.2, 0.25, 0.3] as const;

/**
 * Writes `dir/clip` (clip_vision_model) and `dir/llama` (llama, vocab_size = `vocabSize`, the
 * tokenizer files of `tokenizerDir`) and returns their paths.
 *
 * @example
 * const parts = await writeTinyIdeficsParts(tmp, context, 'models/llama-shapes-base', 654);
 * await ideficsProvider.fromConfig({ config: {}, init: { vision: parts.vision, language_model: parts.languageModel } }, context);
 */
export async function writeTinyIdeficsParts(
  dir: string,
  context: ArchitectureContext,
  tokenizerDir: string,
  vocabSize: number,
): Promise<{ vision: string; languageModel: string }> {
  const vision = join(dir, 'clip');
  const languageModel = join(dir, 'llama');
  const tower = await context.resolveModelType('clip_vision_model').fromConfig(
    {
      config: {
        hidden_size: 8,
        image_size: 8,
        patch_size: 4,
        intermediate_size: 16,
        num_hidden_layers: 1,
        num_attention_heads: 2,
        hidden_act: 'quick_gelu',
        initializer_range: 0.5,
      },
      seed: 1,
    },
    context,
  );
  try {
    await tower.save!(vision);
  } finally {
    tower.dispose();
  }
  const preprocessor = {
    crop_size: { height: 8, width: 8 },
    do_center_crop: true,
    do_normalize: true,
    do_resize: true,
    image_mean: [...TINY_PART_MEAN],
    image_std: [...TINY_PART_STD],
    image_processor_type: 'CLIPImageProcessor',
    resample: 3,
    size: { shortest_edge: 8 },
  };
  writeFileSync(join(vision, 'preprocessor_config.json'), `${JSON.stringify(preprocessor, null, 2)}\n`);
  const lm = await context.resolveModelType('llama').fromConfig(
    {
      config: {
        vocab_size: vocabSize,
        hidden_size: 16,
        intermediate_size: 32,
        num_hidden_layers: 2,
        num_attention_heads: 4,
        num_key_value_heads: 2,
        rms_norm_eps: 1e-6,
        initializer_range: 0.5,
        max_position_embeddings: 128,
        bos_token_id: 1,
        eos_token_id: 2,
      },
      tokenizer: tokenizerDir,
      seed: 2,
    },
    context,
  );
  try {
    await lm.save!(languageModel);
  } finally {
    lm.dispose();
  }
  return { vision, languageModel };
}
