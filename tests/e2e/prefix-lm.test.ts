// `mmft train` with prefix tuning and prompt tuning on a tiny Llama (grouped-query attention: 4
// query heads, 2 key/value heads), as PEFT users run PrefixTuningConfig / PromptTuningConfig with
// task_type CAUSAL_LM: the loss falls with only the prompt encoder training, the adapter folder is
// PEFT's (adapter_config.json fields and one `prompt_embeddings` tensor sized by the key/value
// width), `mmft eval recipe --adapter` scores the run's final perplexity again, and
// `mmft generate --adapter` decodes with the prefix in the cache.
import 'reflect-metadata';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors } from '@mmft/core';
import { selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import { createTinyLlamaCheckpoint } from '@mmft/arch-llama/testing';
import { runCliForTest } from '@mmft/cli/testing';

const COLORS: Record<string, string> = { circle: 'red', square: 'blue', star: 'green', triangle: 'yellow' };
let dir: string;

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
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-prefix-lm-'));
  await selectBackend(tfjsBackendConfigSchema.parse({}));
  await createTinyLlamaCheckpoint(path.join(dir, 'llama'), { seed: 3, config: { initializer_range: 0.5 } });
  fs.writeFileSync(
    path.join(dir, 'instructions.jsonl'),
    Object.entries(COLORS)
      .map(([shape, color]) =>
        JSON.stringify({ id: `i-${shape}`, instruction: `What color is the ${shape}?`, response: `The ${shape} is ${color}.` }),
      )
      .join('\n') + '\n',
  );
  fs.writeFileSync(
    path.join(dir, 'prefix.yaml'),
    `name: llama-prefix
seed: 1
model: { type: llama, checkpoint: ./llama }
objective: { type: causal-lm, max_length: 64, generation: { max_new_tokens: 6 } }
data:
  train: { type: jsonl, path: ./instructions.jsonl }
  eval: { type: jsonl, path: ./instructions.jsonl }
peft: { method: prefix-tuning, num_virtual_tokens: 4 }
train: { type: standard, lr: 0.05, max_steps: 30, batch_size: 4, log_every: 10 }
`,
  );
  fs.writeFileSync(
    path.join(dir, 'prompt.yaml'),
    `extends: ./prefix.yaml
name: llama-prompt
peft: { method: prompt-tuning, num_virtual_tokens: 3 }
train: { type: standard, lr: 0.05, max_steps: 20, batch_size: 4, log_every: 10 }
`,
  );
});

describe('mmft train: prompt learning on a causal LM', () => {
  let after: number;

  test('prefix tuning on a tiny Llama: the loss falls, the adapter is PEFT PREFIX_TUNING with the key/value width', async () => {
    const out = path.join(dir, 'prefix');
    const run = await runCliForTest(['train', path.join(dir, 'prefix.yaml'), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    let before: number;
    [before, after] = row(run.stdout, 'perplexity') as [number, number];
    expect(after).toBeLessThan(0.8 * before);
    const losses = logOf(out)
      .filter((e) => e.kind === 'train')
      .map((e) => e.loss as number);
    expect(losses).toHaveLength(30);
    expect(losses.slice(-5).reduce((a, b) => a + b, 0) / 5).toBeLessThan(losses[0]! - 0.3);

    const adapter = path.join(out, 'checkpoint-last', 'adapter');
    const config = JSON.parse(fs.readFileSync(path.join(adapter, 'adapter_config.json'), 'utf8'));
    // token_dim = head_dim (16 / 4) × num_key_value_heads (2); num_attention_heads = num_key_value_heads
    expect(config).toMatchObject({
      peft_type: 'PREFIX_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: 4,
      token_dim: 8,
      num_layers: 2,
      num_attention_heads: 2,
      num_transformer_submodules: 1,
      prefix_projection: false,
      encoder_hidden_size: 8,
      base_model_name_or_path: path.join(dir, 'llama'),
    });
    expect(config).not.toHaveProperty('target_modules');
    const { tensors } = await readSafetensors(path.join(adapter, 'adapter_model.safetensors'));
    expect([...tensors].map(([k, t]) => [k, t.shape])).toEqual([['prompt_embeddings', [4, 2 * 2 * 8]]]);
  });

  test('mmft eval recipe --adapter gives the final perplexity back; mmft generate --adapter decodes with the prefix', async () => {
    const adapter = path.join(dir, 'prefix', 'checkpoint-last', 'adapter');
    const tuned = await runCliForTest([
      'eval',
      'recipe',
      path.join(dir, 'prefix.yaml'),
      '--adapter',
      adapter,
      '--output',
      path.join(dir, 'eval'),
    ]);
    expect(tuned.stderr).toBe('');
    expect(row(tuned.stdout, 'perplexity')).toEqual([Number(after.toFixed(2))]);

    const prompt = ['--prompt', 'What color is the star?', '--chat', '--max-new-tokens', '6', '--json'];
    const llama = path.join(dir, 'llama');
    const withPrefix = await runCliForTest(['generate', llama, '--adapter', adapter, ...prompt]);
    const base = await runCliForTest(['generate', llama, ...prompt]);
    expect([withPrefix.stderr, base.stderr]).toEqual(['', '']);
    const sequences = (r: { stdout: string }) => (JSON.parse(r.stdout) as { sequences: number[][] }).sequences;
    expect(sequences(withPrefix)[0]!.length).toBeGreaterThan(0);
    expect(sequences(withPrefix)).not.toEqual(sequences(base));
  });

  test('prompt tuning on a tiny Llama: the loss falls, the adapter is PEFT PROMPT_TUNING [P, hidden_size]', async () => {
    const out = path.join(dir, 'prompt');
    const run = await runCliForTest(['train', path.join(dir, 'prompt.yaml'), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [before, last] = row(run.stdout, 'perplexity') as [number, number];
    expect(last).toBeLessThan(before);
    const adapter = path.join(out, 'checkpoint-last', 'adapter');
    const config = JSON.parse(fs.readFileSync(path.join(adapter, 'adapter_config.json'), 'utf8'));
    expect(config).toMatchObject({
      peft_type: 'PROMPT_TUNING',
      task_type: 'CAUSAL_LM',
      num_virtual_tokens: 3,
      token_dim: 16,
      num_layers: 2,
    });
    const { tensors } = await readSafetensors(path.join(adapter, 'adapter_model.safetensors'));
    expect([...tensors].map(([k, t]) => [k, t.shape])).toEqual([['prompt_embeddings', [3, 16]]]);
  });
});
