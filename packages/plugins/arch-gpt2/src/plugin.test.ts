import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { isCausalLanguageModel, parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { GPT2LMHeadModel } from './gpt2-lm-head-model';
import { gpt2Provider } from './plugin';
import { createTinyGpt2Checkpoint } from './testing/tiny-checkpoint';

describe('arch-gpt2', () => {
  test('registers as architecture "gpt2" for model_type gpt2', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'gpt2')).toBe(gpt2Provider);
    expect(gpt2Provider.family).toBe('language-model');
    expect(gpt2Provider.modelTypes).toEqual(['gpt2']);
    expect(parseConfig(gpt2Provider, { checkpoint: 'models/gpt2' })).toEqual({ checkpoint: 'models/gpt2', ignoreUnexpected: false });
  });

  test('the recipe section builds from a checkpoint, or from config fields + a tokenizer folder', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-gpt2-provider-'));
    try {
      const { dir, config } = await createTinyGpt2Checkpoint(path.join(tmp, 'ckpt'), { seed: 2 });
      const loaded = await gpt2Provider.fromConfig({ checkpoint: dir } as never);
      expect(loaded).toBeInstanceOf(GPT2LMHeadModel);
      expect(isCausalLanguageModel(loaded)).toBe(true);
      expect(loaded.root.training).toBe(false);
      loaded.dispose();
      const fresh = await gpt2Provider.fromConfig({
        config: { n_embd: 16, n_head: 4, n_layer: 1, vocab_size: config.vocab_size },
        tokenizer: dir,
        seed: 3,
      } as never);
      expect(fresh.root.training).toBe(true);
      expect(fresh.tokenizer?.vocabSize).toBe(config.vocab_size);
      expect(fresh.tokenizer?.encode(['a red circle']).inputIds[0]!.length).toBe(3);
      const { logits } = (fresh as GPT2LMHeadModel).forward({ inputIds: tf.tensor2d([[1, 2]], undefined, 'int32') });
      expect(logits.shape).toEqual([1, 2, config.vocab_size]);
      logits.dispose();
      fresh.dispose();
      // A bridge hands its text_config over as `config:` (ArchitectureContext).
      const bridged = await gpt2Provider.fromConfig({
        config: { model_type: 'gpt2', n_embd: 8, n_head: 2, n_layer: 1, vocab_size: 20 },
      } as never);
      expect(bridged.config).toMatchObject({ n_embd: 8, vocab_size: 20 });
      bridged.dispose();
      await expect(gpt2Provider.fromConfig({ config: {}, tokenizer: tmp } as never)).rejects.toThrow(/has no tokenizer\.json/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
