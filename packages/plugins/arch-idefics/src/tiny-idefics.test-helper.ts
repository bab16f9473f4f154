// A tiny IDEFICS for tests: a 4-pixel CLIP tower in 2-pixel patches (5 positions) resampled to 3
// latents, a 2-layer Llama of width 8 with a gated block before each layer, built through the real
// arch-clip and arch-llama plugins (devDependencies) as the CLI's registry would.
import { architectureContext, type ArchitectureContext } from '@mmft/core';
import { clipVisionArchitecture } from '@mmft/arch-clip';
import { llamaProvider } from '@mmft/arch-llama';
import type { IdeficsConfigInput } from './config';
import { IdeficsForVisionText2Text } from './idefics-for-vision-text2text';
import { ideficsProvider } from './plugin';

export const TINY_IMAGE_TOKEN = 5;
export const TINY_EOS = 2;

/** The registry the tiny IDEFICS resolves its parts through. */
export function tinyIdeficsContext(): ArchitectureContext {
  return architectureContext({ list: () => [clipVisionArchitecture, llamaProvider, ideficsProvider] });
}

export function tinyIdeficsConfig(overrides: Partial<IdeficsConfigInput> = {}): IdeficsConfigInput {
  return {
    vocab_size: 20,
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    cross_layer_interval: 1,
    rms_norm_eps: 1e-5,
    initializer_range: 0.5,
    eos_token_id: TINY_EOS,
    image_token_id: TINY_IMAGE_TOKEN,
    use_resampler: true,
    vision_config: { embed_dim: 4, image_size: 4, patch_size: 2, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8 },
    perceiver_config: { use_resampler: true, resampler_n_latents: 3, resampler_depth: 1, resampler_n_heads: 2, resampler_head_dim: 2 },
    ...overrides,
  };
}

export async function tinyIdefics(overrides: Partial<IdeficsConfigInput> = {}, seed = 3): Promise<IdeficsForVisionText2Text> {
  return IdeficsForVisionText2Text.fromConfig(tinyIdeficsConfig(overrides), tinyIdeficsContext(), { seed });
}
