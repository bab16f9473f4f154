// The architecture providers of this package: "blip2" builds Blip2ForConditionalGeneration from a
// recipe's `model:` section, from a checkpoint folder or from Blip2Config fields + a tokenizer
// folder, and names the model_type it handles for the model_type → factory table
// (docs/conventions.md §8); a folder whose config.json says architectures ["Blip2ForImageTextRetrieval"]
// loads as that class, as transformers' AutoModel picks the class from `architectures`.
// "blip2-retrieval" builds Blip2ForImageTextRetrieval (the stage-1 Q-Former with its heads). The
// language model comes from text_config.model_type through the ArchitectureContext (the registry).
import * as path from 'node:path';
import { ensureBackend, parseConfig, type ArchitectureContext, type ArchitectureProvider, type LoadOptions } from '@mmft/core';
import { readOptionalFile } from '@mmft/core/hf';
import { Blip2ForConditionalGeneration } from './blip2-for-conditional-generation';
import { applyBlip2Init, resolveBlip2Config, type Blip2Init } from './checkpoint/init-from-parts';
import { BLIP2_MODEL_TYPES } from './checkpoint/parse-config';
import { blip2RetrievalSectionSchema, blip2SectionSchema, type Blip2RetrievalSectionConfig, type Blip2SectionConfig } from './config';
import { Blip2ForImageTextRetrieval } from './retrieval/blip2-for-image-text-retrieval';
import { BLIP2_RETRIEVAL_ARCHITECTURE } from './retrieval/parse-retrieval-config';

/** config.json `architectures[0]` of a folder, when it is readable and names one. */
async function architectureOf(dir: string): Promise<string | undefined> {
  const bytes = await readOptionalFile(path.join(dir, 'config.json'));
  if (!bytes) return undefined;
  try {
    const config = JSON.parse(new TextDecoder().decode(bytes)) as { architectures?: unknown };
    return Array.isArray(config.architectures) && typeof config.architectures[0] === 'string' ? config.architectures[0] : undefined;
  } catch {
    return undefined; // the class's own loader reports the unreadable file with its location
  }
}

/** The section's `config:` as written (before the schema fills Blip2Config's defaults). */
function rawConfig(raw: unknown): Record<string, unknown> | undefined {
  const config = (raw as { config?: unknown } | undefined)?.config;
  return typeof config === 'object' && config !== null ? (config as Record<string, unknown>) : undefined;
}

/** `init:` with its folders absolute (recipes have resolved them already; direct callers may not). */
function resolvedInit<I extends Blip2Init>(init: I): I {
  const absolute = (dir: string | undefined) => (dir === undefined ? undefined : path.resolve(dir));
  return { ...init, vision: absolute(init.vision), qformer: absolute(init.qformer), language_model: absolute(init.language_model) };
}

/** Loads a BLIP-2 folder as the class its config.json names (conditional generation when none). */
async function loadBlip2Folder(dir: string, options: LoadOptions | undefined, context: ArchitectureContext | undefined) {
  await ensureBackend();
  if ((await architectureOf(dir)) === BLIP2_RETRIEVAL_ARCHITECTURE) return Blip2ForImageTextRetrieval.fromPretrained(dir, options);
  return Blip2ForConditionalGeneration.fromPretrained(dir, options, context);
}

/**
 * `model: { type: blip2 }` — HF Blip2ForConditionalGeneration (vision → Q-Former → causal LM);
 * checkpoint folders of Blip2ForImageTextRetrieval load as that class.
 *
 * @example
 * const model = await blip2Provider.fromPretrained('models/blip2-shapes-base', {}, architectureContext(registry));
 */
