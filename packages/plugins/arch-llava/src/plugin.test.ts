import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { describe, expect, test } from '@jest/globals';
import { architectureContext, parseConfig, PluginRegistry } from '@mmft/core';
import { tinyCausalLmProvider, tinyVisionEncoderProvider } from '@mmft/core/testing';
import plugin from './index';
import { llavaProvider } from './plugin';

describe('arch-llava', () => {
  test('registers as architecture "llava" for model_type llava; a section needs checkpoint or config', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'llava')).toBe(llavaProvider);
    expect(llavaProvider.modelTypes).toEqual(['llava']);
    expect(llavaProvider.family).toBe('vision-to-llm');
    expect(() => parseConfig(llavaProvider, {})).toThrow(/exactly one of checkpoint/);
  });

  test('fromConfig builds the towers through the context; a non-vision tower is refused', async () => {
    const context = architectureContext({ list: () => [tinyVisionEncoderProvider, tinyCausalLmProvider, llavaProvider] });
    const config = { vision_config: { model_type: 'tiny_vision' }, text_config: { model_type: 'tiny-lm' }, image_token_index: 5 };
    const model = await llavaProvider.fromConfig(parseConfig(llavaProvider, { config, seed: 1 }), context);
    expect(model.family).toBe('vision-to-llm');
    expect(model.processor.imageTokens?.placement).toBe('placeholder');
    model.dispose();
    await expect(
      llavaProvider.fromConfig(parseConfig(llavaProvider, { config: { ...config, vision_config: { model_type: 'tiny-lm' } } }), context),
    ).rejects.toThrow(/vision_config\.model_type "tiny-lm" is built by "tiny-lm" \(family language-model\), not a vision encoder/);
    await expect(llavaProvider.fromConfig(parseConfig(llavaProvider, { config }), undefined)).rejects.toThrow(
      /through the plugin registry/,
    );
  });
});
