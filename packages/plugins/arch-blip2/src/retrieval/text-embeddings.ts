// The Q-Former's text embeddings (`embeddings.*` of Blip2ForImageTextRetrieval), as transformers'
// Blip2TextEmbeddings (src/transformers/models/blip_2/modeling_blip_2.py): word + absolute position
// embeddings, positions counted from 0 over the text alone, queries (when given) in front. There is
// no LayerNorm here: the sum goes through `qformer.layernorm` together with the queries (LAVIS'
// BertEmbeddings.LayerNorm, lavis/models/blip2_models/Qformer.py, became that LayerNorm).
import * as tf from '@tensorflow/tfjs-core';
import { assertThat, MmftError } from '@mmft/core';
import { deriveSeed, Embedding, Module, normal } from '@mmft/core/nn';
import type { Blip2QFormerConfig } from '../config';

/**
 * word_embeddings [vocab_size, H] and position_embeddings [max_position_embeddings, H].
 *
 * @example
 * const embeds = embeddings.forward(inputIds, queries); // [B, Q + T, H]
 */
export class Blip2TextEmbeddings extends Module<[tf.Tensor, tf.Tensor | undefined], tf.Tensor> {
  constructor(
    readonly config: Blip2QFormerConfig,
    seed?: number,
  ) {
    super();
    const init = normal(config.initializer_range);
    this.registerModule('word_embeddings', new Embedding(config.vocab_size, config.hidden_size, { init, seed: deriveSeed(seed, 'word') }));
    this.registerModule(
      'position_embeddings',
      new Embedding(config.max_position_embeddings, config.hidden_size, { init, seed: deriveSeed(seed, 'position') }),
    );
  }

  /** The word table [V, H]; the ITG head's decoder reuses it (LAVIS ties them). */
  get wordEmbeddings(): tf.Variable {
    return this.child<Embedding>('word_embeddings').weight;
  }

  /** ids [B, T] (int32) → [B, T, H], or [B, Q + T, H] with `queryEmbeds` [B, Q, H] in front. */
  forward(inputIds: tf.Tensor, queryEmbeds?: tf.Tensor): tf.Tensor {
    const [b, t] = inputIds.shape as [number, number];
    const { max_position_embeddings: maxPositions, vocab_size: vocab } = this.config;
    if (t > maxPositions) {
      throw new MmftError(
        'E_INPUT',
        `the Q-Former text has ${t} tokens but only ${maxPositions} position embeddings (qformer_config.max_position_embeddings)`,
        { hint: 'truncate the text (max_length) to at most max_position_embeddings tokens' },
      );
    }
    assertThat(
      !queryEmbeds || (queryEmbeds.rank === 3 && queryEmbeds.shape[0] === b),
      'E_SHAPE',
      () => `query embeddings must be [${b}, Q, H] like the ids' batch, got [${queryEmbeds!.shape.join(', ')}]`,
    );
    const ids = tf.tidy(() => tf.cast(inputIds, 'int32'));
    try {
      const values = ids.dataSync();
      const bad = values.findIndex((id) => id < 0 || id >= vocab);
      if (bad >= 0) {
        throw new MmftError(
          'E_INPUT',
          `token id ${values[bad]} at [${Math.floor(bad / t)}, ${bad % t}] is outside the Q-Former vocabulary [0, ${vocab})`,
          { hint: "tokenize with the model processor's tokenizer (qformer_config.vocab_size rows)" },
        );
      }
      return tf.tidy(() => {
        const words = this.child<Embedding>('word_embeddings').forward(ids);
        const positions = this.child<Embedding>('position_embeddings').forward(tf.range(0, t, 1, 'int32'));
        const text = tf.add(words, tf.expandDims(positions, 0));
        return queryEmbeds ? tf.concat([queryEmbeds, text], 1) : text;
      });
    } finally {
      ids.dispose();
    }
  }
}
