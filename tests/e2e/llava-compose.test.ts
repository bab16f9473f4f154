// A LLaVA composed from the embedded parts (models/clip-shapes-base's vision tower,
// models/llama-shapes-base) through the CLI's registry: the parts' weights arrive unchanged, the
// `<image>` token the Llama tokenizer lacks is added at id vocab_size with the embedding and
// (untied) lm_head rows the mean of the old rows, as transformers' resize_token_embeddings centres
// them, and the model runs, saves and loads back with it.
import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { createCliContext } from '@mmft/cli';
import { architectureContext, type VisionLanguageModel } from '@mmft/core';
import { readSafetensors } from '@mmft/core/io';

const ROOT = join(__dirname, '..', '..');
const CLIP = join(ROOT, 'models', 'clip-shapes-base');
const LLAMA = join(ROOT, 'models', 'llama-shapes-base');

type Llava = VisionLanguageModel & { numImageTokens: number; config: Record<string, any>; save(dir: string): Promise<void> };

/** Largest |a − b| (a plain loop: jest's toEqual is slow on 10⁵-element arrays). */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Row means in float64 of a [rows, width] tensor. */
function rowMean(data: Float32Array, rows: number, width: number): number[] {
  const mean = new Array<number>(width).fill(0);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) mean[j]! += data[r * width + j]!;
  return mean.map((m) => m / rows);
}

describe('LLaVA composed from CLIP and Llama folders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llava-compose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('parts copied, <image> added with mean rows, 64 image features, forward and save/load round trip', async () => {
    const registry = await createCliContext({ isTTY: false }).createRegistry();
    const backend = registry.resolve('backend', 'tfjs');
    await backend.select(backend.configSchema.parse({ prefer: ['cpu'] }));
    const context = architectureContext(registry);
    const provider = registry.resolveModelType('llava');
    const raw = { config: {}, init: { vision: CLIP, language_model: LLAMA }, seed: 4 };
    const model = (await provider.fromConfig(raw, context)) as Llava;
    let loaded: Llava | undefined;
    try {
      // clip-shapes-base: 64 px in 8 px patches, CLS dropped by the default strategy: (64/8)² = 64.
      expect(model.numImageTokens).toBe(64);
      const llamaConfig = JSON.parse(readFileSync(join(LLAMA, 'config.json'), 'utf8')) as { vocab_size: number; hidden_size: number };
      const v = llamaConfig.vocab_size; // 654: ids 0..653, <pad> the last
      const d = llamaConfig.hidden_size;
      expect(model.config.image_token_index).toBe(v);
      expect(model.config.text_config.vocab_size).toBe(v + 1);
      expect(model.config.vision_config.model_type).toBe('clip_vision_model');
      expect(model.tokenizer!.encode(['<image>'], { addSpecialTokens: false }).inputIds[0]).toEqual([v]);
      expect(model.tokenizer!.encode(['a <image>'], { addSpecialTokens: false }).inputIds[0]).toContain(v);

      const variables = model.root.stateDict();
      const llama = (await readSafetensors(join(LLAMA, 'model.safetensors'))).tensors;
      for (const name of ['model.embed_tokens.weight', 'lm_head.weight']) {
        const old = llama.get(name)!.data as Float32Array;
        const grown = variables.get(`language_model.${name}`)!;
        expect(grown.shape).toEqual([v + 1, d]);
        const values = grown.dataSync() as Float32Array;
        expect(maxDiff(values.subarray(0, v * d), old)).toBe(0);
        const mean = rowMean(old, v, d);
        Array.from(values.subarray(v * d)).forEach((x, j) => expect(x).toBeCloseTo(mean[j]!, 6));
      }
      const layer = variables.get('language_model.model.layers.1.mlp.down_proj.weight')!.dataSync();
      expect(maxDiff(layer, llama.get('model.layers.1.mlp.down_proj.weight')!.data as Float32Array)).toBe(0);
      const clip = (await readSafetensors(join(CLIP, 'model.safetensors'))).tensors;
      let visionCopied = 0;
      for (const [name, variable] of variables) {
        if (!name.startsWith('vision_tower.')) continue;
        const source = clip.get(name.slice('vision_tower.'.length))!;
        expect(source).toBeDefined();
        expect(maxDiff(variable.dataSync(), source.data as Float32Array)).toBe(0);
        visionCopied++;
      }
      expect(visionCopied).toBeGreaterThan(10);

      const ids = [[1, ...new Array<number>(64).fill(v), 5, 6, 2]];
      const pixels = tf.randomUniform([1, 3, 64, 64], -1, 1, 'float32', 7);
      const inputIds = tf.tensor2d(ids, [1, 68], 'int32');
      const { logits } = model.forward({ inputIds, pixelValues: pixels });
      expect(logits.shape).toEqual([1, 68, v + 1]);
      const short = tf.tensor2d([[1, ...new Array<number>(63).fill(v), 5]], [1, 65], 'int32');
      expect(() => model.forward({ inputIds: short, pixelValues: pixels })).toThrow(/63 image tokens/);

      await model.save(join(dir, 'out'));
      const tokenizerJson = JSON.parse(readFileSync(join(dir, 'out', 'tokenizer.json'), 'utf8')) as {
        added_tokens: { id: number; content: string; special: boolean }[];
      };
      expect(tokenizerJson.added_tokens.filter((t) => t.content === '<image>')).toEqual([
        expect.objectContaining({ id: v, special: true }),
      ]);
      loaded = (await provider.fromPretrained(join(dir, 'out'), {}, context)) as Llava;
      expect(loaded.config.image_token_index).toBe(v);
      expect(loaded.config.text_config.vocab_size).toBe(v + 1);
      expect(loaded.tokenizer!.encode(['<image>'], { addSpecialTokens: false }).inputIds[0]).toEqual([v]);
      const again = loaded.forward({ inputIds, pixelValues: pixels }).logits;
      expect(tf.max(tf.abs(tf.sub(again, logits))).dataSync()[0]).toBeLessThan(1e-5);
      tf.dispose([pixels, inputIds, short, logits, again]);
    } finally {
      model.dispose();
      loaded?.dispose();
    }
  });
});
