import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { isCausalLanguageModel, parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { OPTForCausalLM } from './opt-model';
import type { OptSectionConfig } from './config';
import { optProvider } from './plugin';
import { createTinyOptCheckpoint } from './testing/tiny-checkpoint';

let tmp: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-opt-plugin-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A recipe section as written (the provider fills the defaults). */
const section = (raw: Record<string, unknown>) => raw as unknown as OptSectionConfig;

describe('arch-opt', () => {
  test('registers as architecture "opt" of family language-model for model_type opt', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'opt')).toBe(optProvider);
    expect(optProvider.family).toBe('language-model');
    expect(optProvider.modelTypes).toEqual(['opt']);
  });

  test('the recipe section needs a checkpoint or a config', () => {
    expect(() => parseConfig(optProvider, {})).toThrow(/exactly one of checkpoint/);
    expect(parseConfig(optProvider, { checkpoint: '/models/opt' })).toEqual({ checkpoint: '/models/opt', ignoreUnexpected: false });
  });

  test('model: { checkpoint } loads the folder; model: { config, tokenizer, seed } builds fresh weights with that tokenizer', async () => {
    const { dir } = await createTinyOptCheckpoint(path.join(tmp, 'opt'), { seed: 41 });
    const loaded = await optProvider.fromConfig(section({ checkpoint: dir }));
    const fresh = await optProvider.fromConfig(
      section({
        config: {
          vocab_size: 512,
          hidden_size: 16,
          num_hidden_layers: 1,
          ffn_dim: 32,
          num_attention_heads: 2,
          max_position_embeddings: 32,
        },
        tokenizer: dir,
        seed: 5,
      }),
    );
    try {
      expect(loaded).toBeInstanceOf(OPTForCausalLM);
      expect(isCausalLanguageModel(loaded) && isCausalLanguageModel(fresh)).toBe(true);
      expect(loaded.root.training).toBe(false);
      expect(fresh.root.training).toBe(true);
      expect(fresh.processor.tokenizer!.encode(['a red circle']).inputIds).toEqual(
        loaded.processor.tokenizer!.encode(['a red circle']).inputIds,
      );
      expect(fresh.processor.towers).toEqual({ language: ['model.**'] });
      await expect(optProvider.fromConfig(section({ config: {}, tokenizer: tmp }))).rejects.toThrow(/has no tokenizer\.json/);
    } finally {
      loaded.dispose();
      fresh.dispose();
    }
  });
});
