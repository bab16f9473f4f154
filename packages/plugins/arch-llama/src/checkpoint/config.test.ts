// LlamaConfig parsing: transformers' defaults (configuration_llama.py) and its derived fields, and
// errors that name the file and field.
import { describe, expect, test } from '@jest/globals';
import { parseLlamaConfig, ropeScalingOf } from './parse-config';

describe('parseLlamaConfig', () => {
  test('an empty config.json gets LlamaConfig() defaults (Llama-7B)', () => {
    const c = parseLlamaConfig({});
    expect(c).toMatchObject({
      model_type: 'llama',
      vocab_size: 32000,
      hidden_size: 4096,
      intermediate_size: 11008,
      num_hidden_layers: 32,
      num_attention_heads: 32,
      num_key_value_heads: 32,
      head_dim: 128,
      hidden_act: 'silu',
      max_position_embeddings: 2048,
      initializer_range: 0.02,
      rms_norm_eps: 1e-6,
      use_cache: true,
      pad_token_id: null,
      bos_token_id: 1,
      eos_token_id: 2,
      pretraining_tp: 1,
      tie_word_embeddings: false,
      rope_theta: 10000,
      rope_scaling: null,
      attention_bias: false,
      attention_dropout: 0,
      mlp_bias: false,
    });
  });

  test('num_key_value_heads null → num_attention_heads; head_dim null → hidden / heads; explicit values kept', () => {
    expect(parseLlamaConfig({ hidden_size: 64, num_attention_heads: 4, num_key_value_heads: null })).toMatchObject({
      num_key_value_heads: 4,
      head_dim: 16,
    });
    expect(parseLlamaConfig({ hidden_size: 64, num_attention_heads: 4, num_key_value_heads: 2, head_dim: 8 })).toMatchObject({
      num_key_value_heads: 2,
      head_dim: 8,
    });
  });

  test('unknown keys of the file (architectures, torch_dtype, transformers_version) are kept for saving', () => {
    const c = parseLlamaConfig({ architectures: ['LlamaForCausalLM'], torch_dtype: 'bfloat16' }) as Record<string, unknown>;
    expect(c.architectures).toEqual(['LlamaForCausalLM']);
    expect(c.torch_dtype).toBe('bfloat16');
  });

  test('eos_token_id may list several ids (Llama 3)', () => {
    expect(parseLlamaConfig({ eos_token_id: [128001, 128009] }).eos_token_id).toEqual([128001, 128009]);
  });

  test('rope: rope_theta read, legacy rope_scaling "type" read as rope_type, v5 rope_parameters folded', () => {
    expect(parseLlamaConfig({ rope_theta: 500000 }).rope_theta).toBe(500000);
    const linear = parseLlamaConfig({ rope_scaling: { type: 'linear', factor: 2 } });
    expect(ropeScalingOf(linear)).toEqual({ type: 'linear', factor: 2 });
    const v5 = parseLlamaConfig({ rope_parameters: { rope_type: 'default', rope_theta: 123 } });
    expect(v5.rope_theta).toBe(123);
    expect(ropeScalingOf(v5)).toBeNull();
    expect(ropeScalingOf(parseLlamaConfig({}))).toBeNull();
  });

  test.each([
    [{ model_type: 'opt' }, /config\.json: model_type "opt" is not a Llama checkpoint; known model types: llama/],
    [{ hidden_size: 10, num_attention_heads: 4 }, /hidden_size \(10\) must be divisible by num_attention_heads \(4\)/],
    [
      { num_attention_heads: 4, num_key_value_heads: 3, hidden_size: 16 },
      /num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/,
    ],
    [{ hidden_size: 12, num_attention_heads: 4 }, /head_dim \(3\) must be even/],
    [{ hidden_act: 'swiglu' }, /hidden_act "swiglu" is unknown; known: .*silu/],
    [{ rope_scaling: { rope_type: 'llama3', factor: 8 } }, /rope_scaling\.rope_type "llama3" is not supported; supported: default, linear/],
    [{ rope_scaling: { type: 'linear' } }, /rope_scaling\.factor must be a number ≥ 1/],
    [{ vocab_size: -1 }, /config\.json: field "vocab_size"/],
    [{ tie_word_embeddings: 'yes' }, /field "tie_word_embeddings": expected boolean/],
  ])('%j is refused naming the field', (raw, message) => {
    expect(() => parseLlamaConfig(raw, '/m/config.json')).toThrow(message);
  });

  test('a non-object is refused naming the file', () => {
    expect(() => parseLlamaConfig([1], '/m/config.json')).toThrow('/m/config.json: expected a JSON object, got an array');
  });
});
