// composeLlava at toy size: the added `<image>` token's mean rows (recomputed in float64 from the
// language model's embedding) and the reuse of an `<image>` the tokenizer already has. The token
// helpers themselves are tested in packages/core/src/hf/added-tokens.test.ts; the real CLIP + Llama
// composition runs in tests/e2e/llava-compose.test.ts.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { architectureContext, MmftError, parseConfig, type ArchitectureProvider } from '@mmft/core';
import { byteLevelBpeTokenizerFiles, readTokenizerFiles, tokenizerFromFiles, withAddedSpecialToken } from '@mmft/core/hf';
import { tinyCausalLm, tinyCausalLmProvider, tinyVisionEncoderProvider } from '@mmft/core/testing';
import { composeLlava } from './compose';
import { llavaProvider } from './plugin';

describe('composeLlava with a toy language model folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llava-compose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // tiny-lm stands in for a causal-LM folder: its weights are those of seed 5, its embedding has as
  // many rows as config.vocab_size (the tokenizer padded with filler added tokens past its own),
  // as a Llama's embedding is sized by config.json rather than by its tokenizer.
  async function toyLm(config: Record<string, unknown>, tokenizerDir: string | undefined, seed: number) {
    let files = tokenizerDir
      ? await readTokenizerFiles(tokenizerDir)
      : byteLevelBpeTokenizerFiles({ flavour: 'gpt2', padToken: '<|endoftext|>' });
    const own = tokenizerFromFiles(files)!.vocabSize;
    for (let id = own; typeof config.vocab_size === 'number' && id < config.vocab_size; id++)
      files = withAddedSpecialToken(files, `<filler_${id}>`, id);
    return tinyCausalLm({ hiddenSize: (config.hidden_size as number | undefined) ?? 6, seed, tokenizerFiles: files });
  }
  const folderLm: ArchitectureProvider = {
    ...tinyCausalLmProvider,
    async fromConfig(raw) {
      const section = raw as { config: Record<string, unknown>; tokenizer?: string; seed?: number };
      return toyLm(section.config, section.tokenizer, section.seed ?? 1);
    },
    async fromPretrained(from) {
      return toyLm({ hidden_size: 6 }, from, 5);
    },
  };
  const context = architectureContext({ list: () => [tinyVisionEncoderProvider, folderLm, llavaProvider] });
  const vision = { model_type: 'tiny_vision', hidden_size: 4, image_size: 4, patch_size: 2, num_hidden_layers: 2 };

  function writeLmFolder(name: string, withImage: boolean): { folder: string; v: number } {
    const folder = join(dir, name);
    let files = byteLevelBpeTokenizerFiles({ flavour: 'gpt2', padToken: '<|endoftext|>' });
    const v = tokenizerFromFiles(files)!.vocabSize;
    if (withImage) files = withAddedSpecialToken(files, '<image>', v);
    mkdirSync(folder, { recursive: true });
    for (const [file, bytes] of files) writeFileSync(join(folder, file), bytes);
    const size = withImage ? v + 1 : v;
    writeFileSync(join(folder, 'config.json'), JSON.stringify({ model_type: 'tiny-lm', hidden_size: 6, vocab_size: size }));
    return { folder, v };
  }

  test('a tokenizer without <image>: id = vocab size, one more row, the mean of the old rows; other rows unchanged', async () => {
    const { folder, v } = writeLmFolder('no-image', false);
    const { model, report } = await composeLlava({ vision_config: vision }, { language_model: folder }, context, { seed: 2 });
    const reference = await toyLm({ hidden_size: 6 }, folder, 5);
    try {
      expect(report.languageModel?.imageToken).toEqual({ id: v, added: true });
      expect(model.config.image_token_index).toBe(v);
      expect(model.config.text_config.vocab_size).toBe(v + 1);
      expect(model.tokenizer!.encode(['<image>'], { addSpecialTokens: false }).inputIds[0]).toEqual([v]);
      const old = reference.root.stateDict().get('model.embed_tokens.weight')!.dataSync();
      const grown = model.root.stateDict().get('language_model.model.embed_tokens.weight')!;
      expect(grown.shape).toEqual([v + 1, 6]);
      const values = grown.dataSync();
      expect(Array.from(values.subarray(0, v * 6))).toEqual(Array.from(old));
      for (let j = 0; j < 6; j++) {
        let sum = 0;
        for (let r = 0; r < v; r++) sum += old[r * 6 + j]!;
        expect(values[v * 6 + j]).toBeCloseTo(sum / v, 6);
      }
      // The image span is scattered in: 4 features for a 4-pixel image in 2-pixel patches, CLS dropped.
      const out = model.forward({ inputIds: tf.tensor2d([[0, v, v, v, v, 1]], [1, 6], 'int32'), pixelValues: tf.ones([1, 3, 4, 4]) });
      expect(out.logits.shape).toEqual([1, 6, v + 1]);
    } finally {
      model.dispose();
      reference.dispose();
    }
  });

  test('a tokenizer that has <image> keeps its id and the vocabulary size; an explicit image_token_index adds nothing', async () => {
    const { folder, v } = writeLmFolder('with-image', true);
    const first = await composeLlava({ vision_config: vision }, { language_model: folder }, context);
    expect(first.report.languageModel?.imageToken).toEqual({ id: v, added: false });
    expect(first.model.config.text_config.vocab_size).toBe(v + 1);
    first.model.dispose();
    const { folder: plain, v: size } = writeLmFolder('explicit', false);
    const second = await composeLlava({ vision_config: vision, image_token_index: 3 }, { language_model: plain }, context);
    expect(second.report.languageModel?.imageToken).toBeUndefined();
    expect(second.model.config.image_token_index).toBe(3);
    expect(second.model.config.text_config.vocab_size).toBe(size);
    second.model.dispose();
  });

  test("the section's config keeps only what the recipe wrote (no LlavaConfig defaults over the parts)", () => {
    const section = parseConfig(llavaProvider, { config: { vision_feature_layer: -1 }, init: { language_model: 'lm' } });
    expect(section.config).toEqual({ vision_feature_layer: -1 });
    expect(() => parseConfig(llavaProvider, { config: { vision_feature_select_strategy: 'cls' } })).toThrow(
      /vision_feature_select_strategy/,
    );
  });

  test('errors name the folder: a vision folder that is not CLIP, a text_config.model_type the folder contradicts', async () => {
    const { folder } = writeLmFolder('errors', false);
    await expect(composeLlava({}, { vision: folder }, context)).rejects.toThrow(
      /init\.vision: .*errors\/config\.json has model_type "tiny-lm"; init\.vision takes clip/,
    );
    await expect(
      composeLlava({ vision_config: vision, text_config: { model_type: 'llama' } }, { language_model: folder }, context),
    ).rejects.toThrow(MmftError);
    await expect(
      composeLlava({ vision_config: vision, text_config: { model_type: 'llama' } }, { language_model: folder }, context),
    ).rejects.toThrow(/text_config\.model_type is "llama" but init\.language_model \(.*errors\) holds a "tiny-lm" model/);
  });
});
