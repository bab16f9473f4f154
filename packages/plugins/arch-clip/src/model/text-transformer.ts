// CLIP's text tower: CLIPTextEmbeddings (token + learned absolute position) → causal encoder
// with the padding mask added → final_layer_norm → pooling at the eos position. Follows
// CLIPTextEmbeddings and CLIPTextTransformer in transformers/models/clip/modeling_clip.py.
import * as tf from '@tensorflow/tfjs-core';
import { assertThat } from '@mmft/core';
import { causalMask, combineMasks, deriveSeed, Embedding, LayerNorm, Module, paddingMask } from '@mmft/core/nn';
import type { ClipTextConfig } from '../config';
import { ClipEncoder } from './encoder';
import { eosPositions, gatherPositions } from './pooling';

/** What a tower returns: every position after the final norm, and the pooled vector. */
export interface TowerOutput {
  /** [B, T, D] */
  lastHiddenState: tf.Tensor;
  /** [B, D] */
  pooledOutput: tf.Tensor;
}

/** token_embedding(ids) + position_embedding(0..T-1). */
export class ClipTextEmbeddings extends Module<[tf.Tensor], tf.Tensor> {
  constructor(readonly config: ClipTextConfig, seed?: number) {
    super();
    this.registerModule('token_embedding', new Embedding(config.vocab_size, config.hidden_size, { seed: deriveSeed(seed, 'token_embedding') }));
    this.registerModule('position_embedding', new Embedding(config.max_position_embeddings, config.hidden_size, { seed: deriveSeed(seed, 'position_embedding') }));
  }

  forward(inputIds: tf.Tensor): tf.Tensor {
    const length = inputIds.shape[1]!;
    assertThat(
      length <= this.config.max_position_embeddings,
      'E_SHAPE',
      () => `input_ids [${inputIds.shape.join(', ')}] has ${length} tokens, more than max_position_embeddings (${this.config.max_position_embeddings}); tokenize with truncation`,
    );
    return tf.tidy(() => {
      const tokens = this.child<Embedding>('token_embedding').forward(inputIds);
      const positions = this.child<Embedding>('position_embedding').forward(tf.range(0, length, 1, 'int32'));
      return tf.add(tokens, positions);
    });
  }
}

/**
 * The text transformer (`text_model.*` in a CLIPModel state dict).
 *
 * @example
 * const { pooledOutput } = textModel.forward(inputIds, attentionMask); // [B, hidden_size]
 */
export class ClipTextTransformer extends Module<[tf.Tensor, tf.Tensor | undefined], TowerOutput> {
  constructor(readonly config: ClipTextConfig, seed?: number) {
    super();
    this.registerModule('embeddings', new ClipTextEmbeddings(config, deriveSeed(seed, 'embeddings')));
    this.registerModule('encoder', new ClipEncoder(config, deriveSeed(seed, 'encoder')));
    this.registerModule('final_layer_norm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
  }

  forward(inputIds: tf.Tensor, attentionMask?: tf.Tensor): TowerOutput {
    assertThat(inputIds.rank === 2 && inputIds.dtype === 'int32', 'E_SHAPE', () => `input_ids must be int32 [batch, length], got ${inputIds.dtype} [${inputIds.shape.join(', ')}]`);
    if (attentionMask) {
      assertThat(
        tf.util.arraysEqual(attentionMask.shape, inputIds.shape),
        'E_SHAPE',
        () => `attention_mask [${attentionMask.shape.join(', ')}] must have the shape of input_ids [${inputIds.shape.join(', ')}]`,
      );
    }
    const positions = eosPositions(inputIds, this.config.eos_token_id);
    return tf.tidy(() => {
      const hidden = this.child<ClipTextEmbeddings>('embeddings').forward(inputIds);
      // HF adds the causal mask and the expanded padding mask; both block with float32's min.
      const mask = combineMasks(causalMask(inputIds.shape[1]!), attentionMask ? paddingMask(attentionMask) : undefined);
      const encoded = this.child<ClipEncoder>('encoder').forward(hidden, mask);
      const lastHiddenState = this.child<LayerNorm>('final_layer_norm').forward(encoded);
      return { lastHiddenState, pooledOutput: gatherPositions(lastHiddenState, positions) };
    });
  }
}
