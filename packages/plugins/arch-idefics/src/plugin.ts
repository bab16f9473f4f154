// The architecture provider "idefics" (contract: packages/core/src/contracts/architecture.ts): builds
// IdeficsForVisionText2Text from a recipe's `model:` section, a checkpoint folder or IdeficsConfig
// fields. Its vision tower (clip_vision_model) and language model (llama) come through the
// ArchitectureContext (the registry).
import * as path from 'node:path';
import { ensureBackend, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { composeIdefics } from './compose';
import { ideficsConfigSchema, type IdeficsConfig } from './config';
import { IdeficsForVisionText2Text } from './idefics-for-vision-text2text';

/**
 * `model: { type: idefics }` — HF IdeficsForVisionText2Text.
 *
 * @example
 * const model = await ideficsProvider.fromPretrained('models/idefics-tiny', {}, architectureContext(registry));
 */
export const ideficsProvider: ArchitectureProvider<IdeficsConfig> = {
  kind: 'architecture',
  id: 'idefics',
  description:
    'IDEFICS (Hugging Face IdeficsForVisionText2Text, Flamingo): Perceiver resampler and tanh-gated cross-attention before every n-th Llama layer, CLIP vision tower; HF key layout',
  configSchema: ideficsConfigSchema,
  family: 'vision-to-llm',
  modelTypes: ['idefics'],
  async fromConfig(raw, context) {
    const section = parseConfig(ideficsProvider, raw, 'model (idefics)');
    await ensureBackend();
    if (section.checkpoint)
      return IdeficsForVisionText2Text.fromPretrained(
        path.resolve(section.checkpoint),
        { ignoreUnexpected: section.ignoreUnexpected },
        context,
      );
    if (section.init) {
      // The parts' configs fill what the section leaves out, so pass the config as written
      // (IdeficsConfig's defaults, e.g. hidden_size 4096 and a ViT-H vision_config, would hide them).
      const config = (raw as { config?: unknown } | undefined)?.config;
      const init = {
        vision: section.init.vision && path.resolve(section.init.vision),
        language_model: section.init.language_model && path.resolve(section.init.language_model),
      };
      const { model } = await composeIdefics(
        typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : undefined,
        init,
        context,
        {
          seed: section.seed,
          tokenizer: section.tokenizer ? path.resolve(section.tokenizer) : undefined,
        },
      );
      return model;
    }
    return IdeficsForVisionText2Text.fromConfig(section.config ?? {}, context, {
      seed: section.seed,
      tokenizer: section.tokenizer ? path.resolve(section.tokenizer) : undefined,
    });
  },
  async fromPretrained(dir, options, context) {
    await ensureBackend();
    return IdeficsForVisionText2Text.fromPretrained(dir, options, context);
  },
};
