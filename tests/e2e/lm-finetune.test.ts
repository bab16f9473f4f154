// `mmft train` fine-tuning causal LMs end to end, as run_clm.py and LLaMA-Factory users do it: LoRA on
// a tiny Llama with image-less instruction records (loss falls, perplexity = exp(eval_loss) before and
// after in the summary, metrics.jsonl and report.html, the adapter saved in PEFT's layout), the adapter
// loaded back by `mmft eval recipe --adapter` (the run's final perplexity again, VQA accuracy on VQA
// records) and `mmft generate --adapter`; full fine-tuning of a tiny GPT-2 on plain text, whose saved
// model folder generates, and LoRA on its Conv1D c_attn.
import 'reflect-metadata';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors } from '@mmft/core';
import { selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import { createTinyLlamaCheckpoint } from '@mmft/arch-llama/testing';
import { createTinyGpt2Checkpoint } from '@mmft/arch-gpt2/testing';
import { runCliForTest } from '@mmft/cli/testing';

const IMAGE = path.join(__dirname, '..', '..', 'packages', 'plugins', 'data-jsonl', 'fixtures', 'images', 'red.png');
const COLORS: Record<string, string> = { circle: 'red', square: 'blue', star: 'green', triangle: 'yellow' };
let dir: string;

const jsonl = (file: string, records: readonly object[]) =>
  fs.writeFileSync(path.join(dir, file), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
const logOf = (out: string) =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number | string>);
/** The "before" and "after" columns of a summary row, or the value of an eval-only row. */
const row = (stdout: string, name: string): number[] =>
  (new RegExp(`^${name.replace(/\./g, '\\.')}\\s+([\\d.]+)(?:\\s+([\\d.]+))?$`, 'm').exec(stdout) ?? [])
    .slice(1)
    .filter((v) => v !== undefined)
    .map(Number);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-lm-'));
  // The checkpoint writers build their weights with tfjs: the engine the CLI will pick for these recipes.
  await selectBackend(tfjsBackendConfigSchema.parse({}));
  await createTinyLlamaCheckpoint(path.join(dir, 'llama'), { seed: 3, config: { initializer_range: 0.5 } });
  await createTinyGpt2Checkpoint(path.join(dir, 'gpt2'), { seed: 2 });
  fs.copyFileSync(IMAGE, path.join(dir, 'red.png'));
  const shapes = Object.entries(COLORS);
  jsonl(
    'instructions.jsonl',
    shapes.map(([shape, color]) => ({
      id: `i-${shape}`,
      instruction: `What color is the ${shape}?`,
      response: `The ${shape} is ${color}.`,
    })),
  );
  jsonl(
    'vqa.jsonl',
    shapes.map(([shape, color]) => ({ id: `q-${shape}`, image: 'red.png', question: `What color is the ${shape}?`, answer: color })),
  );
  jsonl(
    'text.jsonl',
    shapes.map(([shape, color]) => ({ text: `the ${shape} is ${color}.` })),
  );
  fs.writeFileSync(
    path.join(dir, 'lora.yaml'),
    `name: llama-lora
seed: 1
model: { type: llama, checkpoint: ./llama }
objective: { type: causal-lm, max_length: 64, generation: { max_new_tokens: 6 } }
data:
  train: { type: jsonl, path: ./instructions.jsonl }
  eval: { type: jsonl, path: ./instructions.jsonl }
metrics:
  - type: caption
peft: { method: lora, r: 8, lora_alpha: 16, target_modules: [q_proj, v_proj] }
train: { type: standard, lr: 0.05, max_steps: 30, batch_size: 4, log_every: 10 }
`,
  );
  fs.writeFileSync(
    path.join(dir, 'gpt2.yaml'),
    `model: { type: gpt2, checkpoint: ./gpt2 }
data:
  train: { type: jsonl, path: ./text.jsonl }
  eval: { type: jsonl, path: ./text.jsonl }
train: { type: standard, lr: 0.01, max_steps: 20, batch_size: 2, log_every: 10 }
`,
  );
  fs.writeFileSync(
    path.join(dir, 'vqa.yaml'),
    `extends: ./lora.yaml\ndata:\n  eval: { type: jsonl, path: ./vqa.jsonl }\nmetrics:\n  - type: vqa\n`,
  );
});

