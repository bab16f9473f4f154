// `mmft train` with train.gradient_checkpointing: fine-tuning a tiny Llama gives the same losses and
// the same weights with and without it (the recomputed blocks run the same kernels in the same
// order), and the run says how many block stacks it checkpoints.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readSafetensors } from '@mmft/core';
import { selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import { createTinyLlamaCheckpoint } from '@mmft/arch-llama/testing';
import { runCliForTest } from '@mmft/cli/testing';

let dir: string;

const recipe = (checkpointing: string) => `name: llama-lora
seed: 1
model: { type: llama, checkpoint: ./llama }
objective: { type: causal-lm, max_length: 32 }
data:
  train: { type: jsonl, path: ./text.jsonl }
train: { type: standard, lr: 0.05, max_steps: 4, batch_size: 2, log_every: 2, eval_before: false, gradient_checkpointing: ${checkpointing} }
`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-ckpt-'));
  await selectBackend(tfjsBackendConfigSchema.parse({}));
  await createTinyLlamaCheckpoint(path.join(dir, 'llama'), { seed: 3, config: { initializer_range: 0.5, num_hidden_layers: 3 } });
  const lines = ['the circle is red.', 'the square is blue.', 'the star is green.', 'the triangle is yellow.'];
  fs.writeFileSync(path.join(dir, 'text.jsonl'), lines.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  for (const [name, value] of [
    ['plain', 'false'],
    ['plain2', 'false'],
    ['every', 'true'],
    ['every2', '{ every_n_blocks: 2 }'],
  ] as const) {
    fs.writeFileSync(path.join(dir, `${name}.yaml`), recipe(value));
  }
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const losses = (out: string): number[] =>
  fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string; loss: number })
    .filter((e) => e.kind === 'train')
    .map((e) => e.loss);

const weights = async (out: string): Promise<Record<string, number[]>> => {
  const { tensors } = await readSafetensors(path.join(out, 'checkpoint-last', 'model', 'model.safetensors'));
  return Object.fromEntries([...tensors].map(([name, t]) => [name, Array.from(t.data as Float32Array)]));
};

describe('mmft train: gradient checkpointing', () => {
  test('the same losses and weights as without it, every block or every other block', async () => {
    const run = async (name: string) => {
      const out = path.join(dir, `out-${name}`);
      const result = await runCliForTest(['train', path.join(dir, `${name}.yaml`), '--output', out]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      return { out, stdout: result.stdout };
    };
    const plain = await run('plain');
    expect(plain.stdout).not.toContain('gradient_checkpointing');
    const reference = { losses: losses(plain.out), weights: await weights(plain.out) };
    expect(losses((await run('plain2')).out)).toEqual(reference.losses); // runs are reproducible, so equality means something
    expect(reference.losses).toHaveLength(4);
    for (const [name, line] of [
      ['every', 'gradient_checkpointing: 1 block stack, every block'],
      ['every2', 'gradient_checkpointing: 1 block stack, every 2 blocks'],
    ] as const) {
      const checkpointed = await run(name);
      expect(checkpointed.stdout).toContain(line);
      expect(losses(checkpointed.out)).toEqual(reference.losses);
      expect(await weights(checkpointed.out)).toEqual(reference.weights);
    }
  });
});
