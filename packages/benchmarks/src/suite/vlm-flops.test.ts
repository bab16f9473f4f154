// The BLIP-2 FLOP count on a shape small enough to add up by hand (each term written out below),
// and the config it reads: sub-config defaults filled as arch-blip2 and the OPT plugin fill them.
import { describe, expect, test } from '@jest/globals';
import { blip2CaptionFlops, blip2ShapeOf, blip2Stage2Flops } from './vlm-flops';
import { filledBlip2Config } from './vlm-config';

// Image 16, patch 8 (4 patches + class = 5 tokens), vision width 8 / MLP 16 / 1 layer; Q-Former
// width 8 / MLP 16 / 2 layers, cross-attention in layer 0 only; 3 queries; OPT width 16, 2 layers,
// MLP 32, vocabulary 40, tied head.
const config = {
  num_query_tokens: 3,
  vision_config: { image_size: 16, patch_size: 8, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 },
  qformer_config: { hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2, cross_attention_frequency: 2 },
  text_config: { model_type: 'opt', vocab_size: 40, hidden_size: 16, ffn_dim: 32, num_hidden_layers: 2, num_attention_heads: 2 },
};

// Per image, by hand:
//   vision: patch conv 2·4·(3·8²)·8 = 12288; qkv+projection 4·2·5·8² = 2560; MLP 2·2·5·8·16 = 2560; attention 2·2·5²·8 = 800
const vision = 12288 + 2560 + 2560 + 800;
//   Q-Former weights: 2 layers × (self q/k/v/o 4·2·3·8² = 1536 + FFN 2·2·3·8·16 = 1536), cross q/o 2·2·3·8² = 768, projection 2·3·8·16 = 768
const qformer = 2 * (1536 + 1536) + 768 + 768;
//   Q-Former attention: self 2 × 2·2·3²·8 = 576, cross 2·2·3·5·8 = 480; cross keys/values over the image 2·2·5·8·8 = 1280
const qAttention = 576 + 480;
const crossKv = 1280;

describe('BLIP-2 FLOPs', () => {
  test('a stage-2 step: vision 1×, Q-Former and projection 3× (image keys/values 2×), the frozen OPT 2× weights + 3× attention', () => {
    // OPT over 3 + 2 = 5 positions: per token and layer 2·2·16² (q, k) + 2·2·16² (v, o) + 2·2·16·32 (MLP) = 4096; head 2·16·40 = 1280.
    const lmWeights = 5 * (2 * 4096 + 1280);
    const lmAttention = 2 * 2 * 2 * 5 * 5 * 16;
    const forward = vision + qformer + qAttention + crossKv + lmWeights + lmAttention;
    const step = vision + 3 * (qformer + qAttention) + 2 * crossKv + 2 * lmWeights + 3 * lmAttention;
    expect(blip2Stage2Flops(blip2ShapeOf(config), 2, 2)).toEqual({ forward: 2 * forward, step: 2 * step });
  });

  test('a caption call: the image side once, the prefill over [image × 3, bos] with one head, then two decode steps', () => {
    const prefill = 4 * 2 * 4096 + 2 * 2 * 2 * 4 * 4 * 16 + 1280;
    const decode = (keys: number) => 2 * (4096 + 2 * 2 * keys * 16) + 1280;
    expect(blip2CaptionFlops(blip2ShapeOf(config), 1, 3)).toBe(vision + qformer + qAttention + crossKv + prefill + decode(5) + decode(6));
  });

  test('the config is filled as the plugins fill it; a missing language model type is named', () => {
    const filled = filledBlip2Config({ text_config: { model_type: 'opt', hidden_size: 16 } }) as Record<string, Record<string, unknown>>;
    expect(filled.vision_config).toMatchObject({ hidden_size: 1408, layer_norm_eps: 1e-6, qkv_bias: true });
    expect(filled.qformer_config).toMatchObject({ cross_attention_frequency: 2, encoder_hidden_size: 1408, layer_norm_eps: 1e-12 });
    expect(filled.text_config).toMatchObject({ model_type: 'opt', hidden_size: 16, ffn_dim: 3072, enable_bias: true, dropout: 0.1 });
    expect(() => filledBlip2Config({ text_config: { model_type: 'no-such-lm' } })).toThrow(/no-such-lm/);
  });
});
