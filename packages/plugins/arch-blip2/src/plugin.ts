// The architecture provider "blip2": builds Blip2ForConditionalGeneration from a recipe's `model:`
// section, from a checkpoint folder or from Blip2Config fields + a tokenizer folder, and names the
// model_type it handles for the model_type → factory table (docs/conventions.md §8). The language
// model comes from text_config.model_type through the ArchitectureContext (the registry).
import * as path from 'node:path';
import { ensureBackend, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { Blip2ForConditionalGeneration } from './blip2-for-conditional-generation';
import { BLIP2_MODEL_TYPES } from './checkpoint/parse-config';
import { blip2SectionSchema, type Blip2SectionConfig } from './config';

/**
 * `model: { type: blip2 }` — HF Blip2ForConditionalGeneration (vision → Q-Former → causal LM).
 *
 * @example
 * const model = await blip2Provider.fromPretrained('models/blip2-shapes-base', {}, architectureContext(registry));
 */
export const blip2Provider: ArchitectureProvider<Blip2SectionConfig> = {
  kind: 'architecture',
  id: 'blip2',
  description:
    'BLIP-2 (transformers Blip2ForConditionalGeneration): EVA ViT, Q-Former bridge, language projection, any causal LM plugin as text_config; HF checkpoints in both input layouts',
  configSchema: blip2SectionSchema,
  family: 'vision-to-llm',
  modelTypes: BLIP2_MODEL_TYPES,
  async fromConfig(raw, context) {
    const section = parseConfig(blip2Provider, raw, 'model (blip2)');
    await ensureBackend();
    if (section.checkpoint)
      return Blip2ForConditionalGeneration.fromPretrained(
        path.resolve(section.checkpoint),
        { ignoreUnexpected: section.ignoreUnexpected },
        context,
      );
    return Blip2ForConditionalGeneration.fromConfig(section.config ?? {}, context, {
      seed: section.seed,
      tokenizer: section.tokenizer ? path.resolve(section.tokenizer) : undefined,
    });
  },
  async fromPretrained(dir, options, context) {
    await ensureBackend();
    return Blip2ForConditionalGeneration.fromPretrained(dir, options, context);
  },
};
