// Tests only: what the tiny decoders of tiny-decoders.fixture.ts share: a bare module node, seeded
// weights, the forward's embeddings / mask / positions over core's DynamicCache, the lm_head (tied or
// not) and the fields CausalLMBase is built from, under the Hugging Face state-dict names.
import * as tf from '@tensorflow/tfjs-core';
import type { KeyValueCache, ModelInputs } from '@mmft/core';
import { CausalLMBase, TiedLinear } from '@mmft/core/lm';
import { causalLmMask, Embedding, Linear, Module, positionIdsFromMask } from '@mmft/core/nn';

export class Node extends Module<[], null> {
  forward(): null {
    return null;
  }
}

/** Every parameter drawn from N(0, std) (norm weights around 1), seeded, so no weight is a neutral 0 or 1. */
export function randomise(root: Module, seed: number, std: number): void {
  root.namedParameters().forEach(([name, v], i) => {
    const norm = /(norm|ln_\d|ln_f)\.weight$/.test(name);
    const fresh = tf.tidy(() => tf.add(tf.randomNormal(v.shape, 0, std, 'float32', seed + i), norm ? 1 : 0));
    v.assign(fresh);
    fresh.dispose();
  });
}

export type Config = Record<string, unknown>;
export const num = (c: Config, k: string) => c[k] as number;

export abstract class TinyDecoder extends CausalLMBase<Config> {
  embedTokens(ids: tf.Tensor): tf.Tensor {
    return this.root.getModule<Embedding>(this.embedName).forward(ids);
  }

  protected abstract readonly embedName: string;

  /** What each forward shares: embeddings, mask and positions over the cache. */
  protected prepare(inputs: ModelInputs): { x: tf.Tensor; mask: tf.Tensor; positions: tf.Tensor; cache?: KeyValueCache } {
    const x = inputs.inputsEmbeds ?? this.embedTokens(inputs.inputIds!);
    const [batch, length] = x.shape as [number, number, number];
    const past = inputs.pastKeyValues?.length ?? 0;
    const mask2d = inputs.attentionMask ?? tf.ones([batch, past + length], 'int32');
    return {
      x,
      mask: causalLmMask(mask2d, batch, length, past),
      positions: inputs.positionIds ?? positionIdsFromMask(mask2d, past, length),
      cache: inputs.pastKeyValues,
    };
  }
}

export const run = (m: Module, name: string, x: tf.Tensor): tf.Tensor => m.getModule<Module<[tf.Tensor], tf.Tensor>>(name).forward(x);

export function head(root: Module, embed: Embedding, tied: boolean, hidden: number, vocab: number): void {
  root.registerModule('lm_head', tied ? new TiedLinear(embed.weight) : new Linear(hidden, vocab, { bias: false }));
}

export const parts = (modelType: string, root: Module, config: Config, numLayers: number, tied: Record<string, string> | undefined) => ({
  modelType,
  architecture: modelType,
  root: root.eval(),
  config: { model_type: modelType, ...config },
  processor: { towers: { language: ['**'] } },
  generationConfig: { eos_token_id: config.eos_token_id, pad_token_id: config.pad_token_id },
  numLayers,
  tied,
  // A stand-in tokenizer file: the exporter copies tokenizer files byte for byte.
  tokenizerFiles: new Map([['tokenizer_config.json', new TextEncoder().encode('{"model_max_length": 32}\n')]]),
});
