// The random initialisation of a fresh CLIP, as CLIPPreTrainedModel._init_weights in
// transformers/models/clip/modeling_clip.py: normal inits whose std depends on width and depth,
// zero biases, LayerNorm ones/zeros, logit_scale = logit_scale_init_value. Each tensor gets its
// own seed derived from its name, so a seeded model is identical on every run.
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, type Module } from '@mmft/core/nn';
import type { ClipConfig } from '../config';

/** The init std of one parameter name, or a constant fill; undefined keeps the module default. */
function ruleFor(name: string, config: ClipInitSettings): { std: number } | { fill: number } | undefined {
  const tower = (name.startsWith('text_model.') && config.text_config) || config.vision_config;
  // CLIPModel._init_weights reads the factor of the top-level CLIPConfig for every module.
  const factor = config.initializer_factor;
  const width = tower.hidden_size;
  const depthScale = (2 * tower.num_hidden_layers) ** -0.5;
  if (name === 'logit_scale') return { fill: config.logit_scale_init_value };
  if (name === 'text_projection.weight' && config.text_config) return { std: config.text_config.hidden_size ** -0.5 * factor };
  if (name === 'visual_projection.weight') return { std: config.vision_config.hidden_size ** -0.5 * factor };
  if (/^text_model\.embeddings\.(token|position)_embedding\.weight$/.test(name)) return { std: 0.02 * factor };
  if (name === 'vision_model.embeddings.class_embedding') return { std: width ** -0.5 * factor };
  if (/^vision_model\.embeddings\.(patch|position)_embedding\.weight$/.test(name))
    return { std: config.vision_config.initializer_range * factor };
  if (/self_attn\.[qkv]_proj\.weight$/.test(name)) return { std: width ** -0.5 * depthScale * factor };
  if (/self_attn\.out_proj\.weight$/.test(name)) return { std: width ** -0.5 * factor };
  if (/mlp\.fc1\.weight$/.test(name)) return { std: (2 * width) ** -0.5 * factor };
  if (/mlp\.fc2\.weight$/.test(name)) return { std: width ** -0.5 * depthScale * factor };
  // LayerNorms are created as ones/zeros already; every Linear bias starts at zero.
  if (/(_proj|fc1|fc2)\.bias$/.test(name)) return { fill: 0 };
  return undefined;
}

/**
 * What the init rules read: the towers' configs and the factor of the model's own config (a
 * CLIPVisionModel's is vision_config.initializer_factor). A vision-only root needs no text_config.
 */
export type ClipInitSettings = Pick<ClipConfig, 'vision_config' | 'initializer_factor' | 'logit_scale_init_value'> & {
  text_config?: ClipConfig['text_config'];
};

/**
 * Re-initialises every parameter of `root` as HF does for a new CLIPModel.
 *
 * @example
 * const root = new ClipRoot(config);
 * initClipWeights(root, config, 42);
 */
export function initClipWeights(root: Module, config: ClipInitSettings, seed?: number): void {
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
