// LlamaPreTrainedModel._init_weights (transformers src/transformers/models/llama/modeling_llama.py):
// every Linear weight and the embedding ~ N(0, initializer_range²), biases zero, the padding_idx row
// of embed_tokens zero, RMSNorm weights one. Each parameter draws from its own seed derived from the
// model seed and its name, so the same seed gives bit-identical weights.
import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed, type Module } from '@mmft/core/nn';
import type { LlamaConfig } from '../config';

/**
 * Re-initialises `root` (a LlamaForCausalLMRoot) in place.
 *
 * @example
 * initLlamaWeights(root, config, 0);
 */
export function initLlamaWeights(root: Module, config: LlamaConfig, seed: number | undefined): void {
  const std = config.initializer_range;
  for (const [name, variable] of root.namedParameters()) {
    const fresh = tf.tidy(() => {
      if (name.endsWith('layernorm.weight') || name === 'model.norm.weight') return tf.onesLike(variable);
      if (name.endsWith('.bias')) return tf.zerosLike(variable);
      const drawn = tf.randomNormal(variable.shape, 0, std, 'float32', deriveSeed(seed, name));
      const pad = config.pad_token_id;
      if (name !== 'model.embed_tokens.weight' || pad === null || pad >= config.vocab_size) return drawn;
      // nn.Embedding(padding_idx=pad_token_id): that row starts (and stays, without training) at zero.
      const keep = tf.tensor2d(
        Array.from({ length: config.vocab_size }, (_, i) => (i === pad ? 0 : 1)),
        [config.vocab_size, 1],
      );
      return tf.mul(drawn, keep);
    });
    variable.assign(fresh);
    fresh.dispose();
  }
}
