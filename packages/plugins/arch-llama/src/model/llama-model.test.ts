// The Llama module tree: Hugging Face's state-dict names and shapes, tied and untied heads, HF's
// initialisation, and logits equal to the plain-JS reference (testing/reference-llama.ts) for
// grouped-query attention, biases, rope_theta and linear rope scaling; left padding and KV-cache
// decoding leave a row's logits unchanged.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { DynamicCache } from '@mmft/core/nn';
import { parseLlamaConfig } from '../checkpoint/parse-config';
import type { LlamaConfig, LlamaConfigInput } from '../config';
import { refLlamaLogits, type RefWeights } from '../testing/reference-llama';
import { initLlamaWeights } from './init-weights';
import { LlamaForCausalLMRoot } from './llama-model';

const tiny = (over: LlamaConfigInput = {}): LlamaConfig =>
  parseLlamaConfig({
    vocab_size: 11,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-5,
    initializer_range: 0.4,
    ...over,
  });

/** A root with N(0, 0.4²) weights and RMSNorm weights away from one, so every weight shows in the logits. */
function build(config: LlamaConfig, seed = 1): LlamaForCausalLMRoot {
  const root = new LlamaForCausalLMRoot(config).eval();
  initLlamaWeights(root, config, seed);
  for (const [name, v] of root.namedParameters()) {
    if (name.endsWith('norm.weight') || name.endsWith('.bias')) v.assign(tf.randomUniform(v.shape, 0.5, 1.5, 'float32', name.length));
  }
  return root;
}

const weightsOf = (root: LlamaForCausalLMRoot): RefWeights => new Map([...root.stateDict()].map(([n, v]) => [n, v.arraySync()]));
const ids = (rows: number[][]) => tf.tensor2d(rows, undefined, 'int32');

function expectClose(actual: number[][][], expected: number[][][], rowsToCompare?: (b: number, t: number) => boolean): void {
  let worst = 0;
  expected.forEach((rows, b) =>
    rows.forEach((row, t) => {
      if (rowsToCompare && !rowsToCompare(b, t)) return;
      row.forEach((e, v) => (worst = Math.max(worst, Math.abs(e - actual[b]![t]![v]!))));
    }),
  );
  expect(worst).toBeLessThan(2e-4);
}