describe('mmft train: causal LMs', () => {
  let before: number;
  let after: number;

  test('LoRA on a tiny Llama: the loss falls, perplexity is shown before and after, the adapter is in PEFT layout', async () => {
    const out = path.join(dir, 'lora');
    const run = await runCliForTest(['train', path.join(dir, 'lora.yaml'), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^eval before training: eval_loss=[\d.]+ perplexity=[\d.]+ caption\.bleu1=/m);
    [before, after] = row(run.stdout, 'perplexity') as [number, number];
    expect(after).toBeLessThan(0.8 * before);
    expect(row(run.stdout, 'caption.cider')).toHaveLength(2);

    const log = logOf(out);
    const losses = log.filter((e) => e.kind === 'train').map((e) => e.loss as number);
    expect(losses).toHaveLength(30);
    const tail = losses.slice(-5).reduce((a, b) => a + b, 0) / 5;
    expect(tail).toBeLessThan(losses[0]! - 0.3);
    const evals = log.filter((e) => e.kind === 'eval');
    expect(evals.map((e) => e.step)).toEqual([0, 30]);
    for (const e of evals) expect(e.perplexity as number).toBeCloseTo(Math.exp(e.eval_loss as number), 6);
    expect((evals[0]!.perplexity as number).toFixed(2)).toBe(before.toFixed(2));

    const adapter = path.join(out, 'checkpoint-last', 'adapter');
    const config = JSON.parse(fs.readFileSync(path.join(adapter, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'LORA',
      task_type: 'CAUSAL_LM',
      r: 8,
      lora_alpha: 16,
      target_modules: ['q_proj', 'v_proj'],
      base_model_name_or_path: path.join(dir, 'llama'),
    });
    const { tensors } = await readSafetensors(path.join(adapter, 'adapter_model.safetensors'));
    expect([...tensors.keys()].sort()).toEqual(
      [0, 1].flatMap((layer) =>
        ['q_proj', 'v_proj'].flatMap((m) =>
          ['lora_A', 'lora_B'].map((ab) => `base_model.model.model.layers.${layer}.self_attn.${m}.${ab}.weight`),
        ),
      ),
    );
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('Before and after training');
    expect(html).toContain('<td>perplexity</td>');
  });

  test('mmft eval recipe --adapter gives the run its final perplexity back; without it, the base model; VQA records give accuracy', async () => {
    const adapter = path.join(dir, 'lora', 'checkpoint-last', 'adapter');
    const recipe = path.join(dir, 'lora.yaml');
    const tuned = await runCliForTest(['eval', 'recipe', recipe, '--adapter', adapter, '--output', path.join(dir, 'eval-tuned')]);
    expect(tuned.stderr).toBe('');
    expect(row(tuned.stdout, 'perplexity')).toEqual([Number(after.toFixed(2))]);
    const base = await runCliForTest(['eval', 'recipe', recipe, '--output', path.join(dir, 'eval-base')]);
    expect(base.stderr).toBe('');
    expect(row(base.stdout, 'perplexity')).toEqual([Number(before.toFixed(2))]);

    const vqa = await runCliForTest([
      'eval',
      'recipe',
      path.join(dir, 'vqa.yaml'),
      '--adapter',
      adapter,
      '--output',
      path.join(dir, 'eval-vqa'),
    ]);
    expect(vqa.stderr).toBe('');
    expect(vqa.code).toBe(0);
    const [accuracy] = row(vqa.stdout, 'vqa.accuracy');
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(100);
    expect(row(vqa.stdout, 'perplexity')[0]).toBeGreaterThan(1);
  });

  test('mmft generate --adapter applies the trained adapter', async () => {
    const prompt = ['--prompt', 'What color is the star?', '--chat', '--max-new-tokens', '6', '--json'];
    const llama = path.join(dir, 'llama');
    const tuned = await runCliForTest(['generate', llama, '--adapter', path.join(dir, 'lora', 'checkpoint-last', 'adapter'), ...prompt]);
    const base = await runCliForTest(['generate', llama, ...prompt]);
    expect([tuned.stderr, base.stderr]).toEqual(['', '']);
    const sequences = (r: { stdout: string }) => (JSON.parse(r.stdout) as { sequences: number[][] }).sequences;
    expect(sequences(tuned)[0]!.length).toBeGreaterThan(0);
    expect(sequences(tuned)).not.toEqual(sequences(base));
  });

  test('full fine-tuning of a tiny GPT-2 on plain text (no objective: section): perplexity falls, the saved model generates', async () => {
    const out = path.join(dir, 'gpt2-full');
    const run = await runCliForTest(['train', path.join(dir, 'gpt2.yaml'), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [first, last] = row(run.stdout, 'perplexity') as [number, number];
    expect(last).toBeLessThan(0.8 * first);
    const model = path.join(out, 'checkpoint-last', 'model');
    for (const file of ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']) {
      expect(fs.existsSync(path.join(model, file))).toBe(true);
    }
    const generated = await runCliForTest(['generate', model, '--prompt', 'the star is', '--max-new-tokens', '4', '--json']);
    expect(generated.stderr).toBe('');
    expect((JSON.parse(generated.stdout) as { sequences: number[][] }).sequences[0]!.length).toBeGreaterThan(0);
  });

  test('LoRA on GPT-2 targets c_attn (a Conv1D): the perplexity falls and adapter_config.json says fan_in_fan_out', async () => {
    const out = path.join(dir, 'gpt2-lora');
    const run = await runCliForTest([
      'train',
      path.join(dir, 'gpt2.yaml'),
      '--set',
      'peft={method: lora, r: 4, lora_alpha: 8, target_modules: [c_attn]}',
      '--set',
      'train.lr=0.05',
      '--output',
      out,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [first, last] = row(run.stdout, 'perplexity') as [number, number];
    expect(last).toBeLessThan(first);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-last', 'adapter', 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({ task_type: 'CAUSAL_LM', target_modules: ['c_attn'], fan_in_fan_out: true });
  });
});
