// A toy causal LM built from core pieces only (CausalLMBase, CausalSelfAttention with grouped-query
// heads and rotary positions, DynamicCache), so the prefix/prompt tests need no architecture plugin:
// two layers of h ← h + attn(h); h ← h + tanh(mlp(h)), then an untied head. Positions matter
// (rotary), so the tests also check which positions the real tokens get.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs } from '@mmft/core';
import { CausalLMBase } from '@mmft/core/lm';
import {
  CausalSelfAttention,
  causalLmMask,
  Embedding,
  Linear,
  Module,
  ModuleList,
  positionIdsFromMask,
  RotaryEmbedding,
} from '@mmft/core/nn';
import type { PeftSubject } from '@mmft/core/testing';

class Container extends Module<[], null> {
  forward(): null {
    return null;
  }
}

class ToyLayer extends Module<[tf.Tensor, Record<string, unknown>], tf.Tensor> {
  constructor(dim: number, heads: number, kvHeads: number, seed: number) {
    super();
    this.registerModule(
      'self_attn',
      new CausalSelfAttention({ embedDim: dim, numHeads: heads, numKeyValueHeads: kvHeads, bias: false, seed }),
    );
    this.registerModule('mlp', new Linear(dim, dim, { seed: seed + 1 }));
  }

  forward(h: tf.Tensor, inputs: Record<string, unknown>): tf.Tensor {
    return tf.tidy(() => {
      const a = tf.add(h, this.child<CausalSelfAttention>('self_attn').forward(h, inputs));
      return tf.add(a, tf.tanh(this.child<Linear>('mlp').forward(a)));
    });
  }
}

export const VOCAB = 16;
export const DIM = 8;
export const LAYERS = 2;

/** Options: kvHeads 2 of 4 heads is grouped-query attention (config.json gets num_key_value_heads, as Llama's). */
export interface ToyLmOptions {
  readonly kvHeads?: number;
  readonly seed?: number;
}

export class ToyCausalLm extends CausalLMBase {
  private readonly rope: RotaryEmbedding;

  constructor(options: ToyLmOptions = {}) {
    const heads = 4;
    const kvHeads = options.kvHeads ?? heads;
    const seed = options.seed ?? 7;
    const root = new Container();
    const model = root.registerModule('model', new Container());
    model.registerModule('embed_tokens', new Embedding(VOCAB, DIM, { seed }));
    model.registerModule(
      'layers',
      new ModuleList(Array.from({ length: LAYERS }, (_, l) => new ToyLayer(DIM, heads, kvHeads, seed + 10 * (l + 1)))),
    );
    root.registerModule('lm_head', new Linear(DIM, VOCAB, { bias: false, seed: seed + 100 }));
    const config: Record<string, unknown> = {
      model_type: 'toy-lm',
      vocab_size: VOCAB,
      hidden_size: DIM,
      num_attention_heads: heads,
      num_hidden_layers: LAYERS,
    };
    if (options.kvHeads !== undefined) config.num_key_value_heads = kvHeads;
    super({
      modelType: 'toy-lm',
      architecture: 'ToyForCausalLM',
      root,
      config,
      processor: { towers: { language: ['**'] } },
      numLayers: LAYERS,
    });
    this.rope = new RotaryEmbedding({ dim: DIM / heads, base: 10000 });
  }

  embedTokens(ids: tf.Tensor): tf.Tensor {
    return this.root.getModule<Embedding>('model.embed_tokens').forward(ids);
  }

  logitsOf(inputs: ModelInputs): tf.Tensor {
    return tf.tidy(() => {
      let h = inputs.inputsEmbeds ?? this.embedTokens(inputs.inputIds!);
      const [b, t] = h.shape as [number, number, number];
      const cache = inputs.pastKeyValues;
      const past = cache?.length ?? 0;
      const mask2d = inputs.attentionMask ?? tf.ones([b, past + t], 'int32');
      const attentionMask = causalLmMask(mask2d, b, t, past);
      const rotary = this.rope.cosSin(inputs.positionIds ?? positionIdsFromMask(mask2d, past, t));
      let layer = 0;
      for (const block of this.root.getModule<ModuleList<ToyLayer>>('model.layers')) {
        h = block.forward(h, { attentionMask, rotary, cache, layer });
        layer += 1;
      }
      return this.root.getModule<Linear>('lm_head').forward(h);
    });
  }
}

export const ids = (rows: number[][]) => tf.tensor2d(rows, [rows.length, rows[0]!.length], 'int32');

/** Two left-padded rows, as generate() and the conformance kit feed them. */
export const INPUTS = {
  inputIds: [
    [0, 3, 4, 5],
    [6, 7, 8, 9],
  ],
  attentionMask: [
    [0, 1, 1, 1],
    [1, 1, 1, 1],
  ],
};

/** The toy LM as a PEFT conformance subject: logits of the two rows above. */
export function toyLmSubject(options: ToyLmOptions = {}): PeftSubject & { lm: ToyCausalLm } {
  const lm = new ToyCausalLm(options);
  const inputIds = ids(INPUTS.inputIds);
  const attentionMask = ids(INPUTS.attentionMask);
  return {
    lm,
    root: lm.root,
    forward: () => lm.forward({ inputIds, attentionMask }).logits,
    dispose: () => {
      lm.dispose();
      tf.dispose([inputIds, attentionMask]);
    },
  };
}
