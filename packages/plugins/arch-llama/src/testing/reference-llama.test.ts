// The plain-JS reference checked on cases worked by hand, so the parity tests compare against
// something known to be right.
import { describe, expect, test } from '@jest/globals';
import { parseLlamaConfig } from '../checkpoint/parse-config';
import { refCausalLmLoss, refLlamaLogits, refPositionsFromMask, refRmsNorm, refRotate } from './reference-llama';

describe('reference Llama', () => {
  test('RMSNorm of [3, 4]: rms = √12.5, times the weight', () => {
    const [row] = refRmsNorm([[3, 4]], [1, 2], 0);
    expect(row![0]).toBeCloseTo(3 / Math.sqrt(12.5), 12);
    expect(row![1]).toBeCloseTo((2 * 4) / Math.sqrt(12.5), 12);
  });

  test('rotate_half rope: position 0 is the identity; head_dim 4 pairs (x0, x2) at angle p and (x1, x3) at p / √theta', () => {
    expect(refRotate([1, 2, 3, 4], 0, 10000)).toEqual([1, 2, 3, 4]);
    const p = 2;
    const [a, b] = [p, p / 100]; // theta^(2·1/4) = 100
    const out = refRotate([1, 2, 3, 4], p, 10000);
    const expected = [
      1 * Math.cos(a) - 3 * Math.sin(a),
      2 * Math.cos(b) - 4 * Math.sin(b),
      3 * Math.cos(a) + 1 * Math.sin(a),
      4 * Math.cos(b) + 2 * Math.sin(b),
    ];
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
    // linear scaling: position 4 with factor 2 is position 2 unscaled
    refRotate([1, 2, 3, 4], 4, 10000, 2).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 12));
  });

  test('positions from a left-padded mask: cumsum − 1, pads 1', () => {
    expect(refPositionsFromMask([0, 0, 1, 1, 1])).toEqual([1, 1, 0, 1, 2]);
    expect(refPositionsFromMask([1, 1, 1])).toEqual([0, 1, 2]);
  });

  test('a zero-layer model with identity norm weights is lm_head(rmsnorm(embedding))', () => {
    const config = {
      ...parseLlamaConfig({ vocab_size: 3, hidden_size: 2, num_attention_heads: 1 }),
      num_hidden_layers: 0,
      rms_norm_eps: 0,
    };
    const weights = new Map<string, unknown>([
      [
        'model.embed_tokens.weight',
        [
          [1, 0],
          [0, 2],
          [3, 4],
        ],
      ],
      ['model.norm.weight', [1, 1]],
      [
        'lm_head.weight',
        [
          [1, 1],
          [1, -1],
          [0, 1],
        ],
      ],
    ]);
    const [rows] = refLlamaLogits(weights, config, { inputIds: [[2]] });
    const [x, y] = [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5)];
    expect(rows![0]![0]).toBeCloseTo(x + y, 12);
    expect(rows![0]![1]).toBeCloseTo(x - y, 12);
    expect(rows![0]![2]).toBeCloseTo(y, 12);
  });

  test('loss: ln(V) for uniform logits; ignores -100 and the last position', () => {
    const logits = [
      [
        [0, 0, 0, 0],
        [5, 0, 0, 0],
        [1, 2, 3, 4],
      ],
    ];
    expect(refCausalLmLoss(logits, [[9, 2, -100]])).toBeCloseTo(Math.log(4), 12);
  });
});
