// CLIP's text tower: CLIPTextEmbeddings (token + learned absolute position) → causal encoder
// with the padding mask added → final_layer_norm → pooling at the eos position. Follows
// CLIPTextEmbeddings and CLIPTextTransformer in transformers/models/clip/modeling_clip.py, and is
// the PromptInjectionPoint (core contracts/peft.ts) through which prompt tuning reaches CLIP.
import * as tf from '@tensorflow/tfjs-core';
import { assertThat, type PromptInjectionPoint } from '@mmft/core';
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
  constructor(
    readonly config: ClipTextConfig,
    seed?: number,
  ) {
    super();
    this.registerModule(
      'token_embedding',
      new Embedding(config.vocab_size, config.hidden_size, { seed: deriveSeed(seed, 'token_embedding') }),
    );
    this.registerModule(
      'position_embedding',
      new Embedding(config.max_position_embeddings, config.hidden_size, { seed: deriveSeed(seed, 'position_embedding') }),
    );
  }

  forward(inputIds: tf.Tensor): tf.Tensor {
    const length = inputIds.shape[1]!;
    assertThat(
      length <= this.config.max_position_embeddings,
      'E_SHAPE',
      () =>
        `input_ids [${inputIds.shape.join(', ')}] has ${length} tokens, more than max_position_embeddings (${this.config.max_position_embeddings}); tokenize with truncation`,
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
 * As a PromptInjectionPoint it prepends virtual tokens after the position embeddings are added,
 * so real tokens keep positions 0..T-1 and P + T need not fit max_position_embeddings (texts
 * padded to 77 still work). Python PEFT would instead hand `cat(prompts, token_embedding(ids))`
 * to the model as `inputs_embeds`, which HF's CLIPTextTransformer refuses (its eos pooling needs
 * input_ids), so there is no upstream behaviour on CLIP to match. See docs/clip.md.
 *
 * @example
 * const { pooledOutput } = textModel.forward(inputIds, attentionMask); // [B, hidden_size]
 * textModel.setPromptSource((b) => tf.tile(prompts, [b, 1, 1])); // lastHiddenState is then [B, P + T, D]
 */
export class ClipTextTransformer extends Module<[tf.Tensor, tf.Tensor | undefined], TowerOutput> implements PromptInjectionPoint {
  readonly promptTokenDim: number;
  private promptSource?: (batchSize: number) => tf.Tensor;

  constructor(
    readonly config: ClipTextConfig,
    seed?: number,
  ) {
    super();
    this.promptTokenDim = config.hidden_size;
    this.registerModule('embeddings', new ClipTextEmbeddings(config, deriveSeed(seed, 'embeddings')));
    this.registerModule('encoder', new ClipEncoder(config, deriveSeed(seed, 'encoder')));
    this.registerModule('final_layer_norm', new LayerNorm(config.hidden_size, { eps: config.layer_norm_eps }));
  }

  /** Installs the virtual-token source ([B or 1, P, hidden_size] per call), or clears it. */
  setPromptSource(source: ((batchSize: number) => tf.Tensor) | undefined): void {
    this.promptSource = source;
  }

  forward(inputIds: tf.Tensor, attentionMask?: tf.Tensor): TowerOutput {
    assertThat(
      inputIds.rank === 2 && inputIds.dtype === 'int32',
      'E_SHAPE',
      () => `input_ids must be int32 [batch, length], got ${inputIds.dtype} [${inputIds.shape.join(', ')}]`,
    );
    if (attentionMask) {
      assertThat(
        tf.util.arraysEqual(attentionMask.shape, inputIds.shape),
        'E_SHAPE',
        () => `attention_mask [${attentionMask.shape.join(', ')}] must have the shape of input_ids [${inputIds.shape.join(', ')}]`,
      );
    }
    const [batch, length] = inputIds.shape as [number, number];
    const positions = eosPositions(inputIds, this.config.eos_token_id);
    return tf.tidy(() => {
      let hidden = this.child<ClipTextEmbeddings>('embeddings').forward(inputIds);
      let padding = attentionMask;
      let offset = 0;
      if (this.promptSource) {
        const prompt = this.promptTokens(batch);
        offset = prompt.shape[1]!;
        hidden = tf.concat([prompt, hidden], 1);
        // Virtual tokens are always attended; without a mask nothing is padding, so none is needed.
        if (attentionMask) padding = tf.concat([tf.ones([batch, offset], attentionMask.dtype), attentionMask], 1);
      }
      // HF adds the causal mask and the expanded padding mask; both block with float32's min.
      const mask = combineMasks(causalMask(offset + length), padding ? paddingMask(padding) : undefined);
      const encoded = this.child<ClipEncoder>('encoder').forward(hidden, mask);
      const lastHiddenState = this.child<LayerNorm>('final_layer_norm').forward(encoded);
      return {
        lastHiddenState,
        pooledOutput: gatherPositions(
          lastHiddenState,
          positions.map((t) => t + offset),
        ),
      };
    });
  }

  /** source(B) checked against the contract and broadcast to [B, P, D]. */
  private promptTokens(batch: number): tf.Tensor {
    const prompt = this.promptSource!(batch);
    const [rows, count, dim] = prompt.shape;
    assertThat(
      prompt.rank === 3 && (rows === batch || rows === 1) && count! > 0 && dim === this.promptTokenDim && prompt.dtype === 'float32',
      'E_SHAPE',
      () =>
        `the prompt source gave ${prompt.dtype} [${prompt.shape.join(', ')}]; CLIP's text tower needs float32 [${batch} or 1, P > 0, ${this.promptTokenDim}] (hidden_size)`,
    );
    return rows === batch ? prompt : tf.tile(prompt, [batch, 1, 1]);
  }
}
