// The LM benchmark's training step and generation runs on tiny models: the step's loss is the mean
// cross-entropy over label tokens (computed independently by the model's own mean loss), LoRA moves
// only adapter weights, and the prefill / decode runs time the number of steps they say. No speed is
// asserted (docs/benchmarks.md: tests check the benchmark, never how fast anything is).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import { benchConfigSchema } from '../suite/bench-config';
import { isLmExperiment, type Experiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import { peerSpec } from '../peer/torch-peer';
import { disposeLmPool, lmPool } from './lm-synthetic';
import { runGenerate } from './run-generate';
import { buildLmTrainParts, lmStepLoss, runLmTrain } from './run-lm-train';
import { optimizerStepOn } from './train-step';

const tinyModels: Record<string, Record<string, unknown>> = {
  llama: {
    vocab_size: 40,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
    pad_token_id: 0,
  },
  opt: {
    vocab_size: 40,
    hidden_size: 16,
    ffn_dim: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 64,
    dropout: 0,
    pad_token_id: 1,
  },
};

let registry: PluginRegistry;
beforeAll(async () => {
  registry = await benchRegistry();
});

function experiment(type: string, bench: Record<string, unknown>, extra: Record<string, unknown> = {}): Experiment {
  const value = {
    backend: { type: 'tfjs', prefer: ['wasm', 'cpu'] },
    model: { type, seed: 0, config: { model_type: type, ...tinyModels[type] } },
    objective: { type: 'causal-lm' },
    train: { type: 'standard', lr: 1e-2, batch_size: 3 },
    ...extra,
  };
  return {
    name: `tiny-${type}`,
    file: `tiny-${type}.yaml`,
    bench: benchConfigSchema.parse({ suites: ['full'], title: 'tiny', ...bench }),
    recipe: { file: `tiny-${type}.yaml`, baseDir: '.', value, origins: new Map(), selections: [] },
  };
}

describe('LM training step', () => {
  test.each(['llama', 'opt'])('%s: the step loss is the mean cross-entropy over label tokens, and the step trains', async (type) => {
    const parts = await buildLmTrainParts(experiment(type, { kind: 'train' }), registry);
    const [batch] = lmPool({ batch: 3, length: 12, vocabSize: 40, padId: Number(tinyModels[type]!.pad_token_id) }, 1);
    const ours = tf.tidy(() => lmStepLoss(parts.model, batch!).dataSync()[0]!);
    const mean = tf.tidy(() => {
      const out = parts.model.forward({ inputIds: batch!.inputIds, attentionMask: batch!.attentionMask, labels: batch!.labels });
      return out.loss!.dataSync()[0]!;
    });
    expect(ours).toBeCloseTo(mean, 5);
    expect(ours).toBeGreaterThan(0);
    const before = tf.memory().numTensors;
    const first = optimizerStepOn(parts, () => lmStepLoss(parts.model, batch!), 1e-3);
    for (let i = 0; i < 4; i++) optimizerStepOn(parts, () => lmStepLoss(parts.model, batch!), 1e-3);
    const after = tf.tidy(() => lmStepLoss(parts.model, batch!).dataSync()[0]!);
    expect(first).toBeCloseTo(mean, 5);
    expect(after).toBeLessThan(first);
    // AdamW's moments appear on the first step only; later steps leak nothing.
    const settled = tf.memory().numTensors;
    optimizerStepOn(parts, () => lmStepLoss(parts.model, batch!), 1e-2);
    expect(tf.memory().numTensors).toBe(settled);
    expect(settled).toBeGreaterThanOrEqual(before);
    disposeLmPool([batch!]);
    parts.optimizer.dispose();
    parts.model.dispose();
  });

  test('LoRA on q_proj / v_proj trains only adapter weights', async () => {
    const peft = { method: 'lora', r: 2, lora_alpha: 4, target_modules: ['q_proj', 'v_proj'], seed: 0 };
    const parts = await buildLmTrainParts(experiment('llama', { kind: 'train' }, { peft }), registry);
    expect(parts.params.length).toBe(2 * 2 * 2);
    expect(parts.params.every((p) => /layers\.\d\.self_attn\.(q|v)_proj\.lora_[AB]/.test(p.name))).toBe(true);
    const [batch] = lmPool({ batch: 3, length: 12, vocabSize: 40, padId: 0 }, 1);
    const base = parts.model.root.namedParameters().find(([n]) => n === 'model.layers.0.mlp.up_proj.weight')![1];
    const before = Array.from(base.dataSync());
    for (let i = 0; i < 2; i++) expect(Number.isFinite(optimizerStepOn(parts, () => lmStepLoss(parts.model, batch!), 1e-2))).toBe(true);
    expect(Array.from(base.dataSync())).toEqual(before);
    disposeLmPool([batch!]);
    parts.optimizer.dispose();
    parts.model.dispose();
  });
});

describe('LM runs', () => {
  test('train: tokens/s over B·T positions, the loss and the counted FLOPs', async () => {
    const result = await runLmTrain(experiment('opt', { kind: 'train', warmup_steps: 1, timed_steps: 2, text_length: 12 }), registry);
    expect(result).toMatchObject({ side: 'mmft', unit: 'tokens/s', steps: 3, timing: { samples: 2 } });
    expect(result.throughput).toBeCloseTo((1000 * 3 * 12) / result.timing.medianMs, 6);
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.flops).toBeGreaterThan(0);
  });

  test('decode: one sample per step after the first token; prefill: one per call', async () => {
    const decode = await runGenerate(
      experiment('llama', { kind: 'decode', warmup_steps: 1, timed_steps: 2, batch_size: 2, text_length: 5, new_tokens: 4 }),
      registry,
    );
    expect(decode).toMatchObject({ unit: 'tokens/s', timing: { samples: 2 * 3 } });
    expect(decode.throughput).toBeCloseTo((1000 * 2) / decode.timing.medianMs, 6);
    const prefill = await runGenerate(
      experiment('opt', { kind: 'prefill', warmup_steps: 0, timed_steps: 3, batch_size: 2, text_length: 5 }),
      registry,
    );
    expect(prefill).toMatchObject({ unit: 'tokens/s', timing: { samples: 3 } });
    expect(prefill.throughput).toBeCloseTo((1000 * 2 * 5) / prefill.timing.medianMs, 6);
  });
});

