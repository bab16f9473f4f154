// A test causal LM with real decoder self-attention, built from core pieces only (CausalLMBase,
// CausalSelfAttention), so bridges' attention-probing tests (arch-llava, arch-blip2) need no
// language-model plugin: tiny-causal-lm.ts has no attention layers. num_hidden_layers layers of h ← h + attn(h) (grouped-query heads, no
// rotary), then an untied head; forward only (no KV cache).
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import type { ArchitectureProvider } from '../contracts/architecture';
import type { ModelInputs } from '../contracts/model';
import { byteLevelBpeTokenizerFiles } from '../hf/tiny-tokenizers/byte-level';
import { tokenizerFromFiles } from '../hf/tokenizer-files';
import { CausalLMBase } from '../lm/causal-lm-base';
import { CausalSelfAttention } from '../nn/causal-attention';
import { Embedding } from '../nn/embedding';
import { Linear } from '../nn/linear';
import { causalLmMask } from '../nn/masks';
import { Module } from '../nn/module';
import { ModuleList } from '../nn/module-list';

class Container extends Module<[], null> {
  forward(): null {
    return null;
  }
}

const attentionLmConfig = z.looseObject({
  hidden_size: z.number().int().positive().default(8),
  num_hidden_layers: z.number().int().positive().default(2),
  num_attention_heads: z.number().int().positive().default(4),
  num_key_value_heads: z.number().int().positive().default(2),
});

/** The model `tinyAttentionLmProvider` builds; `layer(i)` is layer i's attention (q_proj, k_proj read by the tests). */
export class TinyAttentionLm extends CausalLMBase {
  embedTokens(ids: tf.Tensor): tf.Tensor {
    return this.root.getModule<Embedding>('model.embed_tokens').forward(ids);
  }

  layer(i: number): CausalSelfAttention {
    return this.root.getModule<CausalSelfAttention>(`model.layers.${i}.self_attn`);
  }

  logitsOf(inputs: ModelInputs): tf.Tensor {
    if (inputs.pastKeyValues) throw new Error('the attention test LM has no KV cache');
    return tf.tidy(() => {
      let h = inputs.inputsEmbeds ?? this.embedTokens(inputs.inputIds!);
      const [b, t] = h.shape as [number, number, number];
      const mask = causalLmMask(inputs.attentionMask, b, t, 0);
      for (let i = 0; i < this.numLayers; i++) h = tf.add(h, this.layer(i).forward(h, { attentionMask: mask }));
      return this.root.getModule<Linear>('lm_head').forward(h);
    });
  }
}

/** Architecture provider of model_type "tiny-attn-lm" (text_config: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads). */
export const tinyAttentionLmProvider: ArchitectureProvider<{ config?: Record<string, unknown>; seed?: number }> = {
  kind: 'architecture',
  id: 'tiny-attn-lm',
  description: 'test causal LM with decoder self-attention layers',
  configSchema: z.looseObject({ config: z.record(z.string(), z.unknown()).optional(), seed: z.number().int().optional() }),
  family: 'language-model',
  modelTypes: ['tiny-attn-lm'],
  async fromConfig(raw) {
    const c = attentionLmConfig.parse(raw.config ?? {});
    const seed = raw.seed ?? 5;
    const files = byteLevelBpeTokenizerFiles({ flavour: 'gpt2', padToken: '<|endoftext|>' });
    const tokenizer = tokenizerFromFiles(files)!;
    const vocab = tokenizer.vocabSize;
    const root = new Container();
    const model = root.registerModule('model', new Container());
    model.registerModule('embed_tokens', new Embedding(vocab, c.hidden_size, { seed }));
    const layers = model.registerModule('layers', new ModuleList());
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const layer = new Container();
      layer.registerModule(
        'self_attn',
        new CausalSelfAttention({
          embedDim: c.hidden_size,
          numHeads: c.num_attention_heads,
          numKeyValueHeads: c.num_key_value_heads,
          bias: false,
          seed: seed + 10 * (i + 1),
        }),
      );
      layers.append(layer);
    }
    root.registerModule('lm_head', new Linear(c.hidden_size, vocab, { bias: false, seed: seed + 1 }));
    return new TinyAttentionLm({
      modelType: 'tiny-attn-lm',
      architecture: 'TinyAttentionForCausalLM',
      root,
      config: { ...c, model_type: 'tiny-attn-lm', vocab_size: vocab, eos_token_id: tokenizer.specialTokenIds?.eos ?? null },
      processor: { tokenizer, chatTemplate: tokenizer.chatTemplate, towers: { language: ['**'] } },
      numLayers: c.num_hidden_layers,
      tokenizerFiles: files,
    });
  },
  async fromPretrained(dir) {
    throw new Error(`tiny-attn-lm has no checkpoint folders (${dir})`);
  },
};
