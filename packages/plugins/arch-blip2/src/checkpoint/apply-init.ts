// Writing the `init:` parts into a freshly built BLIP-2: a BLIP-2 or CLIP vision tower, a BLIP-2
// folder's Q-Former and query tokens, a causal LM loaded through its own plugin, each checked in
// full before any tensor is assigned. The target names are transformers' (vision_model.*, qformer.*,
// query_tokens, language_model.*: src/transformers/models/blip_2/modeling_blip_2.py).
import * as tf from '@tensorflow/tfjs-core';
import { isCausalLanguageModel, MmftError, type ArchitectureContext, type VisionLanguageModel } from '@mmft/core';
import type { Blip2ForConditionalGeneration } from '../blip2-for-conditional-generation';
import { fuseLegacyQkvBias } from './legacy-tensors';
import { clipToBlip2Vision } from './clip-to-blip2-vision';
import type { Blip2Init, Blip2InitReport } from './init-schema';
import { assignChecked, CLIP_TYPES, readPart, sameNames, type Tensor } from './part-folders';

/**
 * What `applyBlip2Init` writes into: a Blip2ForConditionalGeneration, or a model without a
 * language model (Blip2ForImageTextRetrieval), which then takes no `init.language_model`.
 */
export interface Blip2InitTarget {
  readonly root: { stateDict(): Map<string, tf.Variable> };
  readonly config: Pick<Blip2ForConditionalGeneration['config'], 'vision_config' | 'text_config'>;
  readonly languageModel?: { readonly root: { stateDict(): Map<string, tf.Variable> } };
}

/**
 * Replaces the fresh weights of `model` (built from `resolveBlip2Config(...).config`) by the parts
 * in `init`. The language model comes through `context` (its plugin's fromPretrained, so every
 * family's own naming and legacy keys apply) and is copied tensor by tensor. A missing or
 * mis-shaped tensor is an E_CHECKPOINT error naming it (and both shapes); nothing is written for
 * a part that fails.
 *
 * @example
 * const report = await applyBlip2Init(model, { vision: 'models/clip-shapes-base', language_model: 'models/opt-shapes-base' }, context);
 * report.vision?.preLayerNorm; // { mode: 'fold', scale: 0.29, scaleFrom: 'weights', classToken: 'exact' }
 */
export async function applyBlip2Init(model: Blip2InitTarget, init: Blip2Init, context?: ArchitectureContext): Promise<Blip2InitReport> {
  const variables = model.root.stateDict();
  const names = [...variables.keys()];
  const report: { -readonly [K in keyof Blip2InitReport]: Blip2InitReport[K] } = {};

  if (init.vision) {
    const part = await readPart(init.vision, 'vision', [...CLIP_TYPES, 'blip-2']);
    if (part.type === 'blip-2') {
      if (init.vision_pre_layernorm_scale !== undefined) {
        throw new MmftError(
          'E_CONFIG',
          `init.vision_pre_layernorm_scale is given but init.vision (${init.vision}) is a BLIP-2 folder, which has no pre_layrnorm to fold`,
          {
            hint: 'remove vision_pre_layernorm_scale: it applies to CLIP folders only',
          },
        );
      }
      fuseLegacyQkvBias(part.tensors);
      const targets = names.filter((n) => n.startsWith('vision_model.'));
      const writes = sameNames(part.tensors, targets, part.file, 'vision');
      const dropped = [...part.tensors.keys()].filter((n) => n.startsWith('vision_model.') && !writes.has(n));
      report.vision = { dir: init.vision, format: 'blip-2', copied: assignChecked(variables, writes, part.file), dropped };
    } else {
      const { num_hidden_layers: layers, layer_norm_eps: eps } = model.config.vision_config;
      const mode = init.vision_pre_layernorm ?? 'fold';
      if (mode === 'drop' && init.vision_pre_layernorm_scale !== undefined) {
        throw new MmftError(
          'E_CONFIG',
          'init.vision_pre_layernorm_scale is given but init.vision_pre_layernorm is drop; the scale is used only when folding',
          {
            hint: 'remove vision_pre_layernorm_scale or set vision_pre_layernorm: fold',
          },
        );
      }
      const options = { mode, eps, ...(init.vision_pre_layernorm_scale !== undefined ? { scale: init.vision_pre_layernorm_scale } : {}) };
      const { writes, dropped, preLayerNorm } = clipToBlip2Vision(part.tensors, layers, part.file, options);
      report.vision = { dir: init.vision, format: 'clip', copied: assignChecked(variables, writes, part.file), dropped, preLayerNorm };
    }
  }

  if (init.qformer) {
    const part = await readPart(init.qformer, 'qformer', ['blip-2']);
    const targets = names.filter((n) => n === 'query_tokens' || n.startsWith('qformer.'));
    const writes = sameNames(part.tensors, targets, part.file, 'qformer');
    const skipped: string[] = [];
    for (const name of part.tensors.keys()) {
      if (!name.startsWith('qformer.') || writes.has(name)) continue;
      // Allowed leftovers: the text feed-forward a captioning model does not have, and the position_ids buffer.
      if (/^qformer\.encoder\.layer\.\d+\.(intermediate|output)\./.test(name) || name === 'qformer.embeddings.position_ids')
        skipped.push(name);
      else {
        throw new MmftError('E_CHECKPOINT', `${part.file}: ${name} has no counterpart in this BLIP-2's Q-Former`, {
          hint: 'the folder has more Q-Former layers or modules than model.config.qformer_config describes; leave those fields out of model.config',
        });
      }
    }
    report.qformer = { dir: init.qformer, copied: assignChecked(variables, writes, part.file), skipped };
  }

  if (init.language_model) {
    const dir = init.language_model;
    const expected = model.config.text_config.model_type;
    const target = model.languageModel;
    if (!target) {
      throw new MmftError('E_CONFIG', `init.language_model (${dir}) is given but this BLIP-2 has no language model`, {
        hint: 'remove init.language_model (a stage-1 retrieval model holds only the vision tower and the Q-Former)',
      });
    }
    if (!context) {
      throw new MmftError(
        'E_CONFIG',
        `init.language_model (${dir}) is loaded through the plugin of its model_type, and no plugin registry was given`,
        {
          hint: 'pass architectureContext(registry) as applyBlip2Init’s third argument',
        },
      );
    }
    const loaded: VisionLanguageModel = await context.resolveModelType(expected).fromPretrained(dir, {}, context);
    try {
      if (!isCausalLanguageModel(loaded) || loaded.modelType !== expected) {
        throw new MmftError(
          'E_CONFIG',
          `init.language_model: ${dir} holds a "${loaded.modelType}" ${loaded.family} model; this BLIP-2's text_config.model_type is "${expected}"`,
          { hint: 'build the model from resolveBlip2Config(...) so text_config comes from the language model folder' },
        );
      }
      const source = loaded.root.stateDict();
      const writes = new Map<string, Tensor & { from: string }>();
      for (const [name, variable] of target.root.stateDict()) {
        const from = source.get(name);
        if (!from)
          throw new MmftError('E_CHECKPOINT', `${dir}: the loaded ${expected} model has no parameter ${name} (language_model.${name})`);
        writes.set(`language_model.${name}`, { shape: from.shape, data: from.dataSync() as Float32Array, from: name });
        if (variable.dtype !== 'float32')
          throw new MmftError('E_CHECKPOINT', `language_model.${name} is ${variable.dtype}, expected float32`);
      }
      report.languageModel = { dir, copied: assignChecked(variables, writes, dir) };
    } finally {
      loaded.dispose();
    }
  }
  return report;
}
