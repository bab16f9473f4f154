// The "llama" provider: registration, its recipe section, and building from a checkpoint or from
// config fields + a tokenizer folder.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import { parseConfig, PluginRegistry } from '@mmft/core';
import plugin from './index';
import { LlamaForCausalLM } from './llama-for-causal-lm';
import type { LlamaSectionConfig } from './config';
import { llamaProvider } from './plugin';
import { createTinyLlamaCheckpoint } from './testing/tiny-checkpoint';

// Recipe sections arrive unparsed; the provider parses them.
const build = (raw: unknown) => llamaProvider.fromConfig(raw as LlamaSectionConfig);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-llama-plugin-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('arch-llama', () => {
  test('registers as architecture "llama" (family language-model, model_type llama)', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, plugin.meta.name);
    expect(registry.resolve('architecture', 'llama')).toBe(llamaProvider);
    expect(llamaProvider.family).toBe('language-model');
    expect(llamaProvider.modelTypes).toEqual(['llama']);
  });

  test('the section needs exactly one of checkpoint or config; misspelt keys are named', () => {
    expect(parseConfig(llamaProvider, { checkpoint: 'm' })).toEqual({ checkpoint: 'm', ignoreUnexpected: false });
    expect(() => parseConfig(llamaProvider, {})).toThrow(/exactly one of checkpoint .* or config/);
    expect(() => parseConfig(llamaProvider, { checkpoint: 'm', config: {} })).toThrow(/exactly one of/);
    expect(() => parseConfig(llamaProvider, { checkpont: 'm' })).toThrow(/unknown field "checkpont"; did you mean "checkpoint"\?/);
  });

  test('fromConfig builds from a checkpoint folder, or from config fields + a tokenizer folder with a seed', async () => {
    const { dir } = await createTinyLlamaCheckpoint(path.join(tmp, 'tiny'), { seed: 3 });
    const loaded = (await build({ checkpoint: dir })) as LlamaForCausalLM;
    const fresh = (await build({
      config: { hidden_size: 8, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: loaded.config.vocab_size },
      tokenizer: dir,
      seed: 1,
    })) as LlamaForCausalLM;
    try {
      expect(loaded).toBeInstanceOf(LlamaForCausalLM);
      expect(loaded.config.num_key_value_heads).toBe(2);
      expect(fresh.config.hidden_size).toBe(8);
      expect(fresh.tokenizer?.encode(['a red circle']).inputIds[0]![0]).toBe(1); // <s> from add_bos_token
      await expect(build({ config: {}, tokenizer: tmp })).rejects.toThrow(/tokenizer folder .* has no tokenizer\.json/);
    } finally {
      loaded.dispose();
      fresh.dispose();
    }
  });
});
