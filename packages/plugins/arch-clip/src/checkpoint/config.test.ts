import { describe, expect, test } from '@jest/globals';
import { parseClipConfig } from './parse-config';
import { imageProcessorJson, OPENAI_CLIP_MEAN, parseImageProcessing } from './preprocessor';

describe('config.json defaults are configuration_clip.py defaults', () => {
  test('empty config = openai/clip-vit-base-patch32 shapes', () => {
    const c = parseClipConfig({});
    expect(c).toMatchObject({ model_type: 'clip', projection_dim: 512, logit_scale_init_value: 2.6592 });
    expect(c.text_config).toMatchObject({
      vocab_size: 49408,
      hidden_size: 512,
      intermediate_size: 2048,
      projection_dim: 512,
      num_hidden_layers: 12,
      num_attention_heads: 8,
      max_position_embeddings: 77,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      attention_dropout: 0,
      initializer_range: 0.02,
      initializer_factor: 1,
      pad_token_id: 1,
      bos_token_id: 49406,
      eos_token_id: 49407,
    });
    expect(c.vision_config).toMatchObject({
      hidden_size: 768,
      intermediate_size: 3072,
      projection_dim: 512,
      num_hidden_layers: 12,
      num_attention_heads: 12,
      num_channels: 3,
      image_size: 224,
      patch_size: 32,
      hidden_act: 'quick_gelu',
      layer_norm_eps: 1e-5,
      attention_dropout: 0,
      initializer_range: 0.02,
    });
  });

  test('legacy text_config_dict overrides text_config, unknown keys are kept', () => {
    const c = parseClipConfig({
      text_config: { hidden_size: 64, num_attention_heads: 4 },
      text_config_dict: { hidden_size: 32 },
      _name_or_path: 'x',
    });
    expect(c.text_config.hidden_size).toBe(32);
    expect(c.text_config.num_attention_heads).toBe(4);
    expect((c as Record<string, unknown>)._name_or_path).toBe('x');
    expect((c as Record<string, unknown>).text_config_dict).toBeUndefined();
  });

  test('errors name the file and field', () => {
    expect(() => parseClipConfig({ vision_config: { hidden_size: 10, num_attention_heads: 3 } }, 'm/config.json')).toThrow(
      'm/config.json: vision_config.hidden_size (10) must be divisible by vision_config.num_attention_heads (3)',
    );
    expect(() => parseClipConfig({ text_config: { hidden_act: 'swishy' } }, 'c.json')).toThrow(
      /text_config.hidden_act "swishy" is unknown; known: .*quick_gelu/,
    );
    expect(() => parseClipConfig({ text_config: { hidden_size: 'big' } }, 'c.json')).toThrow(/c.json: field "text_config.hidden_size"/);
    expect(() => parseClipConfig({ model_type: 'llava' }, 'c.json')).toThrow(
      /model_type "llava" is not a CLIP checkpoint; known model types: clip/,
    );
  });
});

describe('preprocessor_config.json', () => {
  test('old int layout and new dict layout give the same ImageProcessing', () => {
    const old = parseImageProcessing({ size: 224, crop_size: 224, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] }, 224);
    const recent = parseImageProcessing(
      { size: { shortest_edge: 224 }, crop_size: { height: 224, width: 224 }, image_mean: [0.5, 0.5, 0.5], image_std: [0.5, 0.5, 0.5] },
      224,
    );
    expect(recent).toEqual(old);
    expect(old).toEqual({ size: 224, cropSize: 224, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
  });

  test('absent file: CLIPImageProcessor defaults at the model image size; round trip through the writer', () => {
    const p = parseImageProcessing(undefined, 64);
    expect(p).toEqual({ size: 64, cropSize: 64, mean: [...OPENAI_CLIP_MEAN], std: expect.any(Array) });
    expect(parseImageProcessing(imageProcessorJson(p), 999)).toEqual(p);
  });

  test('bad fields are errors naming the field', () => {
    expect(() => parseImageProcessing({ image_mean: [0.5] }, 224)).toThrow(/"image_mean" must be a list of 3 numbers/);
    expect(() => parseImageProcessing({ crop_size: { height: 224, width: 200 } }, 224)).toThrow(/"crop_size"/);
  });
});
