// A Llama checkpoint saved in bitsandbytes 4-bit (NF4, double quantisation), as transformers +
// bitsandbytes write it with load_in_4bit: the fixtures in __fixtures__ were written by
// make-bnb4-llama.py (a torch replica of bitsandbytes' default path, beside the dequantised float32
// weights). The 4-bit model's logits must equal the float64 reference Llama on the dequantised weights;
// packed weights stored as bfloat16 (quant_storage, as LLaMA-Factory writes them) read the same; a save
// writes the same bytes back.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, test } from '@jest/globals';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';
import { linears4bit } from '@mmft/core/nn';
import { LlamaForCausalLM } from './llama-for-causal-lm';
import { refLlamaLogits } from './testing/reference-llama';

const fixtures = path.join(__dirname, '__fixtures__');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bnb4-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const inputIds = [
  [1, 17, 230, 5, 99, 3],
  [1, 44, 8, 301, 2, 60],
];
const logitsOf = (model: LlamaForCausalLM) => {
  const { logits } = model.forward({ inputIds: tf.tensor2d(inputIds, undefined, 'int32') });
  const out = logits.arraySync() as number[][][];
  logits.dispose();
  return out;
};
const maxDiff = (a: number[][][], b: number[][][]) => Math.max(...a.flat(2).map((v, i) => Math.abs(v - b.flat(2)[i]!)));

describe('LlamaForCausalLM on a bitsandbytes 4-bit checkpoint', () => {
  test('every decoder Linear loads in 4 bits and the logits equal the reference on the dequantised weights', async () => {
    const model = await LlamaForCausalLM.fromPretrained(path.join(fixtures, 'bnb4-llama'));
    try {
      const quantized = [...linears4bit(model.root).keys()];
      expect(quantized).toHaveLength(2 * 7); // q, k, v, o, gate, up, down per layer; lm_head stays float32
      expect(quantized.every((name) => /^model\.layers\.\d\.(self_attn|mlp)\.\w+_proj\.weight$/.test(name))).toBe(true);
      expect(model.root.stateDict().has('lm_head.weight')).toBe(true);
      const deq = (await readSafetensors(path.join(fixtures, 'dequantized.safetensors'))).tensors;
      const weights = new Map<string, unknown>();
      for (const [name, t] of deq) {
        const data = Array.from(t.data as Float32Array);
        const [rows, cols] = t.shape;
        weights.set(name, cols === undefined ? data : Array.from({ length: rows! }, (_, r) => data.slice(r * cols, (r + 1) * cols)));
      }
      const expected = refLlamaLogits(weights, model.config, { inputIds });
      expect(maxDiff(logitsOf(model), expected)).toBeLessThan(1e-4);
    } finally {
      model.dispose();
    }
  });

  test('packed weights stored as bfloat16 (quant_storage) give the same model', async () => {
    const [u8, bf16] = await Promise.all(
      ['bnb4-llama', 'bnb4-llama-bf16'].map((d) => LlamaForCausalLM.fromPretrained(path.join(fixtures, d))),
    );
    try {
      expect(logitsOf(bf16)).toEqual(logitsOf(u8));
    } finally {
      u8.dispose();
      bf16.dispose();
    }
  });

  test('save writes the 4-bit tensors byte for byte and quantization_config; the saved folder loads to the same logits', async () => {
    const source = path.join(fixtures, 'bnb4-llama');
    const model = await LlamaForCausalLM.fromPretrained(source);
    const dir = path.join(tmp, 'saved');
    try {
      await model.save(dir);
      const [before, after] = await Promise.all(
        [source, dir].map(async (d) => (await readSafetensors(path.join(d, 'model.safetensors'))).tensors),
      );
      expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
      for (const [name, t] of before) {
        const saved = after.get(name)!;
        expect({ name, dtype: saved.dtype, shape: saved.shape }).toEqual({ name, dtype: t.dtype, shape: t.shape });
        expect(
          Buffer.from(saved.data.buffer, saved.data.byteOffset, saved.data.byteLength).equals(
            Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          ),
        ).toBe(true);
      }
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { quantization_config: Record<string, unknown> };
      expect(config.quantization_config).toMatchObject({
        load_in_4bit: true,
        quant_method: 'bitsandbytes',
        bnb_4bit_quant_type: 'nf4',
        bnb_4bit_use_double_quant: true,
        llm_int8_skip_modules: ['lm_head'],
      });
      const again = await LlamaForCausalLM.fromPretrained(dir);
      try {
        expect(logitsOf(again)).toEqual(logitsOf(model));
      } finally {
        again.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  test('a 4-bit weight for a module that is not a Linear, or of another shape, is refused naming the tensor and file', async () => {
    const source = path.join(fixtures, 'bnb4-llama');
    const { tensors } = await readSafetensors(path.join(source, 'model.safetensors'));
    const moved = async (name: string, rename: (key: string) => string | undefined) => {
      const dir = path.join(tmp, name);
      fs.cpSync(source, dir, { recursive: true });
      const out = new Map<string, { dtype: string; shape: number[]; data: unknown }>();
      for (const [key, t] of tensors) {
        const to = rename(key);
        if (to !== undefined) out.set(to, { dtype: t.dtype, shape: [...t.shape], data: t.data });
      }
      await writeSafetensors(path.join(dir, 'model.safetensors'), out as never, { format: 'pt' });
      return dir;
    };
    const q = 'model.layers.0.self_attn.q_proj.weight';
    const k = 'model.layers.0.self_attn.k_proj.weight';
    // q_proj's 4-bit tensors stored under the final norm's name (an RMSNorm, not a Linear).
    const norm = await moved('on-norm', (key) => (key === 'model.norm.weight' ? undefined : key.replace(q, 'model.norm.weight')));
    await expect(LlamaForCausalLM.fromPretrained(norm)).rejects.toThrow(
      /holds a 4-bit weight "model\.norm\.weight", but the model's "model\.norm" is a \w+, not a Linear/,
    );
    // q_proj's [16, 16] weight stored as k_proj ([8, 16]).
    const shape = await moved('mis-shaped', (key) => (key.startsWith(k) ? undefined : key.replace(q, k)));
    await expect(LlamaForCausalLM.fromPretrained(shape)).rejects.toThrow(
      /4-bit weight "model\.layers\.0\.self_attn\.k_proj\.weight" in .*model\.safetensors has shape \[16, 16\], the model's Linear is \[8, 16\]/,
    );
  });

  test('a quantization_config mmft cannot read is refused naming config.json', async () => {
    const dir = path.join(tmp, 'gptq');
    fs.cpSync(path.join(fixtures, 'bnb4-llama'), dir, { recursive: true });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...config, quantization_config: { quant_method: 'gptq', bits: 4 } }));
    await expect(LlamaForCausalLM.fromPretrained(dir)).rejects.toThrow(/config\.json: quantization_config\.quant_method is "gptq"/);
  });
});
