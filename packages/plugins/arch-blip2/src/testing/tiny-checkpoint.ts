// Writes a randomly initialised, tiny BLIP-2 checkpoint in the HF folder layout (config.json,
// generation_config.json, model.safetensors with the language model under `language_model.`,
// preprocessor_config.json, tokenizer files) in either input layout, for tests of this and other
// packages. The language model comes from text_config through the caller's ArchitectureContext
// (this package imports no language-model plugin): core's tiny-lm in unit tests, OPT in e2e tests.
import { join } from 'node:path';
import type { ArchitectureContext } from '@mmft/core';
import { readSafetensors, writeSafetensors, type WritableTensor } from '@mmft/core/io';
import { Blip2ForConditionalGeneration } from '../blip2-for-conditional-generation';
import type { Blip2Config, Blip2ConfigInput } from '../config';

/** The tiny shape: a 2-layer ViT on 8×8 images (4 patches), a 3-layer Q-Former (cross-attention in layers 0 and 2), 4 queries. */
export const TINY_BLIP2_CONFIG: Blip2ConfigInput = {
  vision_config: {
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    image_size: 8,
    patch_size: 4,
    initializer_range: 0.2,
    layer_norm_eps: 1e-6,
  },
  qformer_config: {
    hidden_size: 12,
    intermediate_size: 24,
    num_hidden_layers: 3,
    num_attention_heads: 3,
    cross_attention_frequency: 2,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  },
  num_query_tokens: 4,
  initializer_range: 0.2,
};

/** Options of `createTinyBlip2Checkpoint`. */
export interface TinyBlip2Options {
  /** Builds the language model from text_config (a registry holding its plugin). */
  context: ArchitectureContext;
  /** text_config (default { model_type: 'tiny-lm', hidden_size: 8 }). */
  textConfig?: Record<string, unknown>;
  /** 'current' writes image_token_index (default), 'legacy' leaves it null. */
  layout?: 'current' | 'legacy';
  /** image_token_index of the current layout (default 3). */
  imageTokenIndex?: number;
  /** Seed of the weights (default 0). */
  seed?: number;
  /** Overrides of TINY_BLIP2_CONFIG. */
  config?: Blip2ConfigInput;
  /** Folder of tokenizer files for the language model and the checkpoint. */
  tokenizer?: string;
  /** Store the vision attention bias as 4.26-era `q_bias` / `v_bias` instead of the fused `qkv.bias`. */
  legacyQkvBias?: boolean;
}

/** Where the checkpoint went and its config. */
export interface TinyBlip2Checkpoint {
  dir: string;
  config: Blip2Config;
}

/**
 * Saves a tiny random BLIP-2 to `dir`.
 *
 * @example
 * const context = architectureContext({ list: () => [tinyCausalLmProvider] });
 * const { dir } = await createTinyBlip2Checkpoint(path.join(tmp, 'blip2'), { context, layout: 'legacy' });
 */
export async function createTinyBlip2Checkpoint(dir: string, options: TinyBlip2Options): Promise<TinyBlip2Checkpoint> {
  const layout = options.layout ?? 'current';
  const config: Blip2ConfigInput = {
    ...TINY_BLIP2_CONFIG,
    text_config: (options.textConfig ?? { model_type: 'tiny-lm', hidden_size: 8 }) as Blip2ConfigInput['text_config'],
    image_token_index: layout === 'current' ? (options.imageTokenIndex ?? 3) : null,
    ...options.config,
  };
  const model = await Blip2ForConditionalGeneration.fromConfig(config, options.context, {
    seed: options.seed ?? 0,
    tokenizer: options.tokenizer,
  });
  try {
    await model.save(dir);
    if (options.legacyQkvBias) await splitQkvBias(dir);
    return { dir, config: model.config };
  } finally {
    model.dispose();
  }
}

/** Rewrites model.safetensors with `self_attn.q_bias` / `v_bias` in place of `self_attn.qkv.bias`. */
async function splitQkvBias(dir: string): Promise<void> {
  const file = join(dir, 'model.safetensors');
  const { tensors } = await readSafetensors(file);
  const out = new Map<string, WritableTensor>();
  for (const [name, t] of tensors) {
    const match = /^(.*\.self_attn)\.qkv\.bias$/.exec(name);
    if (!match) {
      out.set(name, { dtype: 'F32', shape: [...t.shape], data: t.data as Float32Array });
      continue;
    }
    const d = t.shape[0]! / 3;
    const data = t.data as Float32Array;
    out.set(`${match[1]}.q_bias`, { dtype: 'F32', shape: [d], data: data.slice(0, d) });
    out.set(`${match[1]}.v_bias`, { dtype: 'F32', shape: [d], data: data.slice(2 * d) });
  }
  await writeSafetensors(file, out, { format: 'pt' });
}
