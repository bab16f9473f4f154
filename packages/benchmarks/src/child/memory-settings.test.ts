// The memory switches reach the model as the recipe states them: the train: fields parse to core's
// settings (bad values name the file and field), checkpointing marks the tiny CLIP's two encoder
// stacks and leaves the training losses unchanged, 16-bit storage packs exactly the frozen Linear
// weights (counted by hand), the peer gets the same switches, and memory rows measure peak tensors.
// model.quantization parses as core's schema does, runs where the trainer runs it, is refused where the
// trainer refuses it, and its bits per parameter are counted from the quantised weights (checked by hand).
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import type { PackedWeight4bit } from '@mmft/core/nn';
import { quantize4bit } from '@mmft/core/quant';
import { memorySpec, peerSpec } from '../peer/torch-peer';
import { benchConfigSchema } from '../suite/bench-config';
import type { Experiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import { buildTrainParts } from './build-run';
import { disposeLmPool, lmPool } from './lm-synthetic';
import { applyMemorySettings, bitsOf, describeCheckpointing, memorySettingsOf, quantizationOf, type MemoryApi } from './memory-settings';
import { buildLmTrainParts, lmStepLoss } from './run-lm-train';
import { runTrain } from './run-train';
import { disposePool, syntheticPool } from './synthetic';
import { optimizerStepOn, trainStep } from './train-step';

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

const unexpected = (what: string) => () => {
  throw new Error(`${what} called without model.quantization`);
};
const NO_QUANTIZATION = {
  quantizeLinears4bit: unexpected('quantizeLinears4bit'),
  quantizedWeights4bit: unexpected('quantizedWeights4bit'),
  linears4bit: unexpected('linears4bit'),
};

describe('applying the switches', () => {
  test('calls core once per switch that is on; a model without block stacks is refused by type', () => {
    const calls: string[] = [];
    const api = (stacks: number): MemoryApi => ({
      setGradientCheckpointing: (_root, setting) => (calls.push(`ckpt ${JSON.stringify(setting)}`), stacks),
      storeFrozenWeights16: (_root, format) => (calls.push(`16 ${format}`), { packed: 3, bytesSaved: 96 }),
      ...NO_QUANTIZATION,
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

describe('model.quantization (QLoRA)', () => {
  const tinyLlama = {
    vocab_size: 40,
    hidden_size: 16,
    intermediate_size: 24,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 64,
    pad_token_id: 0,
  };
  const lora = {
    method: 'lora',
    r: 4,
    lora_alpha: 8,
    target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  };
  function llama(quantization: Record<string, unknown> | undefined, peft: Record<string, unknown> | null = lora): Experiment {
    const value = {
      backend: { type: 'tfjs', prefer: ['wasm', 'cpu'] },
      model: { type: 'llama', seed: 0, config: tinyLlama, ...(quantization ? { quantization } : {}) },
      objective: { type: 'causal-lm' },
      train: { type: 'standard', lr: 1e-2, batch_size: 2, gradient_checkpointing: true },
      ...(peft ? { peft } : {}),
    };
    return {
      name: 'tiny-llama',
      file: 'tiny-llama.yaml',
      bench: benchConfigSchema.parse({ kind: 'train', suites: ['full'], title: 'tiny', text_length: 8 }),
      recipe: { file: 'tiny-llama.yaml', baseDir: '.', value, origins: new Map(), selections: [] },
    };
  }

  test("the section parses with QLoRA's defaults; absent is undefined; a bad field is named with the file", () => {
    expect(quantizationOf({}, 'a.yaml')).toBeUndefined();
    expect(quantizationOf(undefined, 'a.yaml')).toBeUndefined();
    expect(quantizationOf({ quantization: { load_in_4bit: true } }, 'a.yaml')).toEqual({
      load_in_4bit: true,
      quant_type: 'nf4',
      double_quant: true,
      block_size: 64,
      compute_dtype: 'float32',
    });
    expect(() => quantizationOf({ quantization: { load_in_4bit: true, quant_type: 'int8' } }, 'b.yaml')).toThrow(
      /b\.yaml: model\.quantization\.quant_type: /,
    );
    expect(() => quantizationOf({ quantization: { load_in_4bit: true, block_size: 48 } }, 'b.yaml')).toThrow(
      /model\.quantization\.block_size: /,
    );
    expect(() => quantizationOf({ quantization: { load_in_4bit: false } }, 'b.yaml')).toThrow(/model\.quantization\.load_in_4bit/);
  });

  test('bits per parameter come from the arrays: 4 + 8/64 + 32/(64·256) stored with double quant, 4.5 without; resident counts the kernel tensors', () => {
    const values = Float32Array.from({ length: 32768 }, (_, i) => Math.sin(i));
    const dq = quantize4bit(values, 'nf4', { blockSize: 64, doubleQuant: true });
    const plain = quantize4bit(values, 'fp4', { blockSize: 64, doubleQuant: false });
    const resident = {
      shape: [128, 256],
      packed: { size: 4096 },
      absmax: { size: 512 },
      code: { size: 16 },
    } as unknown as PackedWeight4bit;
    expect(bitsOf([dq], [resident])).toEqual({ params: 32768, stored: 4 + 1 / 8 + 1 / 512, resident: ((4096 + 512 + 16) * 32) / 32768 });
    // Two weights: bits weighted by elements, (16896 + 18432)·8 / 65536.
    expect(bitsOf([dq, plain], []).stored).toBe(((16384 + 512 + 8 + 16384 + 2048) * 8) / 65536);
    expect(bitsOf([], []).stored).toBeNaN();
  });

  test('quantisation runs after checkpointing and before 16-bit storage, as the trainer orders them; without an adapter or a frozen Linear it is refused', () => {
    const calls: string[] = [];
    const api: MemoryApi = {
      setGradientCheckpointing: () => (calls.push('ckpt'), 1),
      storeFrozenWeights16: (_root, format) => (calls.push(`16 ${format}`), { packed: 1, bytesSaved: 8 }),
      quantizeLinears4bit: (_root, options) => (
        calls.push(`4bit ${JSON.stringify(options)}`),
        { quantized: 2, bytesSaved: 100, skipped: ['lm_head'] }
      ),
      quantizedWeights4bit: () => new Map([['a.weight', quantize4bit(new Float32Array(128).fill(1), 'nf4', { doubleQuant: true })]]),
      linears4bit: () => new Map(),
    };
    const root = {} as Parameters<typeof applyMemorySettings>[0];
    const config = quantizationOf({ quantization: { load_in_4bit: true, skip_modules: ['lm_head', 'mlp'] } }, 'x.yaml')!;
    const applied = applyMemorySettings(
      root,
      { checkpointing: true, frozenDtype: 'bf16', quantization: config },
      { file: 'x.yaml', modelType: 'toy', hasAdapter: true },
      api,
    );
    expect(calls).toEqual([
      'ckpt',
      '4bit {"quantType":"nf4","blockSize":64,"doubleQuant":true,"skipModules":["lm_head","mlp"],"dtype":"float32"}',
      '16 bf16',
    ]);
    // 128 elements: 64 packed bytes, 2 absmax codes, one float32 nested absmax = 70 bytes.
    expect(applied.quantization).toEqual({
      quantType: 'nf4',
      blockSize: 64,
      doubleQuant: true,
      quantizedWeights: 2,
      quantizedParams: 128,
      bytesSaved: 100,
      bitsPerParameter: (70 * 8) / 128,
      residentBitsPerParameter: Number.NaN,
      skipped: ['lm_head'],
    });
    const where = { file: 'x.yaml', modelType: 'toy', hasAdapter: false };
    const settings = { checkpointing: false, frozenDtype: 'f32', quantization: config } as const;
    expect(() => applyMemorySettings(root, settings, where, api)).toThrow(/x\.yaml: model\.quantization: .*no adapter/);
    const none: MemoryApi = { ...api, quantizeLinears4bit: () => ({ quantized: 0, bytesSaved: 0, skipped: [] }) };
    expect(() => applyMemorySettings(root, settings, { ...where, hasAdapter: true }, none)).toThrow(
      /has no frozen Linear weight to hold in 4 bits/,
    );
  });

  test('a tiny Llama with LoRA: 7 Linears × 2 layers held in 4 bits, lm_head float32, bits counted by hand; the step trains', async () => {
    const parts = await buildLmTrainParts(llama({ load_in_4bit: true }), registry);
    // Per layer q 16·16, k and v 16·8, o 16·16, gate, up, down 24·16: 1920 elements in 30 blocks of 64.
    // Stored: 960 packed bytes + 30 absmax codes + 7 nested float32 absmax (one per weight) = 1018 bytes per layer.
    // Resident: int32 words 32 + 16 + 16 + 32 + 3·48 = 240, 30 float32 absmax, 7 codes of 16 floats.
    expect(parts.memory).toEqual({
      checkpointing: 'every block',
      frozenDtype: 'f32',
      checkpointedStacks: 1,
      quantization: {
        quantType: 'nf4',
        blockSize: 64,
        doubleQuant: true,
        quantizedWeights: 14,
        quantizedParams: 3840,
        bytesSaved: expect.any(Number),
        bitsPerParameter: (2 * 1018 * 8) / 3840,
        residentBitsPerParameter: (2 * (240 + 30 + 7 * 16) * 32) / 3840,
        skipped: ['lm_head'],
      },
    });
    // bytesSaved is core's: float32 bytes freed less the kernel tensors.
    expect(parts.memory.quantization!.bytesSaved).toBe(2 * (1920 * 4 - (240 + 30 + 7 * 16) * 4));
    const [batch] = lmPool({ batch: 2, length: 8, vocabSize: 40, padId: 0 }, 1);
    const first = optimizerStepOn(parts, () => lmStepLoss(parts.model, batch!), 1e-2);
    for (let i = 0; i < 3; i++) optimizerStepOn(parts, () => lmStepLoss(parts.model, batch!), 1e-2);
    const after = optimizerStepOn(parts, () => lmStepLoss(parts.model, batch!), 1e-2);
    expect(Number.isFinite(first)).toBe(true);
    expect(after).toBeLessThan(first);
    disposeLmPool([batch!]);
    parts.optimizer.dispose();
    parts.model.dispose();
  });

  test('without peft the bench refuses model.quantization as the trainer does; the torch peer refuses it (no bitsandbytes)', async () => {
    await expect(buildLmTrainParts(llama({ load_in_4bit: true }, null), registry)).rejects.toThrow(/no adapter/);
    expect(() => peerSpec(llama({ load_in_4bit: true }))).toThrow(/torch peer has no bitsandbytes/);
    expect(peerSpec(llama(undefined))).toMatchObject({ mode: 'lm-train', lora: { r: 4 } });
  });
});
