// The memory switches reach the model as the recipe states them: the train: fields parse to core's
// settings (bad values name the file and field), checkpointing marks the tiny CLIP's two encoder
// stacks and leaves the training losses unchanged, 16-bit storage packs exactly the frozen Linear
// weights (counted by hand), the peer gets the same switches, and memory rows measure peak tensors.
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import { memorySpec } from '../peer/torch-peer';
import { benchConfigSchema } from '../suite/bench-config';
import type { Experiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import { buildTrainParts } from './build-run';
import { applyMemorySettings, describeCheckpointing, memorySettingsOf, type MemoryApi } from './memory-settings';
import { runTrain } from './run-train';
import { disposePool, syntheticPool } from './synthetic';
import { trainStep } from './train-step';

const tiny = {
  projection_dim: 16,
  text_config: {
    vocab_size: 64,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 16,
    pad_token_id: 0,
    bos_token_id: 62,
    eos_token_id: 63,
  },
  vision_config: { image_size: 16, patch_size: 8, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 2, num_attention_heads: 2 },
};

let registry: PluginRegistry;
beforeAll(async () => {
  registry = await benchRegistry();
});

function experiment(bench: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Experiment {
  const value = {
    backend: { type: 'tfjs', prefer: ['wasm', 'cpu'] },
    model: { type: 'clip', seed: 0, config: tiny },
    loss: { type: 'clip' },
    train: { type: 'standard', lr: 1e-2, batch_size: 4 },
    ...extra,
  };
  return {
    name: 'tiny',
    file: 'tiny.yaml',
    bench: benchConfigSchema.parse({ kind: 'train', suites: ['full'], title: 'tiny', text_length: 16, ...bench }),
    recipe: { file: 'tiny.yaml', baseDir: '.', value, origins: new Map(), selections: [] },
  };
}

describe('memory settings from train:', () => {
  test('defaults are off and f32; true, { every_n_blocks } and frozen_dtype map to core settings', () => {
    expect(memorySettingsOf({}, 'a.yaml')).toEqual({ checkpointing: false, frozenDtype: 'f32' });
    expect(memorySettingsOf({ gradient_checkpointing: true, frozen_dtype: 'bf16' }, 'a.yaml')).toEqual({
      checkpointing: true,
      frozenDtype: 'bf16',
    });
    expect(memorySettingsOf({ gradient_checkpointing: { every_n_blocks: 1 } }, 'a.yaml').checkpointing).toBe(true);
    expect(memorySettingsOf({ gradient_checkpointing: { every_n_blocks: 3 } }, 'a.yaml').checkpointing).toEqual({ everyNBlocks: 3 });
    expect([true, false, { everyNBlocks: 2 }].map((s) => describeCheckpointing(s))).toEqual(['every block', 'off', 'every 2 blocks']);
  });

  test('malformed values name the file and the field', () => {
    expect(() => memorySettingsOf({ gradient_checkpointing: { every_n_blocks: 0 } }, 'a.yaml')).toThrow(
      /a\.yaml: train\.gradient_checkpointing must be/,
    );
    expect(() => memorySettingsOf({ gradient_checkpointing: 'yes' }, 'a.yaml')).toThrow(/train\.gradient_checkpointing/);
    expect(() => memorySettingsOf({ frozen_dtype: 'int8' }, 'b.yaml')).toThrow(
      /b\.yaml: train\.frozen_dtype must be one of f32, bf16, fp16, not "int8"/,
    );
  });

  test('the peer gets the same switches: checkpoint every N-th block (0 off), the frozen dtype', () => {
    const e = experiment();
    expect(memorySpec(e, {})).toEqual({ checkpointEvery: 0, frozenDtype: 'f32' });
    expect(memorySpec(e, { gradient_checkpointing: true, frozen_dtype: 'bf16' })).toEqual({ checkpointEvery: 1, frozenDtype: 'bf16' });
    expect(memorySpec(e, { gradient_checkpointing: { every_n_blocks: 2 } })).toEqual({ checkpointEvery: 2, frozenDtype: 'f32' });
  });
});

describe('applying the switches', () => {
  test('calls core once per switch that is on; a model without block stacks is refused by type', () => {
    const calls: string[] = [];
    const api = (stacks: number): MemoryApi => ({
      setGradientCheckpointing: (_root, setting) => (calls.push(`ckpt ${JSON.stringify(setting)}`), stacks),
      storeFrozenWeights16: (_root, format) => (calls.push(`16 ${format}`), { packed: 3, bytesSaved: 96 }),
    });
    const root = {} as Parameters<typeof applyMemorySettings>[0];
    const where = { file: 'x.yaml', modelType: 'toy' };
    expect(applyMemorySettings(root, { checkpointing: false, frozenDtype: 'f32' }, where, api(2))).toEqual({
      checkpointing: 'off',
      frozenDtype: 'f32',
    });
    expect(calls).toEqual([]);
    expect(applyMemorySettings(root, { checkpointing: { everyNBlocks: 2 }, frozenDtype: 'fp16' }, where, api(2))).toEqual({
      checkpointing: 'every 2 blocks',
      frozenDtype: 'fp16',
      checkpointedStacks: 2,
      packedWeights: 3,
      bytesSaved: 96,
    });
    expect(calls).toEqual(['ckpt {"everyNBlocks":2}', '16 fp16']);
    const nothingFrozen: MemoryApi = { ...api(2), storeFrozenWeights16: () => ({ packed: 0, bytesSaved: 0 }) };
    expect(() => applyMemorySettings(root, { checkpointing: false, frozenDtype: 'bf16' }, where, nothingFrozen)).toThrow(
      /x\.yaml: train\.frozen_dtype bf16: model type "toy" has no frozen Linear weight/,
    );
    expect(() => applyMemorySettings(root, { checkpointing: true, frozenDtype: 'f32' }, where, api(0))).toThrow(
      /x\.yaml: model type "toy" has no block stack/,
    );
  });

  test('CLIP: two encoder stacks checkpointed, and the same losses step for step as without', async () => {
    const plain = await buildTrainParts(experiment(), registry);
    const checked = await buildTrainParts(experiment(), registry);
    const applied = applyMemorySettings(
      checked.model.root,
      { checkpointing: true, frozenDtype: 'f32' },
      { file: 'tiny.yaml', modelType: 'clip' },
    );
    expect(applied).toMatchObject({ checkpointing: 'every block', checkpointedStacks: 2 });
    const pool = syntheticPool({ batch: 4, imageSize: 16, textLength: 16, vocabSize: 64, bosId: 62, eosId: 63 });
    const losses = (parts: typeof plain) => [0, 1, 2].map((i) => trainStep(parts, pool[i % pool.length]!, 1e-2));
    const a = losses(plain);
    const b = losses(checked);
    expect(b).toEqual(a);
    expect(a[2]).not.toBe(a[0]);
    disposePool(pool);
    for (const parts of [plain, checked]) {
      parts.optimizer.dispose();
      parts.model.dispose();
    }
  });

  test('train.frozen_dtype bf16 packs every frozen Linear weight (6 per layer × 4 layers + 2 projections); the model count stays', async () => {
    const frozen = { type: 'standard', lr: 1e-2, batch_size: 4, freeze: ['**'], unfreeze: ['logit_scale'] };
    const plain = await buildTrainParts(experiment({}, { train: frozen }), registry);
    const linearWeights = plain.model.root
      .namedParameters()
      .filter(([name]) => /(q_proj|k_proj|v_proj|out_proj|fc1|fc2|visual_projection|text_projection)\.weight$/.test(name));
    expect(linearWeights.length).toBe(6 * 4 + 2);
    const floats = linearWeights.reduce((n, [, v]) => n + v.size, 0);
    const packed = await buildTrainParts(experiment({}, { train: { ...frozen, frozen_dtype: 'bf16' } }), registry);
    expect(plain.memory).toEqual({ checkpointing: 'off', frozenDtype: 'f32' });
    expect(packed.memory).toEqual({ checkpointing: 'off', frozenDtype: 'bf16', packedWeights: 26, bytesSaved: 2 * floats });
    expect([packed.totalParams, packed.trainableParams]).toEqual([plain.totalParams, plain.trainableParams]);
    expect(packed.model.root.namedParameters().length).toBe(plain.model.root.namedParameters().length - 26);
    for (const parts of [plain, packed]) {
      parts.optimizer.dispose();
      parts.model.dispose();
    }
  });

  test('a memory row measures the peak tensor bytes of one step without printing its kernels', async () => {
    const result = await runTrain(experiment({ warmup_steps: 0, timed_steps: 1, memory: { table: 'tiny' } }), registry);
    expect(result.peakTensorBytes).toBeGreaterThan(0);
    expect(result.profile).toBeUndefined();
    expect(result.memory).toEqual({ checkpointing: 'off', frozenDtype: 'f32' });
    const plain = await runTrain(experiment({ warmup_steps: 0, timed_steps: 1 }), registry);
    expect(plain.peakTensorBytes).toBeUndefined();
  });
});
