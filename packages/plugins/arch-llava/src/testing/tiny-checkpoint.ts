// A tiny LLaVA checkpoint for tests: the test vision encoder and causal LM of @mmft/core/testing
// (model_types tiny_vision and tiny-lm) joined by a projector, written in either key layout. Tests
// derive its outputs independently from the tensors in the folder.
import { join } from 'node:path';
import { architectureContext, type ArchitectureContext } from '@mmft/core';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';
import { tinyCausalLmProvider, tinyVisionEncoderProvider } from '@mmft/core/testing';
import type { LlavaConfigInput } from '../config';
import { toTransformersKey, type KeyLayout } from '../key-layout';
import { LlavaForConditionalGeneration } from '../llava-for-conditional-generation';
import { llavaProvider } from '../plugin';

/** The registry a tiny LLaVA resolves its towers through. */
export function tinyLlavaContext(): ArchitectureContext {
  return architectureContext({ list: () => [tinyVisionEncoderProvider, tinyCausalLmProvider, llavaProvider] });
}

/**
 * The LlavaConfig of the tiny model: a 4-pixel image in 2-pixel patches with a class token (5
 * positions, 4 image tokens with 'default'), width 4, two layers; a tiny-lm of width 6.
 */
export function tinyLlavaConfig(overrides: Partial<LlavaConfigInput> = {}): LlavaConfigInput {
  return {
    vision_config: { model_type: 'tiny_vision', hidden_size: 4, image_size: 4, patch_size: 2, num_hidden_layers: 2 },
    text_config: { model_type: 'tiny-lm', hidden_size: 6 },
    image_token_index: 7,
    vision_feature_layer: -2,
    ...overrides,
  };
}

/** A fresh tiny LLaVA. */
export async function tinyLlava(overrides: Partial<LlavaConfigInput> = {}, seed = 3): Promise<LlavaForConditionalGeneration> {
  return LlavaForConditionalGeneration.fromConfig(tinyLlavaConfig(overrides), tinyLlavaContext(), { seed });
}

/**
 * Writes a tiny LLaVA folder to `dir` in `layout` ('hub': what save() writes; 'transformers': the
 * module names of transformers ≥ 4.52, model.language_model.* and lm_head.*).
 *
 * @example
 * await writeTinyLlavaCheckpoint(dir, { layout: 'transformers' });
 * const model = await LlavaForConditionalGeneration.fromPretrained(dir, {}, tinyLlavaContext());
 */
export async function writeTinyLlavaCheckpoint(
  dir: string,
  options: { layout?: KeyLayout; config?: Partial<LlavaConfigInput>; seed?: number } = {},
): Promise<void> {
  const model = await tinyLlava(options.config, options.seed);
  try {
    await model.save(dir, { force: true });
  } finally {
    model.dispose();
  }
  if ((options.layout ?? 'hub') === 'transformers') {
    const file = join(dir, 'model.safetensors');
    const { tensors } = await readSafetensors(file);
    // tiny-lm's base model is `model` (model.embed_tokens), as Llama's.
    await writeSafetensors(file, new Map([...tensors].map(([k, v]) => [toTransformersKey(k, 'model'), v])), { format: 'pt' });
  }
}
