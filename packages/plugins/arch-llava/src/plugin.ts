// The architecture provider "llava" (contract: packages/core/src/contracts/architecture.ts): builds
// LlavaForConditionalGeneration from a recipe's `model:` section, a checkpoint folder (either key
// layout) or LlavaConfig fields + a tokenizer folder. Its towers come from vision_config.model_type
// and text_config.model_type through the ArchitectureContext (the registry).
import * as path from 'node:path';
import { ensureBackend, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { composeLlava } from './compose';
import { llavaConfigSchema, type LlavaConfig } from './config';
import { LlavaForConditionalGeneration } from './llava-for-conditional-generation';

/** The section's `config:` as written (before the schema fills LlavaConfig's defaults). */
function rawConfig(raw: unknown): Record<string, unknown> | undefined {
  const config = (raw as { config?: unknown } | undefined)?.config;
  return typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : undefined;
}

/**
 * `model: { type: llava }` — HF LlavaForConditionalGeneration.
 *
 * @example
 * const model = await llavaProvider.fromPretrained('models/llava-shapes-base', {}, architectureContext(registry));
 */
export const llavaProvider: ArchitectureProvider<LlavaConfig> = {
  kind: 'architecture',
  id: 'llava',
  description:
    'LLaVA (Hugging Face LlavaForConditionalGeneration): vision tower and causal LM through the registry, multi-modal projector, <image> expansion; both checkpoint key layouts',
  configSchema: llavaConfigSchema,
  family: 'vision-to-llm',
  modelTypes: ['llava'],
  async fromConfig(raw, context) {
    const section = parseConfig(llavaProvider, raw, 'model (llava)');
    await ensureBackend();
    if (section.checkpoint)
      return LlavaForConditionalGeneration.fromPretrained(
        path.resolve(section.checkpoint),
        { ignoreUnexpected: section.ignoreUnexpected },
        context,
      );
    if (section.init) {
      // The parts' configs fill what the section leaves out, so pass the config as written
      // (LlavaConfig's defaults, e.g. text_config llama and image_token_index 32000, would hide them).
      const init = {
        vision: section.init.vision && path.resolve(section.init.vision),
        language_model: section.init.language_model && path.resolve(section.init.language_model),
      };
      const { model } = await composeLlava(rawConfig(raw), init, context, {
        seed: section.seed,
        tokenizer: section.tokenizer ? path.resolve(section.tokenizer) : undefined,
      });
      return model;
    }
    return LlavaForConditionalGeneration.fromConfig(section.config ?? {}, context, {
      seed: section.seed,
      tokenizer: section.tokenizer ? path.resolve(section.tokenizer) : undefined,
    });
  },
  async fromPretrained(dir, options, context) {
    await ensureBackend();
    return LlavaForConditionalGeneration.fromPretrained(dir, options, context);
  },
};
