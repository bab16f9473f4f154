// The config of a vision-to-LLM experiment (BLIP-2, LLaVA) with every default filled in. Recipe validation
// keeps the Blip2Config sub-configs as written (the BLIP-2 plugin fills them, and builds the
// language model through the registry, at run time), but the synthetic batches, the FLOP count and
// the torch peer need every field: vision_config and qformer_config are parsed as arch-blip2 parses
// config.json (parseBlip2Config), text_config by the first-party causal-LM plugin of its model_type.
import { parseBlip2Config } from '@mmft/arch-blip2';
import { clipVisionArchitecture } from '@mmft/arch-clip';
import { gpt2Provider } from '@mmft/arch-gpt2';
import { llamaProvider } from '@mmft/arch-llama';
import { parseLlavaConfig } from '@mmft/arch-llava';
import { optProvider } from '@mmft/arch-opt';
import { architectureContext, type ArchitectureProvider } from '@mmft/core';

const LANGUAGE_MODELS = [optProvider, llamaProvider, gpt2Provider];

/** `config` filled by the first-party plugin of its model_type among `providers`. */
function filledBy(
  providers: readonly ArchitectureProvider[],
  config: Record<string, unknown> & { model_type: string },
): Record<string, unknown> {
  const provider = architectureContext({ list: () => providers }).resolveModelType(config.model_type);
  const section = provider.configSchema.parse({ config }) as { config?: Record<string, unknown> };
  return { ...section.config, model_type: config.model_type };
}

/**
 * `config` (model.config of the experiment) as a full Blip2Config whose text_config has its
 * plugin's defaults.
 *
 * @example
 * filledBlip2Config({ text_config: { model_type: 'opt', hidden_size: 256 } }).text_config.ffn_dim; // OPTConfig's default
 */
export function filledBlip2Config(config: Record<string, unknown>, source = 'model.config'): Record<string, unknown> {
  const parsed = parseBlip2Config(config, source);
  return { ...parsed, text_config: filledBy(LANGUAGE_MODELS, parsed.text_config) };
}

/**
 * `config` (model.config of a llava experiment) as a full LlavaConfig: LlavaConfig's own defaults
 * (arch-llava parseLlavaConfig), vision_config by the CLIP vision plugin and text_config by the
 * causal-LM plugin of their model_type, as arch-llava builds the towers.
 *
 * @example
 * filledLlavaConfig({ text_config: { model_type: 'llama' } }).vision_feature_layer; // -2
 */
export function filledLlavaConfig(config: Record<string, unknown>, source = 'model.config'): Record<string, unknown> {
  const parsed = parseLlavaConfig(config, source);
  return {
    ...parsed,
    vision_config: filledBy([clipVisionArchitecture], parsed.vision_config),
    text_config: filledBy(LANGUAGE_MODELS, parsed.text_config),
  };
}
