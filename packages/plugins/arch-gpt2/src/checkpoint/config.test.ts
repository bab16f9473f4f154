import { describe, expect, test } from '@jest/globals';
import { parseConfig } from '@mmft/core';
import { gpt2SectionSchema } from '../config';
import { innerDim, parseGpt2Config } from './parse-config';

describe('GPT2Config', () => {
  test('an empty config.json gets the defaults of configuration_gpt2.py', () => {
    const c = parseGpt2Config({});
    expect(c).toMatchObject({
      model_type: 'gpt2',
      vocab_size: 50257,
      n_positions: 1024,
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      n_inner: null,
      activation_function: 'gelu_new',
      resid_pdrop: 0.1,
      embd_pdrop: 0.1,
      attn_pdrop: 0.1,
      layer_norm_epsilon: 1e-5,
      initializer_range: 0.02,
      scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
      bos_token_id: 50256,
      eos_token_id: 50256,
      tie_word_embeddings: true,
    });
    expect(innerDim(c)).toBe(4 * 768);
    expect(innerDim(parseGpt2Config({ n_embd: 16, n_head: 2, n_inner: 40 }))).toBe(40);
  });

  test('attribute_map aliases set the GPT-2 fields and unknown keys are kept', () => {
    const c = parseGpt2Config({ hidden_size: 64, num_attention_heads: 4, num_hidden_layers: 3, max_position_embeddings: 77, foo: 1 });
    expect([c.n_embd, c.n_head, c.n_layer, c.n_positions]).toEqual([64, 4, 3, 77]);
    expect('hidden_size' in c).toBe(false);
    expect((c as Record<string, unknown>).foo).toBe(1);
  });

  test('bad configs are errors naming the file and field', () => {
    expect(() => parseGpt2Config({ n_embd: 10, n_head: 4 }, 'x/config.json')).toThrow(
      'x/config.json: n_embd (10) must be divisible by n_head (4)',
    );
    expect(() => parseGpt2Config({ activation_function: 'swish2' }, 'c.json')).toThrow(/c\.json: activation_function "swish2" is unknown/);
    expect(() => parseGpt2Config({ model_type: 'opt' }, 'c.json')).toThrow(
      /model_type "opt" is not a GPT-2 checkpoint; known model types: gpt2/,
    );
    expect(() => parseGpt2Config({ n_layer: 0 }, 'c.json')).toThrow(/c\.json.*n_layer/);
    expect(() => parseGpt2Config({ add_cross_attention: true }, 'c.json')).toThrow(/add_cross_attention/);
    expect(() => parseGpt2Config([], 'c.json')).toThrow('c.json: expected a JSON object, got an array');
  });

  test('the recipe section takes a checkpoint or a config, strictly', () => {
    expect(parseConfig(gpt2SectionSchema, { checkpoint: 'models/gpt2' })).toEqual({ checkpoint: 'models/gpt2', ignoreUnexpected: false });
    const fresh = parseConfig(gpt2SectionSchema, { config: { n_embd: 16, n_head: 2 }, seed: 3 });
    expect(fresh.config?.n_layer).toBe(12);
    expect(() => parseConfig(gpt2SectionSchema, {})).toThrow(/exactly one of checkpoint/);
    expect(() => parseConfig(gpt2SectionSchema, { checkpoint: 'a', chekpoint: 'b' })).toThrow(/chekpoint/);
  });
});
