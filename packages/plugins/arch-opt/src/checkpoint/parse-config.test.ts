import { describe, expect, test } from '@jest/globals';
import { parseConfig } from '@mmft/core';
import { optSectionSchema } from '../config';
import { hasFinalLayerNorm, hasProjections, parseOptConfig } from './parse-config';

describe('OPT config.json', () => {
  test("an empty config has OPTConfig's defaults (configuration_opt.py)", () => {
    const config = parseOptConfig({});
    expect(config).toMatchObject({
      model_type: 'opt',
      vocab_size: 50272,
      hidden_size: 768,
      num_hidden_layers: 12,
      ffn_dim: 3072,
      max_position_embeddings: 2048,
      do_layer_norm_before: true,
      _remove_final_layer_norm: false,
      word_embed_proj_dim: 768,
      dropout: 0.1,
      attention_dropout: 0,
      num_attention_heads: 12,
      activation_function: 'relu',
      layerdrop: 0,
      init_std: 0.02,
      use_cache: true,
      pad_token_id: 1,
      bos_token_id: 2,
      eos_token_id: 2,
      enable_bias: true,
      layer_norm_elementwise_affine: true,
      tie_word_embeddings: true,
    });
    expect(hasFinalLayerNorm(config)).toBe(true);
    expect(hasProjections(config)).toBe(false);
  });

  test("opt-350m's shape: post-LN, no final LayerNorm, word embeddings of 512 projected to 1024", () => {
    const config = parseOptConfig({ hidden_size: 1024, num_attention_heads: 16, do_layer_norm_before: false, word_embed_proj_dim: 512 });
    expect(config.word_embed_proj_dim).toBe(512);
    expect(hasFinalLayerNorm(config)).toBe(false);
    expect(hasProjections(config)).toBe(true);
    expect(hasFinalLayerNorm(parseOptConfig({ _remove_final_layer_norm: true }))).toBe(false);
  });

  test('word_embed_proj_dim null means hidden_size; unknown hub fields are kept (save writes them back)', () => {
    const config = parseOptConfig({
      hidden_size: 64,
      num_attention_heads: 4,
      word_embed_proj_dim: null,
      prefix: '</s>',
      activation_dropout: 0,
    });
    expect(config.word_embed_proj_dim).toBe(64);
    expect(config).toMatchObject({ prefix: '</s>', activation_dropout: 0 });
  });

  test('errors name the file and the field', () => {
    expect(() => parseOptConfig({ hidden_size: 10, num_attention_heads: 4 }, 'dir/config.json')).toThrow(
      /dir\/config.json: hidden_size \(10\) must be divisible by num_attention_heads \(4\)/,
    );
    expect(() => parseOptConfig({ activation_function: 'swish2' }, 'c.json')).toThrow(
      /c.json: activation_function "swish2" is unknown; known: .*relu/,
    );
    expect(() => parseOptConfig({ model_type: 'gpt2' }, 'c.json')).toThrow(/c.json: model_type "gpt2" is not an OPT checkpoint/);
    expect(() => parseOptConfig({ ffn_dim: 'wide' }, 'c.json')).toThrow(/c.json.*ffn_dim/);
    expect(() => parseOptConfig([], 'c.json')).toThrow(/expected a JSON object, got an array/);
  });
});

describe('recipe section model: { type: opt }', () => {
  test('exactly one of checkpoint or config', () => {
    expect(parseConfig(optSectionSchema, { checkpoint: '/m' })).toMatchObject({ checkpoint: '/m', ignoreUnexpected: false });
    expect(parseConfig(optSectionSchema, { config: { hidden_size: 32 }, seed: 3 }).config?.hidden_size).toBe(32);
    expect(() => parseConfig(optSectionSchema, {})).toThrow(/exactly one of checkpoint/);
    expect(() => parseConfig(optSectionSchema, { checkpoint: '/m', config: {} })).toThrow(/exactly one of checkpoint/);
    expect(() => parseConfig(optSectionSchema, { checkpoint: '/m', checkpont: 1 })).toThrow(/checkpont/);
  });
});
