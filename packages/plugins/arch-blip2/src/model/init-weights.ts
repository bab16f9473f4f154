// The random initialisation of a fresh BLIP-2 outside its language model, as
// Blip2PreTrainedModel._init_weights (transformers src/transformers/models/blip_2/modeling_blip_2.py,
// 4.4x): every Linear / Conv2d weight N(0, config.initializer_range), biases zero, LayerNorm ones /
// zeros, class_embedding and position_embedding N(0, vision_config.initializer_range). The query
// tokens follow LAVIS (lavis/models/blip2_models/blip2.py init_Qformer: normal(0,
// qformer initializer_range)) instead of HF's zeros: zero queries are interchangeable, get identical
// gradients and never tell apart, so a model trained from scratch needs them random.
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, type AnyModule } from '@mmft/core/nn';
import type { Blip2Config } from '../config';

function ruleFor(name: string, config: Blip2Config): { std: number } | { fill: number } | undefined {
  if (name.startsWith('language_model.')) return undefined; // the language model's plugin initialised it
  if (name === 'query_tokens') return { std: config.qformer_config.initializer_range };
  if (name === 'vision_model.embeddings.class_embedding' || name === 'vision_model.embeddings.position_embedding')
    return { std: config.vision_config.initializer_range };
  if (/(layer_norm[12]|post_layernorm|layernorm|LayerNorm)\.weight$/.test(name)) return { fill: 1 };
  if (name.endsWith('.bias')) return { fill: 0 };
  if (name.endsWith('.weight')) return { std: config.initializer_range };
  return undefined;
}

/**
 * Re-initialises the parameters of `root` outside `language_model.*` as transformers does.
 *
 * @example
 * initBlip2Weights(root, config, 42);
 */
export function initBlip2Weights(root: AnyModule, config: Blip2Config, seed?: number): void {
  for (const [name, variable] of root.namedParameters()) {
    const rule = ruleFor(name, config);
    if (!rule) continue;
    tf.tidy(() => {
      variable.assign(
        'fill' in rule
          ? tf.fill(variable.shape, rule.fill)
          : tf.randomNormal(variable.shape, 0, rule.std, 'float32', deriveSeed(seed, name)),
      );
    });
  }
}