describe('LlamaForCausalLMRoot', () => {
  test('Hugging Face state-dict names and shapes, in registration order (GQA: k/v of 2 heads × 4)', () => {
    const root = new LlamaForCausalLMRoot(tiny({ num_hidden_layers: 1 }));
    try {
      expect([...root.stateDict()].map(([n, v]) => `${n} [${v.shape.join(',')}]`)).toEqual([
        'model.embed_tokens.weight [11,16]',
        'model.layers.0.self_attn.q_proj.weight [16,16]',
        'model.layers.0.self_attn.k_proj.weight [8,16]',
        'model.layers.0.self_attn.v_proj.weight [8,16]',
        'model.layers.0.self_attn.o_proj.weight [16,16]',
        'model.layers.0.mlp.gate_proj.weight [24,16]',
        'model.layers.0.mlp.up_proj.weight [24,16]',
        'model.layers.0.mlp.down_proj.weight [16,24]',
        'model.layers.0.input_layernorm.weight [16]',
        'model.layers.0.post_attention_layernorm.weight [16]',
        'model.norm.weight [16]',
        'lm_head.weight [11,16]',
      ]);
    } finally {
      root.dispose();
    }
  });

  test('attention_bias / mlp_bias add biases; explicit head_dim sizes q/k/v/o by heads × head_dim', () => {
    const root = new LlamaForCausalLMRoot(tiny({ num_hidden_layers: 1, attention_bias: true, mlp_bias: true, head_dim: 6 }));
    try {
      const shapes = new Map([...root.stateDict()].map(([n, v]) => [n, v.shape]));
      expect(shapes.get('model.layers.0.self_attn.q_proj.weight')).toEqual([24, 16]);
      expect(shapes.get('model.layers.0.self_attn.k_proj.bias')).toEqual([12]);
      expect(shapes.get('model.layers.0.self_attn.o_proj.weight')).toEqual([16, 24]);
      expect(shapes.get('model.layers.0.self_attn.o_proj.bias')).toEqual([16]);
      expect(shapes.get('model.layers.0.mlp.down_proj.bias')).toEqual([16]);
    } finally {
      root.dispose();
    }
  });

  test('tie_word_embeddings: lm_head.weight is embed_tokens.weight itself, one parameter', () => {
    const root = new LlamaForCausalLMRoot(tiny({ tie_word_embeddings: true }));
    try {
      const state = root.stateDict();
      expect(state.get('lm_head.weight')).toBe(state.get('model.embed_tokens.weight'));
      expect(root.namedParameters().map(([n]) => n)).not.toContain('lm_head.weight');
    } finally {
      root.dispose();
    }
  });

  test('_init_weights: N(0, initializer_range²) weights, the pad row zero, norms one, biases zero; same seed, same bits', () => {
    const config = tiny({ vocab_size: 400, initializer_range: 0.02, pad_token_id: 3, attention_bias: true });
    const [a, b] = [new LlamaForCausalLMRoot(config), new LlamaForCausalLMRoot(config)];
    try {
      initLlamaWeights(a, config, 7);
      initLlamaWeights(b, config, 7);
      const embed = a.stateDict().get('model.embed_tokens.weight')!.arraySync() as number[][];
      expect(embed[3]!.every((x) => x === 0)).toBe(true);
      const values = embed.flat().filter((_, i) => Math.floor(i / 16) !== 3);
      const std = Math.sqrt(values.reduce((s, x) => s + x * x, 0) / values.length);
      expect(std).toBeGreaterThan(0.018);
      expect(std).toBeLessThan(0.022);
      const state = a.stateDict();
      expect(state.get('model.norm.weight')!.arraySync()).toEqual(new Array(16).fill(1));
      expect(state.get('model.layers.1.self_attn.q_proj.bias')!.arraySync()).toEqual(new Array(16).fill(0));
      for (const [name, v] of b.stateDict()) expect(v.arraySync()).toEqual(state.get(name)!.arraySync());
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  test.each<[string, LlamaConfigInput]>([
    ['GQA 4 heads / 2 kv heads, 2 layers', {}],
    ['1 layer, multi-head (kv = heads), rope_theta 500', { num_hidden_layers: 1, num_key_value_heads: 4, rope_theta: 500 }],
    [
      'MQA (1 kv head), attention and MLP biases, tied head',
      { num_key_value_heads: 1, attention_bias: true, mlp_bias: true, tie_word_embeddings: true },
    ],
    ['explicit head_dim 6 and linear rope scaling ×2', { head_dim: 6, rope_scaling: { rope_type: 'linear', factor: 2 } }],
  ])('logits equal the plain-JS reference: %s', (_, over) => {
    const config = tiny(over);
    const root = build(config);
    try {
      const inputIds = [
        [1, 5, 9, 2, 7, 3],
        [4, 4, 10, 0, 6, 8],
      ];
      const logits = tf.tidy(() => root.forward({ inputIds: ids(inputIds) }).arraySync()) as number[][][];
      expectClose(logits, refLlamaLogits(weightsOf(root), config, { inputIds }));
    } finally {
      root.dispose();
    }
  });

  test('explicit positionIds are used as given', () => {
    const config = tiny();
    const root = build(config);
    try {
      const inputIds = [[3, 1, 4, 1]];
      const positionIds = [[5, 6, 9, 12]];
      const logits = tf.tidy(() => root.forward({ inputIds: ids(inputIds), positionIds: ids(positionIds) }).arraySync()) as number[][][];
      expectClose(logits, refLlamaLogits(weightsOf(root), config, { inputIds, positionIds }));
    } finally {
      root.dispose();
    }
  });

  test("left padding does not change a row's logits (positions from the mask, padded keys blocked)", () => {
    const config = tiny();
    const root = build(config);
    try {
      const padded = [
        [0, 0, 5, 9, 2],
        [1, 5, 9, 2, 7],
      ];
      const mask = [
        [0, 0, 1, 1, 1],
        [1, 1, 1, 1, 1],
      ];
      const batch = tf.tidy(() => root.forward({ inputIds: ids(padded), attentionMask: ids(mask) }).arraySync()) as number[][][];
      const alone = tf.tidy(() => root.forward({ inputIds: ids([[5, 9, 2]]) }).arraySync()) as number[][][];
      expectClose([batch[0]!.slice(2)], alone);
      expectClose(batch, refLlamaLogits(weightsOf(root), config, { inputIds: padded, attentionMask: mask }), (b, t) => mask[b]![t] === 1);
    } finally {
      root.dispose();
    }
  });

  test('KV-cache decoding (prefill, then one token per call) equals full recomputation, without leaking tensors', () => {
    const config = tiny();
    const root = build(config);
    const cache = new DynamicCache();
    try {
      const sequence = [
        [0, 7, 2, 9, 4, 4, 1],
        [3, 8, 1, 5, 10, 2, 6],
      ];
      const mask = [
        [0, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
      ];
      const full = tf.tidy(() => root.forward({ inputIds: ids(sequence), attentionMask: ids(mask) }).arraySync()) as number[][][];
      const prefill = 3;
      const before = tf.memory().numTensors;
      const steps: number[][][] = [];
      const first = tf.tidy(() =>
        root
          .forward({
            inputIds: ids(sequence.map((r) => r.slice(0, prefill))),
            attentionMask: ids(mask.map((r) => r.slice(0, prefill))),
            cache,
          })
          .arraySync(),
      ) as number[][][];
      for (let t = prefill; t < 7; t++) {
        const out = tf.tidy(() =>
          root
            .forward({ inputIds: ids(sequence.map((r) => [r[t]!])), attentionMask: ids(mask.map((r) => r.slice(0, t + 1))), cache })
            .arraySync(),
        ) as number[][][];
        steps.push(out.map((rows) => rows[0]!));
      }
      expect(cache.length).toBe(7);
      const stitched = first.map((rows, b) => [...rows, ...steps.map((s) => s[b]!)]);
      expectClose(stitched, full, (b, t) => mask[b]![t] === 1);
      cache.dispose();
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      cache.dispose();
      root.dispose();
    }
  });

  test('inputsEmbeds give the same logits as the ids they embed; giving both (or neither) is an error', () => {
    const config = tiny();
    const root = build(config);
    try {
      const a = tf.tidy(() => root.forward({ inputIds: ids([[1, 2, 3]]) }).arraySync());
      const b = tf.tidy(() => root.forward({ inputsEmbeds: root.model.embed(ids([[1, 2, 3]])) }).arraySync());
      expect(b).toEqual(a);
      expect(() => root.forward({})).toThrow(/exactly one of inputIds/);
    } finally {
      root.dispose();
    }
  });
});
