// `mmft quantize` on a tiny Llama: the written folder holds bitsandbytes 4-bit tensors for every
// decoder Linear and quantization_config, loads back in 4 bits, and generates what `mmft generate
// --load-in-4bit` generates from the float32 folder; a CLIP folder (whose format has no 4-bit weights)
// and an --out equal to --model are refused.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import { readSafetensors, saveAdapter } from '@mmft/core';
import { LlamaForCausalLM } from '@mmft/arch-llama';
import { loraMethod } from '@mmft/peft-lora';
import { createTinyClipCheckpoint } from '@mmft/arch-clip';
import { createTinyLlamaCheckpoint } from '@mmft/arch-llama/testing';
import { createCliContext } from '../context';
import { generateCommand } from './generate';
import { quantizeCommand } from './quantize';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/arch-llama', '@mmft/peft-lora'];
let tmp: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-quantize-'));
  await createTinyLlamaCheckpoint(path.join(tmp, 'llama'), { seed: 11, config: { initializer_range: 0.3 } });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function run(argv: string[]): Promise<{ stdout: string; error: string }> {
  const out: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const ctx = createCliContext({ isTTY: false, stdout, stderr: new PassThrough(), cwd: tmp, builtins: BUILTINS });
  try {
    await new Command('mmft')
      .exitOverride()
      .addCommand(quantizeCommand(ctx))
      .addCommand(generateCommand(ctx))
      .parseAsync(argv, { from: 'user' });
    return { stdout: Buffer.concat(out).toString(), error: '' };
  } catch (error) {
    return { stdout: Buffer.concat(out).toString(), error: (error as Error).message };
  }
}

describe('mmft quantize', () => {
  test('writes the 4-bit layout and quantization_config; the folder generates as --load-in-4bit does', async () => {
    const r = await run(['quantize', '--model', 'llama', '--out', 'llama-4bit']);
    expect(r.error).toBe('');
    expect(r.stdout).toContain('nf4 + double quant, block 64: 14 Linear weights in 4 bits');
    expect(r.stdout).toContain('float32: lm_head');
    const { tensors } = await readSafetensors(path.join(tmp, 'llama-4bit', 'model.safetensors'));
    const quantState = [...tensors.keys()].filter((k) => k.endsWith('.weight.quant_state.bitsandbytes__nf4'));
    expect(quantState).toHaveLength(14);
    expect(tensors.get('model.layers.0.self_attn.q_proj.weight')?.dtype).toBe('U8');
    expect(tensors.get('lm_head.weight')?.dtype).toBe('F32');
    const config = JSON.parse(fs.readFileSync(path.join(tmp, 'llama-4bit', 'config.json'), 'utf8'));
    expect(config.quantization_config).toMatchObject({ load_in_4bit: true, bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: true });

    const prompt = ['--prompt', 'a red circle', '--max-new-tokens', '6', '--json'];
    const fromFolder = await run(['generate', 'llama-4bit', ...prompt]);
    const onLoad = await run(['generate', 'llama', '--load-in-4bit', ...prompt]);
    expect(fromFolder.error).toBe('');
    expect(JSON.parse(fromFolder.stdout).sequences).toEqual(JSON.parse(onLoad.stdout).sequences);
  });

  test('fp4 without double quantisation at block 128 is what the folder says', async () => {
    const r = await run([
      'quantize',
      '--model',
      'llama',
      '--out',
      'llama-fp4',
      '--quant-type',
      'fp4',
      '--no-double-quant',
      '--block-size',
      '128',
    ]);
    expect(r.error).toBe('');
    const { tensors } = await readSafetensors(path.join(tmp, 'llama-fp4', 'model.safetensors'));
    const state = tensors.get('model.layers.0.mlp.up_proj.weight.quant_state.bitsandbytes__fp4')!;
    expect(JSON.parse(Buffer.from(state.data as Uint8Array).toString('utf8'))).toMatchObject({ quant_type: 'fp4', blocksize: 128 });
    expect(tensors.get('model.layers.0.mlp.up_proj.weight.absmax')?.dtype).toBe('F32');
    expect(tensors.has('model.layers.0.mlp.up_proj.weight.nested_absmax')).toBe(false);
  });

  test('generate --load-in-4bit with an adapter holding a modules_to_save copy: quantising after the adapter leaves the copy and the LoRA layers float32, so every saved weight finds its variable', async () => {
    const model = await LlamaForCausalLM.fromPretrained(path.join(tmp, 'llama'));
    const config = loraMethod.configSchema.parse({
      r: 2,
      lora_alpha: 4,
      target_modules: ['q_proj', 'v_proj'],
      modules_to_save: ['down_proj'],
      seed: 1,
    });
    const applied = loraMethod.apply(model.root, config, 'default');
    await saveAdapter(path.join(tmp, 'adapter'), loraMethod, config, applied, { baseModelNameOrPath: path.join(tmp, 'llama') });
    model.dispose();
    const prompt = ['--prompt', 'a red circle', '--max-new-tokens', '4', '--json'];
    const r = await run(['generate', 'llama', '--load-in-4bit', '--adapter', 'adapter', ...prompt]);
    expect(r.error).toBe('');
    expect(JSON.parse(r.stdout).sequences[0].length).toBeGreaterThan(0);
  });

  test('a CLIP folder, a bad block size and --out equal to --model are refused', async () => {
    await createTinyClipCheckpoint(path.join(tmp, 'clip'));
    expect((await run(['quantize', '--model', 'clip', '--out', 'clip-4bit'])).error).toMatch(
      /held in 4 bits .*this save writes float32 weights only/,
    );
    expect((await run(['quantize', '--model', 'llama', '--out', 'x', '--block-size', '48'])).error).toMatch(
      /block_size must be one of 32, 64/,
    );
    expect((await run(['quantize', '--model', 'llama', '--out', 'llama'])).error).toMatch(/--out/);
  });
});
