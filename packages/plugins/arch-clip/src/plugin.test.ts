import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { container } from 'tsyringe';
import { ARCHITECTURES, type ArchitectureProvider } from '@mmft/core';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import plugin from './index';
import { createTinyClipCheckpoint } from './testing/tiny-checkpoint';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = await mkdtemp(join(tmpdir(), 'mmft-clip-plugin-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('@mmft/arch-clip plugin', () => {
  test('registers "clip" for model_type clip and "clip-vision" for clip_vision_model', () => {
    const child = container.createChildContainer();
    plugin.register(child);
    const providers = child.resolveAll<ArchitectureProvider>(ARCHITECTURES);
    expect(providers).toHaveLength(2);
    expect(providers[0]).toMatchObject({ kind: 'architecture', id: 'clip', family: 'dual-encoder', modelTypes: ['clip'] });
    expect(providers[1]).toMatchObject({
      kind: 'architecture',
      id: 'clip-vision',
      family: 'vision-encoder',
      modelTypes: ['clip_vision_model'],
    });
  });

  test('recipe section: checkpoint folder, or config fields + tokenizer folder (recipe keys never reach config.json)', async () => {
    const provider = plugin.provides[0] as ArchitectureProvider;
    const { dir } = await createTinyClipCheckpoint(join(tmp, 'tiny'), { seed: 2 });
    const loaded = await provider.fromConfig({ checkpoint: dir });
    expect(loaded.tokenizer).toBeDefined();
    const config = {
      projection_dim: 4,
      text_config: { hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 8 },
      vision_config: { hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 8, image_size: 8, patch_size: 4 },
    };
    const fresh = await provider.fromConfig({ seed: 3, config, tokenizer: dir });
    expect(fresh.config).not.toHaveProperty('seed');
    expect(fresh.config).not.toHaveProperty('tokenizer');
    expect(fresh.tokenizer).toBeDefined();
    expect(fresh.root.getModule('visual_projection').namedParameters()[0]![1].shape).toEqual([4, 8]);
    await expect(provider.fromConfig({ config: { projection_dim: -1 } })).rejects.toThrow(/projection_dim/);
    await expect(provider.fromConfig({ checkpoint: dir, config })).rejects.toThrow(/exactly one of checkpoint/);
    await expect(provider.fromConfig({ config, tokenizer: tmp })).rejects.toThrow(/has no tokenizer\.json/);
    loaded.dispose();
    fresh.dispose();
  });

  test('the same seed gives bit-identical checkpoints', async () => {
    const [a, b] = [join(tmp, 'a'), join(tmp, 'b')];
    await createTinyClipCheckpoint(a, { seed: 9 });
    await createTinyClipCheckpoint(b, { seed: 9 });
    expect((await readFile(join(a, 'model.safetensors'))).equals(await readFile(join(b, 'model.safetensors')))).toBe(true);
  });
});
