// `mmft merge` on a tiny HF-layout CLIP: a LoRA adapter saved in PEFT layout is folded in and the
// merged checkpoint, loaded back as a plain CLIP, computes what base + adapter computed.
// Runs the command factory directly until the lead wires it into commands/index.ts.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { Command } from 'commander';
import { ClipModel, createTinyClipCheckpoint } from '@mmft/arch-clip';
import { GPT2LMHeadModel } from '@mmft/arch-gpt2';
import { createTinyGpt2Checkpoint } from '@mmft/arch-gpt2/testing';
import { readSafetensors, saveAdapter } from '@mmft/core';
import { loraMethod } from '@mmft/peft-lora';
import { prefixTuningMethod } from '@mmft/peft-prefix';
import { createCliContext } from '../context';
import { mergeCommand } from './merge';

const BUILTINS = ['@mmft/backend-tfjs', '@mmft/arch-clip', '@mmft/peft-lora', '@mmft/peft-prefix'];
let tmp: string;
let base: string;

beforeAll(async () => {
  await tf.setBackend('cpu');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-merge-'));
  base = (await createTinyClipCheckpoint(path.join(tmp, 'base'), { seed: 11 })).dir;
});

async function run(argv: string[], builtins = BUILTINS): Promise<{ code: number; stdout: string; stderr: string; hint?: string }> {
  const out: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const ctx = createCliContext({ isTTY: false, stdout, stderr: new PassThrough(), cwd: tmp, builtins });
  try {
    await new Command('mmft')
      .exitOverride()
      .addCommand(mergeCommand(ctx))
      .parseAsync(['merge', ...argv], { from: 'user' });
    return { code: 0, stdout: Buffer.concat(out).toString(), stderr: '' };
  } catch (error) {
    return { code: 1, stdout: Buffer.concat(out).toString(), stderr: (error as Error).message, hint: (error as { hint?: string }).hint };
  }
}

function logits(model: ClipModel): number[] {
  const { inputIds, attentionMask } = model.tokenize(['a red circle', 'blue square']);
  const pixelValues = tf.randomNormal([2, 3, 8, 8], 0, 1, 'float32', 3);
  const outputs = model.forward({ pixelValues, inputIds, attentionMask });
  const values = Array.from(outputs.logitsPerImage!.dataSync());
  tf.dispose([inputIds, attentionMask, pixelValues, ...Object.values(outputs)]);
  return values;
}