describe('peer spec of LM experiments', () => {
  test('training carries the architecture, config, batch, optimizer and LoRA; decoding its lengths', () => {
    const peft = { method: 'lora', r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] };
    const train = experiment('llama', { kind: 'train', text_length: 12 }, { peft });
    expect(isLmExperiment(train)).toBe(true);
    expect(peerSpec(train)).toMatchObject({
      mode: 'lm-train',
      arch: 'llama',
      synthetic: { batch: 3, length: 12, vocabSize: 40, padId: 0 },
      lr: 1e-2,
      lora: { r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] },
      config: { num_key_value_heads: 2 },
    });
    const decode = experiment('opt', { kind: 'decode', batch_size: 8, text_length: 64, new_tokens: 32 });
    expect(peerSpec(decode)).toMatchObject({ mode: 'decode', arch: 'opt', newTokens: 32, synthetic: { batch: 8, length: 64, padId: 1 } });
    expect(peerSpec(experiment('opt', { kind: 'prefill', batch_size: 1 }))).toMatchObject({ mode: 'prefill', newTokens: 1 });
  });

  test('LoRA dropout is refused: the peer has none', () => {
    const peft = { method: 'lora', r: 8, lora_dropout: 0.1, target_modules: ['q_proj'] };
    expect(() => peerSpec(experiment('llama', { kind: 'train' }, { peft }))).toThrow(/lora_dropout/);
  });
});
