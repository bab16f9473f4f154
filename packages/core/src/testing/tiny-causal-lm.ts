// The smallest causal LM for tests of what sits around a language model (objectives, bridges,
// serving): a real CausalLMBase with a real tokenizer, whose logits at a position depend on the
// token there and the one before it, so loss, generation and label masking can be checked by hand.
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ArchitectureProvider } from '../contracts/architecture';
import { MmftError } from '../errors';
import { readTokenizerFiles } from '../hf/read-folder';
import type { ModelInputs } from '../contracts/model';
import { tokenizerFromFiles } from '../hf/tokenizer-files';
import { CausalLMBase } from '../lm/causal-lm-base';
import { TiedLinear } from '../lm/tied-linear';
import { Embedding } from '../nn/embedding';
import { Module } from '../nn/module';
import { byteLevelBpeTokenizerFiles } from '../hf/tiny-tokenizers';

class Container extends Module<[], null> {
  forward(): null {
    return null;
  }
}

/** Options of `tinyCausalLm`. */
export interface TinyCausalLmOptions {
  /** Tokenizer folder files (default: the GPT-2 flavour of byteLevelBpeTokenizerFiles with pad <|endoftext|>). */
  readonly tokenizerFiles?: Map<string, Uint8Array>;
  readonly hiddenSize?: number;
  readonly seed?: number;
  readonly generationConfig?: Record<string, unknown>;
}

/**
 * A causal LM of one embedding and its tied head: logits(t) = (e[x_t] + e[x_{t-1}]) · Eᵀ, the
 * previous token read from the KV cache when decoding (layer 0 holds the embeddings seen so far).
 *
 * @example
 * const lm = tinyCausalLm({ tokenizerFiles: llamaTokenizerFiles() });
 * const { loss } = lm.forward({ inputIds, labels });
 */
export function tinyCausalLm(options: TinyCausalLmOptions = {}): TinyCausalLm {
  const files = options.tokenizerFiles ?? byteLevelBpeTokenizerFiles({ flavour: 'gpt2', padToken: '<|endoftext|>' });
  const tokenizer = tokenizerFromFiles(files)!;
  const vocab = tokenizer.vocabSize;
  const dim = options.hiddenSize ?? 8;
  const root = new Container();
  const model = root.registerModule('model', new Container());
  const embed = model.registerModule('embed_tokens', new Embedding(vocab, dim, { seed: options.seed ?? 1 }));
  root.registerModule('lm_head', new TiedLinear(embed.weight));
  const ids = tokenizer.specialTokenIds ?? {};
  return new TinyCausalLm({
    modelType: 'tiny-lm',
    architecture: 'TinyForCausalLM',
    root,
    config: { model_type: 'tiny-lm', vocab_size: vocab, hidden_size: dim, tie_word_embeddings: true, eos_token_id: ids.eos ?? null },
    processor: { tokenizer, chatTemplate: tokenizer.chatTemplate, towers: { language: ['**'] } },
    generationConfig: options.generationConfig,
    numLayers: 1,
    tokenizerFiles: files,
    tied: { 'lm_head.weight': 'model.embed_tokens.weight' },
  });
}

/** The model `tinyCausalLm` builds. */
export class TinyCausalLm extends CausalLMBase {
  embedTokens(ids: tf.Tensor): tf.Tensor {
    return this.root.getModule<Embedding>('model.embed_tokens').forward(ids);
  }

  logitsOf(inputs: ModelInputs): tf.Tensor {
    return tf.tidy(() => {
      const x = inputs.inputsEmbeds ?? this.embedTokens(inputs.inputIds!); // [B, T, D]
      const [b, t, d] = x.shape as [number, number, number];
      // Decoding: layer 0 of the cache holds the embeddings of every position so far.
      const seen = inputs.pastKeyValues
        ? tf.reshape(inputs.pastKeyValues.update(0, tf.reshape(x, [b, 1, t, d]), tf.reshape(x, [b, 1, t, d])).key, [b, -1, d])
        : x;
      const all = seen.shape[1]!;
      // Padding contributes nothing, so a left-padded row computes what it computes alone.
      const mask = inputs.attentionMask ? tf.cast(tf.reshape(inputs.attentionMask, [b, all, 1]), 'float32') : tf.ones([b, all, 1]);
      const real = tf.mul(seen, mask);
      const previous = tf.concat([tf.zeros([b, 1, d]), tf.slice(real, [0, 0, 0], [b, all - 1, d])], 1);
      const h = tf.slice(tf.add(real, previous), [0, all - t, 0], [b, t, d]);
      return this.root.getModule<TiedLinear>('lm_head').forward(h);
    });
  }
}

/** The recipe section of `tinyCausalLmProvider`: config.json fields (hidden_size) and an optional tokenizer folder. */
const tinySectionSchema = z.strictObject({
  config: z
    .looseObject({ hidden_size: z.number().int().positive().optional() })
    .default({})
    .describe('hidden_size (default 8); other fields kept'),
  tokenizer: z.string().min(1).optional().describe('folder holding tokenizer.json (default: the tiny GPT-2-style tokenizer)'),
  seed: z.number().int().optional().describe('seed of the embedding'),
  ignoreUnexpected: z.boolean().optional().describe('accepted for the model: section shape; unused'),
});

/**
 * `tinyCausalLm` as an architecture provider (model_type "tiny-lm"), so bridges (BLIP-2, LLaVA)
 * build it from `text_config: { model_type: 'tiny-lm' }` through a test registry.
 *
 * @example
 * const context = architectureContext({ list: () => [tinyCausalLmProvider, blip2Provider] });
 * const lm = await context.resolveModelType('tiny-lm').fromConfig({ config: { hidden_size: 8 } }, context);
 */
export const tinyCausalLmProvider: ArchitectureProvider<z.output<typeof tinySectionSchema>> = {
  kind: 'architecture',
  id: 'tiny-lm',
  description: 'test causal LM: one tied embedding, logits(t) = (e[x_t] + e[x_{t-1}]) · Eᵀ',
  configSchema: tinySectionSchema,
  family: 'language-model',
  modelTypes: ['tiny-lm'],
  async fromConfig(raw) {
    const section = tinySectionSchema.parse(raw);
    const tokenizerFiles = section.tokenizer ? await readTokenizerFiles(section.tokenizer) : undefined;
    const model = tinyCausalLm({
      hiddenSize: section.config.hidden_size,
      seed: section.seed,
      tokenizerFiles: tokenizerFiles?.has('tokenizer.json') ? tokenizerFiles : undefined,
    });
    return model;
  },
  async fromPretrained(dir) {
    throw new MmftError('E_UNSUPPORTED', `tiny-lm has no checkpoint folders (${dir}); build it with fromConfig`);
  },
};