export const blip2Provider: ArchitectureProvider<Blip2SectionConfig> = {
  kind: 'architecture',
  id: 'blip2',
  description:
    'BLIP-2 (transformers Blip2ForConditionalGeneration): EVA ViT, Q-Former bridge, language projection, any causal LM plugin as text_config; HF checkpoints in both input layouts (Blip2ForImageTextRetrieval folders load as that class)',
  configSchema: blip2SectionSchema,
  family: 'vision-to-llm',
  modelTypes: BLIP2_MODEL_TYPES,
  async fromConfig(raw, context) {
    const section = parseConfig(blip2Provider, raw, 'model (blip2)');
    await ensureBackend();
    if (section.checkpoint)
      return loadBlip2Folder(path.resolve(section.checkpoint), { ignoreUnexpected: section.ignoreUnexpected }, context);
    if (!section.init)
      return Blip2ForConditionalGeneration.fromConfig(section.config ?? {}, context, {
        seed: section.seed,
        tokenizer: section.tokenizer ? path.resolve(section.tokenizer) : undefined,
      });
    // the parts' sub-configs fill what the section leaves out, so the schema's defaults
    // (num_query_tokens 32, text_config opt) must not be filled in first: pass the raw config
    const init = resolvedInit(section.init);
    const plan = await resolveBlip2Config(rawConfig(raw), init, { tokenizer: section.tokenizer && path.resolve(section.tokenizer) });
    const model = await Blip2ForConditionalGeneration.fromConfig(plan.config, context, {
      seed: section.seed,
      tokenizer: plan.tokenizer && path.resolve(plan.tokenizer),
      imageProcessing: plan.imageProcessing,
    });
    try {
      await applyBlip2Init(model, init, context);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  },
  async fromPretrained(dir, options, context) {
    return loadBlip2Folder(dir, options, context);
  },
};

/**
 * `model: { type: blip2-retrieval }` — HF Blip2ForImageTextRetrieval (ITC projections, ITM head)
 * plus the stage-1 temperature and text decoder head; the model a stage-1 objective trains.
 * Its model_type is "blip-2" too; the table resolves that to `blip2`, which loads retrieval
 * folders as this class.
 *
 * @example
 * const model = await blip2RetrievalProvider.fromConfig({ config: { qformer_config: { bos_token_id: 30522 } }, tokenizer: 'bert' });
 */
export const blip2RetrievalProvider: ArchitectureProvider<Blip2RetrievalSectionConfig> = {
  kind: 'architecture',
  id: 'blip2-retrieval',
  description:
    'BLIP-2 stage-1 Q-Former (transformers Blip2ForImageTextRetrieval): EVA ViT, Q-Former with text embeddings, ITC projections, ITM head, plus LAVIS temperature and text decoder head',
  configSchema: blip2RetrievalSectionSchema,
  family: 'query-transformer',
  modelTypes: BLIP2_MODEL_TYPES,
  async fromConfig(raw) {
    const section = parseConfig(blip2RetrievalProvider, raw, 'model (blip2-retrieval)');
    await ensureBackend();
    if (section.checkpoint)
      return Blip2ForImageTextRetrieval.fromPretrained(path.resolve(section.checkpoint), { ignoreUnexpected: section.ignoreUnexpected });
    if (!section.init)
      return Blip2ForImageTextRetrieval.fromConfig(section.config ?? {}, {
        seed: section.seed,
        tokenizer: section.tokenizer ? path.resolve(section.tokenizer) : undefined,
      });
    const init = resolvedInit(section.init);
    const plan = await resolveBlip2Config(rawConfig(raw), init, { tokenizer: section.tokenizer && path.resolve(section.tokenizer) });
    const model = await Blip2ForImageTextRetrieval.fromConfig(plan.config, {
      seed: section.seed,
      tokenizer: plan.tokenizer && path.resolve(plan.tokenizer),
      imageProcessing: plan.imageProcessing,
    });
    try {
      await applyBlip2Init(model, init);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  },
  async fromPretrained(dir, options) {
    await ensureBackend();
    return Blip2ForImageTextRetrieval.fromPretrained(dir, options);
  },
};
