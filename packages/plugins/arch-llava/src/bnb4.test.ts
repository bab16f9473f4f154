// A LLaVA model held in bitsandbytes 4-bit (every Linear but lm_head: vision tower, projector and
// language model, as transformers' replace_with_bnb_linear converts them) saves in the Hub layout with
// the 4-bit tensors and quantization_config, and loads back in 4 bits from either key layout with the
// same logits.
import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';
import { linears4bit, quantizeLinears4bit } from '@mmft/core/nn';
import { LlavaForConditionalGeneration } from './llava-for-conditional-generation';
import { tinyLlavaContext, writeTinyLlavaCheckpoint } from './testing';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llava-bnb4-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const logitsOf = (model: LlavaForConditionalGeneration) => {
  const inputs = {
    inputIds: tf.tensor2d([[1, 7, 7, 7, 7, 2, 5]], undefined, 'int32'),
    pixelValues: tf.randomUniform([1, 3, 4, 4], -1, 1, 'float32', 3),
  };
  const { logits } = model.forward(inputs);
  const out = logits.arraySync();
  tf.dispose([logits, inputs.inputIds, inputs.pixelValues]);
  return out;
};

describe('LLaVA in bitsandbytes 4-bit', () => {
  test('quantised, saved (Hub layout + quantization_config) and loaded back from either layout: the same 4-bit weights and logits', async () => {
    const src = join(dir, 'src');
    await writeTinyLlavaCheckpoint(src, { layout: 'transformers', seed: 4 });
    const model = await LlavaForConditionalGeneration.fromPretrained(src, {}, tinyLlavaContext());
    const out = join(dir, 'saved');
    try {
      const float32 = logitsOf(model);
      model.root.freeze('**');
      const { quantized, skipped } = quantizeLinears4bit(model.root, { blockSize: 32 });
      expect(quantized).toBeGreaterThan(0);
      expect(skipped).toEqual(['language_model.lm_head']);
      const names = [...linears4bit(model.root).keys()];
      expect(names.some((n) => n.startsWith('multi_modal_projector.'))).toBe(true);
      expect(names.some((n) => n.startsWith('vision_tower.'))).toBe(true);
      // (the tiny test language model has no Linear but its head; the Llama test covers a decoder's)
      const quantizedLogits = logitsOf(model);
      expect(quantizedLogits).not.toEqual(float32); // the rounding changed something
      await model.save(out);
      const tensors = (await readSafetensors(join(out, 'model.safetensors'))).tensors;
      for (const name of names) {
        expect(tensors.get(name)?.dtype).toBe('U8');
        expect(tensors.has(`${name}.quant_state.bitsandbytes__nf4`)).toBe(true);
        expect(tensors.has(`${name}.nested_absmax`)).toBe(true);
      }
      const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(config.quantization_config).toMatchObject({
        load_in_4bit: true,
        bnb_4bit_quant_type: 'nf4',
        llm_int8_skip_modules: ['language_model.lm_head'],
      });

      const hub = await LlavaForConditionalGeneration.fromPretrained(out, {}, tinyLlavaContext());
      try {
        expect([...linears4bit(hub.root).keys()].sort()).toEqual([...names].sort());
        expect(logitsOf(hub)).toEqual(quantizedLogits);
      } finally {
        hub.dispose();
      }

      // The same folder with transformers ≥ 4.52 key names.
      const base = model.languageModel.root
        .namedChildren()
        .map(([n]) => n)
        .find((n) => n !== 'lm_head')!;
      const newer = join(dir, 'newer');
      cpSync(out, newer, { recursive: true });
      const renamed = new Map(
        [...tensors].map(([k, t]) => [
          k
            .replace(new RegExp(`^language_model\\.${base}\\.`), 'model.language_model.')
            .replace(/^language_model\.lm_head/, 'lm_head')
            .replace(/^(vision_tower|multi_modal_projector)\./, 'model.$1.'),
          { dtype: t.dtype, shape: [...t.shape], data: t.data },
        ]),
      );
      await writeSafetensors(join(newer, 'model.safetensors'), renamed as never, { format: 'pt' });
      const transformers = await LlavaForConditionalGeneration.fromPretrained(newer, {}, tinyLlavaContext());
      try {
        expect(transformers.loadReport?.layout).toBe('transformers');
        expect(logitsOf(transformers)).toEqual(quantizedLogits);
      } finally {
        transformers.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});
