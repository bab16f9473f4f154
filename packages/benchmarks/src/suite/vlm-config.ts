// The config of a vision-to-LLM experiment (BLIP-2) with every default filled in. Recipe validation
// keeps the Blip2Config sub-configs as written (the BLIP-2 plugin fills them, and builds the
// language model through the registry, at run time), but the synthetic batches, the FLOP count and
// the torch peer need every field: vision_config and qformer_config are parsed as arch-blip2 parses
// config.json (parseBlip2Config), text_config by the first-party causal-LM plugin of its model_type.
import { parseBlip2Config } from '@mmft/arch-blip2';
import { gpt2Provider } from '@mmft/arch-gpt2';
import { llamaProvider } from '@mmft/arch-llama';
import { optProvider } from '@mmft/arch-opt';
import { architectureContext } from '@mmft/core';

const LANGUAGE_MODELS = [optProvider, llamaProvider, gpt2Provider];

/**
 * `config` (model.config of the experiment) as a full Blip2Config whose text_config has its
 * plugin's defaults.
 *
 * @example
 * filledBlip2Config({ text_config: { model_type: 'opt', hidden_size: 256 } }).text_config.ffn_dim; // OPTConfig's default
 */
export function filledBlip2Config(config: Record<string, unknown>, source = 'model.config'): Record<string, unknown> {
  const parsed = parseBlip2Config(config, source);
  const text = parsed.text_config;
  const provider = architectureContext({ list: () => LANGUAGE_MODELS }).resolveModelType(text.model_type);
  const section = provider.configSchema.parse({ config: text }) as { config?: Record<string, unknown> };
  return { ...parsed, text_config: { ...section.config, model_type: text.model_type } };
}
