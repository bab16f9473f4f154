// The LM FLOP count against hand counts of the two benchmark shapes, and its invariants.
import { describe, expect, test } from '@jest/globals';
import { lmDecodeStepFlops, lmPrefillFlops, lmShapeOf, lmTrainFlops } from './lm-flops';

const llama = lmShapeOf('llama', {
  vocab_size: 4096,
  hidden_size: 256,
  intermediate_size: 688,
  num_hidden_layers: 4,
  num_attention_heads: 8,
  num_key_value_heads: 4,
  head_dim: null,
});
const opt = lmShapeOf('opt', { vocab_size: 4096, hidden_size: 256, ffn_dim: 1024, num_hidden_layers: 4, num_attention_heads: 4 });

describe('lmShapeOf', () => {
  test('Llama: grouped key/value heads narrow k and v; the MLP is gated', () => {
    expect(llama).toEqual({
      layers: 4,
      width: 256,
      queryWidth: 256,
      keyValueWidth: 128,
      mlp: 688,
      gated: true,
      vocab: 4096,
      embedWidth: 256,
    });
    expect(opt).toMatchObject({ queryWidth: 256, keyValueWidth: 256, mlp: 1024, gated: false, embedWidth: 256 });
    expect(() => lmShapeOf('bert', {})).toThrow(/bert/);
    expect(() => lmShapeOf('llama', { hidden_size: 8 })).toThrow(/num_attention_heads/);
  });
});

describe('lmTrainFlops', () => {
  test('forward of one 128-token Llama row by hand', () => {
    const T = 128;
    const perLayer = T * (2 * 256 * 256 * 2 + 2 * 256 * 128 * 2 + 3 * 2 * 256 * 688) + 4 * T * T * 256;
    expect(lmTrainFlops(llama, 1, T).forward).toBe(4 * perLayer + T * 2 * 256 * 4096);
  });

  test('full fine-tuning is 3× forward; LoRA costs less but more than a forward; both scale with the batch', () => {
    const full = lmTrainFlops(opt, 8, 128);
    const lora = lmTrainFlops(opt, 8, 128, { r: 8, targets: ['q_proj', 'v_proj'] });
    expect(full.step).toBe(3 * full.forward);
    expect(lora.step).toBeLessThan(full.step);
    expect(lora.step).toBeGreaterThan(2 * lora.forward);
    // LoRA's own GEMMs: 2·r·(in + out) per token, layer and adapted module.
    expect(lora.forward - full.forward).toBe(8 * 4 * 128 * 2 * (2 * 8 * (256 + 256)));
    expect(lmTrainFlops(opt, 8, 128).forward).toBe(8 * lmTrainFlops(opt, 1, 128).forward);
  });
});

describe('generation FLOPs', () => {
  test('a one-token prompt costs one decode step over one key; a prefill (full T×T scores) is T steps over T keys but one head', () => {
    expect(lmPrefillFlops(llama, 1, 1)).toBe(lmDecodeStepFlops(llama, 1, 1));
    const head = 2 * 256 * 4096;
    expect(lmPrefillFlops(llama, 1, 64) - head).toBe(64 * (lmDecodeStepFlops(llama, 1, 64) - head));
    expect(lmDecodeStepFlops(opt, 8, 80)).toBe(8 * lmDecodeStepFlops(opt, 1, 80));
    expect(lmDecodeStepFlops(opt, 1, 81) - lmDecodeStepFlops(opt, 1, 80)).toBe(4 * 2 * 2 * 256);
  });
});