describe('mmft merge', () => {
  test('LoRA folded into the base: HF names, same outputs as base + adapter (float32 allclose)', async () => {
    const model = await ClipModel.fromPretrained(base);
    const config = loraMethod.configSchema.parse({ r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj', 'fc1'], seed: 1 });
    const applied = loraMethod.apply(model.root, config, 'default');
    applied.trainableParameters().forEach(([, v], i) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', i))));
    const expected = logits(model);
    await saveAdapter(path.join(tmp, 'lora'), loraMethod, config, applied, { baseModelNameOrPath: base });
    model.dispose();

    const r = await run(['--base', 'base', '--adapter', 'lora', '--out', 'merged']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/adapter: lora \(LORA\); trainable params: [\d,]+ \|\| all params/);
    const { tensors } = await readSafetensors(path.join(tmp, 'merged', 'model.safetensors'));
    const { tensors: baseTensors } = await readSafetensors(path.join(base, 'model.safetensors'));
    expect([...tensors.keys()].sort()).toEqual([...baseTensors.keys()].sort());
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'merged', 'config.json'), 'utf8'))).toEqual(
      JSON.parse(fs.readFileSync(path.join(base, 'config.json'), 'utf8')),
    );
    const merged = await ClipModel.fromPretrained(path.join(tmp, 'merged'));
    const plain = await ClipModel.fromPretrained(base);
    const got = logits(merged);
    // torch.allclose-style atol = rtol = 1e-4, the usual float32 tolerance: the merged (W + BA)·x and
    // the unmerged W·x + B(A·x) sum in different orders, and the engine that folds the weights (native
    // or wasm, whichever the machine has) may differ from the test's cpu engine. A CI clone measured
    // 1.6e-5 on logits of ~3 where this machine measures 1.7e-6.
    got.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(expected[i]!)));
    expect(logits(plain)).not.toEqual(got);
    merged.dispose();
    plain.dispose();
  });

  test('an adapter that cannot merge, and a folder without config.json, are clear errors', async () => {
    const model = await ClipModel.fromPretrained(base);
    const config = prefixTuningMethod.configSchema.parse({ num_virtual_tokens: 2 });
    await saveAdapter(path.join(tmp, 'prefix'), prefixTuningMethod, config, prefixTuningMethod.apply(model.root, config, 'default'));
    model.dispose();
    const r = await run(['--base', 'base', '--adapter', 'prefix', '--out', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/prefix-tuning \(PREFIX_TUNING\) adapters cannot be merged/);
    expect(r.hint).toBe('use the adapter unmerged: model.adapter: <dir> in a recipe, or mmft eval recipe <recipe> --adapter <dir>');
    expect(fs.existsSync(path.join(tmp, 'x'))).toBe(false);
    const missing = await run(['--base', 'lora', '--adapter', 'lora', '--out', 'y']);
    expect(missing.stderr).toMatch(/lora\/config\.json/);
  });

  test('--out is never --base or --adapter (nor a folder holding them), even with --force', async () => {
    const forced = async (out: string) => (await run(['--base', 'base', '--adapter', 'lora', '--out', out, '--force'])).stderr;
    expect(await forced('base')).toBe(
      `--out ${path.join(tmp, 'base')} is the --base folder; writing there would destroy an input of this command`,
    );
    expect(await forced('lora')).toMatch(/is the --adapter folder/);
    expect(await forced('.')).toMatch(/contains --base/);
    expect(fs.existsSync(path.join(base, 'model.safetensors'))).toBe(true);
  });

  test('a non-empty folder mmft did not write is refused and kept; --force replaces it; a merged folder is replaced', async () => {
    const out = path.join(tmp, 'mine');
    fs.mkdirSync(path.join(out, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(out, 'notes.txt'), 'keep me');
    const refused = await run(['--base', 'base', '--adapter', 'lora', '--out', 'mine']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `--out ${out} is not empty: it holds entries that mmft did not write as a model folder; writing there would replace notes.txt, sub`,
    );
    expect(refused.hint).toBe('pass --force to replace it, or choose another folder');
    expect(fs.readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('keep me');
    expect((await run(['--base', 'base', '--adapter', 'lora', '--out', 'mine', '--force'])).code).toBe(0);
    expect(fs.existsSync(path.join(out, 'notes.txt'))).toBe(false);
    expect((await run(['--base', 'base', '--adapter', 'lora', '--out', 'mine'])).code).toBe(0); // mmft's own model folder
  });

  test('an unknown model_type names --plugin, which merge accepts', async () => {
    const withoutClip = BUILTINS.filter((b) => b !== '@mmft/arch-clip');
    const missing = await run(['--base', 'base', '--adapter', 'lora', '--out', 'p1'], withoutClip);
    expect(missing.stderr).toBe(`${path.join(base, 'config.json')}: model_type "clip" has no architecture plugin; known: (none loaded)`);
    expect(missing.hint).toBe('load the plugin for this model with --plugin <package>');
    const loaded = await run(['--base', 'base', '--adapter', 'lora', '--out', 'p1', '--plugin', '@mmft/arch-clip'], withoutClip);
    expect(loaded.stderr).toBe('');
  });
});

describe('mmft merge on GPT-2 (Conv1D, fan_in_fan_out)', () => {
  test('a LoRA adapter on c_attn, c_proj, c_fc: fan_in_fan_out true saved; merged logits equal base + adapter (allclose 1e-4)', async () => {
    const gptBase = (await createTinyGpt2Checkpoint(path.join(tmp, 'gpt2-base'), { seed: 3 })).dir;
    const ids = [
      [5, 9, 2, 14, 7],
      [11, 3, 3, 8, 1],
    ];
    const gptLogits = (model: GPT2LMHeadModel): number[] => {
      const inputIds = tf.tensor2d(ids, undefined, 'int32');
      const { logits } = model.forward({ inputIds });
      const values = Array.from(logits.dataSync());
      tf.dispose([inputIds, logits]);
      return values;
    };
    const model = await GPT2LMHeadModel.fromPretrained(gptBase);
    const baseLogits = gptLogits(model);
    const config = loraMethod.configSchema.parse({ r: 2, lora_alpha: 4, target_modules: ['c_attn', 'c_proj', 'c_fc'], seed: 1 });
    const applied = loraMethod.apply(model.root, config, 'default');
    applied.trainableParameters().forEach(([, v], i) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.2, 'float32', i + 1))));
    const expected = gptLogits(model);
    await saveAdapter(path.join(tmp, 'gpt2-lora'), loraMethod, config, applied, { baseModelNameOrPath: gptBase });
    model.dispose();
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'gpt2-lora', 'adapter_config.json'), 'utf8'))).toMatchObject({
      peft_type: 'LORA',
      fan_in_fan_out: true,
      target_modules: ['c_attn', 'c_proj', 'c_fc'],
    });

    const r = await run(['--base', 'gpt2-base', '--adapter', 'gpt2-lora', '--out', 'gpt2-merged'], [...BUILTINS, '@mmft/arch-gpt2']);
    expect(r.stderr).toBe('');
    const { tensors } = await readSafetensors(path.join(tmp, 'gpt2-merged', 'model.safetensors'));
    const { tensors: baseTensors } = await readSafetensors(path.join(gptBase, 'model.safetensors'));
    expect([...tensors.keys()].sort()).toEqual([...baseTensors.keys()].sort()); // HF names, [in, out] shapes, no lm_head (tied)
    for (const [key, t] of baseTensors) expect(tensors.get(key)!.shape).toEqual(t.shape);
    const merged = await GPT2LMHeadModel.fromPretrained(path.join(tmp, 'gpt2-merged'));
    const got = gptLogits(merged);
    got.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThanOrEqual(1e-4 + 1e-4 * Math.abs(expected[i]!)));
    // The adapter moved the logits well beyond that tolerance, so the check above is not base = base.
    expect(Math.max(...got.map((v, i) => Math.abs(v - baseLogits[i]!)))).toBeGreaterThan(0.1);
    merged.dispose();
  });
});
