// The module tree of transformers' CLIPVisionModel: one child `vision_model` (the same
// ClipVisionTransformer CLIPModel uses), so parameter names equal CLIPVisionModel state-dict keys
// and a bridge that registers this root as `vision_tower` gets `vision_tower.vision_model.*`, as
// LLaVA checkpoints name them. Follows CLIPVisionModel / CLIPVisionTransformer / CLIPEncoder in
// transformers/models/clip/modeling_clip.py.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError } from '@mmft/core';
import { deriveSeed, type LayerNorm, Module, type ModuleList, runBlocks } from '@mmft/core/nn';
import type { ClipVisionConfig } from '../config';
import type { ClipEncoder, ClipEncoderLayer } from './encoder';
import type { TowerOutput } from './text-transformer';
import { type ClipVisionEmbeddings, ClipVisionTransformer } from './vision-transformer';

/**
 * Indices into the numLayers + 1 hidden states, negative ones counted from the end as Python
 * indexes a tuple; an index outside [-(numLayers + 1), numLayers] is an E_INPUT error.
 *
 * @example
 * normalizeLayerIndices([-2, 0], 24); // [23, 0]
 */
export function normalizeLayerIndices(layers: readonly number[], numLayers: number): number[] {
  const count = numLayers + 1;
  return layers.map((layer) => {
    const index = layer < 0 ? layer + count : layer;
    if (!Number.isInteger(layer) || index < 0 || index >= count) {
      throw new MmftError(
        'E_INPUT',
        `hidden-state index ${layer} is out of range: a CLIP vision tower with ${numLayers} layers has ${count} hidden states (0 = embeddings after pre_layrnorm, ${numLayers} = the last layer), so indices run from ${-count} to ${numLayers}`,
        { hint: 'check vision_feature_layer against vision_config.num_hidden_layers (LLaVA-1.5 uses -2)' },
      );
    }
    return index;
  });
}

/**
 * CLIPVisionModel's parameters and computation.
 *
 * @example
 * const root = new ClipVisionRoot(parseClipVisionConfig({}));
 * root.namedParameters()[0]![0]; // 'vision_model.embeddings.class_embedding'
 */
export class ClipVisionRoot extends Module<[tf.Tensor], TowerOutput> {
  constructor(
    readonly config: ClipVisionConfig,
    seed?: number,
  ) {
    super();
    this.registerModule('vision_model', new ClipVisionTransformer(config, deriveSeed(seed, 'vision_model')));
  }

  /** CLIPVisionModel.forward: last_hidden_state [B, N, D] and pooler_output = post_layernorm(class token) [B, D]. */
  forward(pixelValues: tf.Tensor): TowerOutput {
    return this.child<ClipVisionTransformer>('vision_model').forward(pixelValues);
  }

  /**
   * The hidden states at `layers` (output_hidden_states=True: index 0 is the embedding output after
   * pre_layrnorm, index k the output of encoder layer k; post_layernorm never applies). Encoder
   * layers after the deepest index asked for are not run. Default: all numLayers + 1 states.
   */
  hiddenStates(pixelValues: tf.Tensor, layers?: readonly number[]): tf.Tensor[] {
    const numLayers = this.config.num_hidden_layers;
    const wanted = normalizeLayerIndices(layers ?? Array.from({ length: numLayers + 1 }, (_, i) => i), numLayers);
    if (wanted.length === 0) return [];
    const deepest = Math.max(...wanted);
    // Children are read at call time: PEFT may have replaced modules inside them.
    const vision = this.child<ClipVisionTransformer>('vision_model');
    const stack = vision.child<ClipEncoder>('encoder').child<ModuleList<ClipEncoderLayer>>('layers');
    return tf.tidy(() => {
      const embedded = vision.child<ClipVisionEmbeddings>('embeddings').forward(pixelValues);
      const states = [vision.child<LayerNorm>('pre_layrnorm').forward(embedded)];
      runBlocks(stack, states[0]!, (layer, h) => layer.forward(h, undefined), { count: deepest, onOutput: (_, h) => states.push(h) });
      // A repeated index gets its own handle, so the caller may dispose every returned tensor.
      const seen = new Set<number>();
      return wanted.map((k) => (seen.has(k) ? tf.clone(states[k]!) : (seen.add(k), states[k]!)));
    });
  }
}
