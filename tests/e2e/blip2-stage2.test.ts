// BLIP-2 stage 2 through `mmft train` with `objective: causal-lm`: a tiny BLIP-2 (current layout,
// image tokens written by the processor) over a tiny OPT built through the registry, vision and
// language towers frozen as LAVIS's blip2_opt.py freezes them, trained on PNG caption records.
// The loss falls, only the Q-Former and the projection change in the saved model, and evaluation
// generates captions from the images that the caption metric scores.
import 'reflect-metadata';
import { beforeAll, afterAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { architectureContext, readSafetensors } from '@mmft/core';
import { AutoModel, byteLevelBpeTokenizerFiles } from '@mmft/core/hf';
import { selectBackend, tfjsBackendConfigSchema } from '@mmft/backend-tfjs';
import { optProvider } from '@mmft/arch-opt';
import { createTinyBlip2Checkpoint } from '@mmft/arch-blip2/testing';
import { runCliForTest } from '@mmft/cli/testing';

const IMAGES = path.join(__dirname, '..', '..', 'packages', 'plugins', 'data-jsonl', 'fixtures', 'images');
const CAPTIONS: Record<string, string> = { red: 'a red circle', green: 'a green star', blue: 'a blue square' };
let dir: string;
let checkpoint: string;
let imageTokenIndex: number;

const row = (stdout: string, name: string): number[] =>
  (new RegExp(`^${name.replace(/\./g, '\\.')}\\s+([\\d.]+)(?:\\s+([\\d.]+))?$`, 'm').exec(stdout) ?? [])
    .slice(1)
    .filter((v) => v !== undefined)
    .map(Number);

beforeAll(async () => {
  await selectBackend(tfjsBackendConfigSchema.parse({}));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-blip2-stage2-'));
  const tokenizer = path.join(dir, 'tokenizer');
  fs.mkdirSync(tokenizer);
  for (const [name, bytes] of byteLevelBpeTokenizerFiles({ flavour: 'opt' })) fs.writeFileSync(path.join(tokenizer, name), bytes);
  const vocab = (JSON.parse(fs.readFileSync(path.join(tokenizer, 'tokenizer.json'), 'utf8')) as { model: { vocab: object } }).model.vocab;
  // The image token is one id past the tokenizer's vocabulary, as Blip2Processor adds "<image>" (50265 for OPT).
  imageTokenIndex = Object.keys(vocab).length;
  const textConfig = {
    model_type: 'opt',
    vocab_size: imageTokenIndex + 8,
    hidden_size: 16,
    word_embed_proj_dim: 16,
    ffn_dim: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 64,
    init_std: 0.3,
  };
  const context = architectureContext({ list: () => [optProvider] });
  checkpoint = (
    await createTinyBlip2Checkpoint(path.join(dir, 'blip2'), {
      context,
      textConfig,
      tokenizer,
      layout: 'current',
      imageTokenIndex,
      seed: 3,
    })
  ).dir;
  for (const color of Object.keys(CAPTIONS)) fs.copyFileSync(path.join(IMAGES, `${color}.png`), path.join(dir, `${color}.png`));
  fs.writeFileSync(
    path.join(dir, 'captions.jsonl'),
    Object.entries(CAPTIONS)
      .map(([color, caption]) => JSON.stringify({ id: color, image: `${color}.png`, caption }))
      .join('\n') + '\n',
  );
  fs.writeFileSync(
    path.join(dir, 'stage2.yaml'),
    `name: blip2-stage2
seed: 1
model: { type: blip2, checkpoint: ./blip2 }
objective: { type: causal-lm, max_length: 32, prompts: { caption: '' }, generation: { max_new_tokens: 5 } }
data:
  train: { type: jsonl, path: ./captions.jsonl }
  eval: { type: jsonl, path: ./captions.jsonl }
metrics:
  - type: caption
train: { type: standard, lr: 0.05, max_steps: 30, batch_size: 3, log_every: 10, freeze: [vision, language] }
`,
  );
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('BLIP-2 stage 2 with objective: causal-lm', () => {
  test('the processor declares its image span in the current layout', async () => {
    const model = await AutoModel.fromPretrained(checkpoint);
    expect(model.processor.imageTokens).toEqual({ tokenId: imageTokenIndex, count: 4, placement: 'prefix' });
    model.dispose();
  });

  test('mmft train: the loss falls, only qformer / projection tensors change, evaluation scores generated captions', async () => {
    const out = path.join(dir, 'run');
    const run = await runCliForTest(['train', path.join(dir, 'stage2.yaml'), '--output', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(row(run.stdout, 'caption.cider')).toHaveLength(2);
    const [before, after] = row(run.stdout, 'perplexity') as [number, number];
    expect(after).toBeLessThan(0.8 * before);

    const losses = fs
      .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>)
      .filter((e) => e.kind === 'train')
      .map((e) => e.loss as number);
    expect(losses).toHaveLength(30);
    expect(losses.slice(-5).reduce((a, b) => a + b, 0) / 5).toBeLessThan(losses[0]! - 0.3);

    const original = (await readSafetensors(path.join(checkpoint, 'model.safetensors'))).tensors;
    const trained = (await readSafetensors(path.join(out, 'checkpoint-last', 'model', 'model.safetensors'))).tensors;
    expect([...trained.keys()].sort()).toEqual([...original.keys()].sort());
    const changed = [...original.keys()].filter((name) => {
      const a = original.get(name)!.data;
      const b = trained.get(name)!.data;
      return a.length !== b.length || a.some((v, i) => v !== b[i]);
    });
    expect(changed.length).toBeGreaterThan(0);
    for (const name of changed) expect(name).toMatch(/^(qformer\.|query_tokens$|language_projection\.)/);
    expect(changed).toContain('language_projection.weight');
    expect(changed.some((n) => n.startsWith('qformer.'))).toBe(true);
  });
});
