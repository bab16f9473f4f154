import { describe, expect, test } from '@jest/globals';
import { openFlamingoToIdeficsKey as map } from './open-flamingo-keys';

// open_flamingo keys as filter_state_dict_to_trainable leaves them (open_flamingo/train/train_utils.py) for a Llama LM.
describe('open_flamingo → IDEFICS key names', () => {
  test('perceiver: renamed one to one, to_kv split into k_proj and v_proj, the GELU MLP marked as differing', () => {
    expect(map('perceiver.latents')).toEqual({ idefics: ['model.perceiver_resampler.latents'], kind: 'same' });
    expect(map('perceiver.layers.2.0.norm_media.bias')?.idefics).toEqual(['model.perceiver_resampler.blocks.2.0.context_layer_norm.bias']);
    expect(map('perceiver.layers.0.0.norm_latents.weight')?.idefics).toEqual([
      'model.perceiver_resampler.blocks.0.0.latents_layer_norm.weight',
    ]);
    expect(map('perceiver.layers.0.0.to_q.weight')?.idefics).toEqual(['model.perceiver_resampler.blocks.0.0.q_proj.weight']);
    expect(map('perceiver.layers.0.0.to_kv.weight')).toEqual({
      idefics: ['model.perceiver_resampler.blocks.0.0.k_proj.weight', 'model.perceiver_resampler.blocks.0.0.v_proj.weight'],
      kind: 'split-kv',
    });
    expect(map('perceiver.layers.0.0.to_out.weight')?.idefics).toEqual(['model.perceiver_resampler.blocks.0.0.output_proj.weight']);
    expect(map('perceiver.layers.5.1.0.weight')?.idefics).toEqual(['model.perceiver_resampler.blocks.5.1.ln.weight']);
    expect(map('perceiver.layers.5.1.1.weight')).toMatchObject({
      idefics: ['model.perceiver_resampler.blocks.5.1.fc.weight'],
      kind: 'differs',
    });
    expect(map('perceiver.layers.5.1.3.weight')?.idefics).toEqual(['model.perceiver_resampler.blocks.5.1.c_proj.weight']);
    expect(map('perceiver.norm.weight')?.idefics).toEqual(['model.perceiver_resampler.layer_norm.weight']);
  });

  test('gates: attn_gate → alpha_cross_attn, ff_gate → alpha_dense; block index from open_flamingo’s (i+1) % n placement', () => {
    // n = 4: open_flamingo has blocks at layers 3, 7, ...; IDEFICS block j runs before layer 4j.
    expect(map('lang_encoder.model.layers.3.gated_cross_attn_layer.attn_gate', 4)).toEqual({
      idefics: ['model.gated_cross_attn_layers.0.alpha_cross_attn'],
      kind: 'same',
      note: 'before decoder layer 3 in open_flamingo, 0 in IDEFICS',
    });
    expect(map('lang_encoder.model.layers.7.gated_cross_attn_layer.ff_gate', 4)?.idefics).toEqual([
      'model.gated_cross_attn_layers.1.alpha_dense',
    ]);
    expect(map('lang_encoder.model.layers.2.gated_cross_attn_layer.ff_gate', 4)).toBeUndefined();
    expect(map('lang_encoder.model.layers.2.gated_cross_attn_layer.attn.to_kv.weight')).toMatchObject({
      idefics: ['model.gated_cross_attn_layers.2.cross_attn.k_proj.weight', 'model.gated_cross_attn_layers.2.cross_attn.v_proj.weight'],
      kind: 'split-kv',
    });
    expect(map('lang_encoder.model.layers.0.gated_cross_attn_layer.attn.to_out.weight')?.idefics).toEqual([
      'model.gated_cross_attn_layers.0.cross_attn.o_proj.weight',
    ]);
    expect(map('lang_encoder.model.layers.0.gated_cross_attn_layer.attn.norm.bias')).toMatchObject({ idefics: [], kind: 'differs' });
    expect(map('lang_encoder.model.layers.0.gated_cross_attn_layer.ff.1.weight')).toMatchObject({ kind: 'none' });
  });

  test('language model and vision keys', () => {
    expect(map('lang_encoder.model.layers.1.decoder_layer.self_attn.q_proj.weight')?.idefics).toEqual([
      'model.layers.1.self_attn.q_proj.weight',
    ]);
    expect(map('lang_encoder.model.embed_tokens.weight')?.idefics).toEqual(['model.embed_tokens.weight']);
    expect(map('lang_encoder.lm_head.weight')?.idefics).toEqual(['lm_head.weight']);
    expect(map('lang_encoder.old_decoder_blocks.0.mlp.up_proj.weight')?.kind).toBe('none');
    expect(map('vision_encoder.visual.conv1.weight')?.kind).toBe('none');
    expect(map('optimizer.state')).toBeUndefined();
  });
});
