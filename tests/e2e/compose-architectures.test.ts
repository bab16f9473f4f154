// A bridge architecture (as LLaVA is: a vision tower and an LM from other model types) builds a
// part through another plugin via the registry's ArchitectureContext, never importing it. Here a
// test bridge composes @mmft/arch-clip's CLIPModel, loaded by package name like any built-in.
import 'reflect-metadata';
import { describe, expect, test } from '@jest/globals';
import { createCliContext } from '@mmft/cli';
import { architectureContext, type ArchitectureProvider, type VisionLanguageModel } from '@mmft/core';
import { Linear } from '@mmft/core/nn';

type Section = { config: Record<string, unknown> };

const TINY_CLIP = {
  projection_dim: 4,
  text_config: {
    vocab_size: 12,
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    max_position_embeddings: 8,
  },
  vision_config: { hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, image_size: 8, patch_size: 4 },
};

/**
 * The bridge provider's fromConfig: `clip_config` is built by whichever plugin declares its
 * model_type; the projector is the bridge's own.
 */
const bridge: Pick<ArchitectureProvider<Section>, 'fromConfig'> = {
  async fromConfig({ config }, context) {
    const sub = config.clip_config as Record<string, unknown>;
    const clip = await context!.resolveModelType(String(sub.model_type)).fromConfig({ config: sub, seed: 0 }, context);
    clip.root.registerModule('multi_modal_projector', new Linear(4, 6, { seed: 1 }));
    const towers = { ...Object.fromEntries(Object.entries(clip.processor.towers)), projector: ['multi_modal_projector.**'] };
    const model: VisionLanguageModel = {
      ...clip,
      modelType: 'test_bridge',
      family: 'vision-to-llm',
      processor: { ...clip.processor, towers },
      forward: (i) => clip.forward(i),
      save: (d, o) => clip.save(d, o),
      dispose: () => clip.dispose(),
    };
    return model;
  },
};

describe('architectures compose through the registry', () => {
  test("a bridge builds @mmft/arch-clip's model from its sub-config by model_type", async () => {
    const registry = await createCliContext({ isTTY: false }).createRegistry();
    const backend = registry.resolve('backend', 'tfjs');
    await backend.select(backend.configSchema.parse({ prefer: ['cpu'] }));
    const model = await bridge.fromConfig({ config: { clip_config: { model_type: 'clip', ...TINY_CLIP } } }, architectureContext(registry));
    const names = model.root.namedParameters().map(([n]) => n);
    expect(names).toEqual(
      expect.arrayContaining(['vision_model.embeddings.class_embedding', 'visual_projection.weight', 'multi_modal_projector.weight']),
    );
    expect(model.processor.towers.vision).toEqual(['vision_model.**', 'visual_projection.**']);
    expect(model.processor.towers.projector).toEqual(['multi_modal_projector.**']);
    expect(model.processor.tokenizer).toBeUndefined(); // fresh weights without a tokenizer folder
    model.dispose();
    expect(() => registry.resolveModelType('mllama')).toThrow(
      /model_type "mllama" has no architecture plugin; known: blip-2, clip, clip_vision_model, gpt2, idefics, llama, llava, opt/,
    );
  });
});
