// The benchmark's step is a real training step: the synthetic texts pool at their eos, LoRA's
// step moves only adapter weights, full fine-tuning moves the towers, losses are finite.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { eosPositions } from '@mmft/arch-clip';
import type { PluginRegistry } from '@mmft/core';
import { benchRegistry } from '../suite/registry';
import type { Experiment } from '../suite/experiment';
import { buildTrainParts, selectEngine } from './build-run';
import { disposePool, POOL_BATCHES, syntheticPixels, syntheticPool, syntheticText } from './synthetic';
import { trainStep } from './train-step';

const tiny = {
  projection_dim: 16,
  text_config: {
    vocab_size: 64,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    max_position_embeddings: 16,
    pad_token_id: 0,
    bos_token_id: 62,
    eos_token_id: 63,
  },
  vision_config: { image_size: 16, patch_size: 8, hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2 },
};

let registry: PluginRegistry;
beforeAll(async () => {
  registry = await benchRegistry();
});

function experiment(extra: Record<string, unknown>): Experiment {
  const value = {
    backend: { type: 'tfjs', prefer: ['wasm', 'cpu'], overrides: true },
    model: { type: 'clip', seed: 0, config: tiny },
    loss: { type: 'clip' },
    train: { type: 'standard', lr: 1e-2, batch_size: 4 },
    ...extra,
  };
  return {
    name: 'tiny',
    file: 'tiny.yaml',
    bench: {} as Experiment['bench'],
    recipe: { file: 'tiny.yaml', baseDir: '.', value, origins: new Map(), selections: [] },
  };
}

const spec = { batch: 4, imageSize: 16, textLength: 16, vocabSize: 64, bosId: 62, eosId: 63 };

describe('synthetic batches', () => {
  test('texts start with bos, end with eos where the mask ends, ids stay in the vocabulary', async () => {
    const { ids, mask } = syntheticText(spec, 1);
    await selectEngine(experiment({}), registry);
    const tensor = tf.tensor2d(ids, [4, 16], 'int32');
    const eos = eosPositions(tensor, 63);
    tensor.dispose();
    eos.forEach((at, b) => {
      expect(ids[b * 16]).toBe(62);
      expect(at).toBe(8 + ((13 * (4 + b)) % 7));
      expect(mask[b * 16 + at]).toBe(1);
      if (at + 1 < 16) expect(mask[b * 16 + at + 1]).toBe(0);
    });
    expect(Math.max(...ids)).toBeLessThan(64);
  });

  test('pixels follow the closed form the torch peer uses', () => {
    const pixels = syntheticPixels(spec, 2);
    // sample s = 2·4 + 1, channel 2, y 3, x 5
    const at = ((1 * 3 + 2) * 16 + 3) * 16 + 5;
    expect(pixels[at]).toBeCloseTo(Math.sin(0.05 * 6 * 3 + 0.11 * 3 * 3 + 0.7 * 9), 5);
  });
});

describe('trainStep', () => {
  test('full fine-tune updates tower weights and returns a finite loss', async () => {
    const parts = await buildTrainParts(experiment({}), registry);
    const pool = syntheticPool(spec);
    expect(pool.length).toBe(POOL_BATCHES);
    const weight = parts.model.root.namedParameters().find(([n]) => n === 'vision_model.encoder.layers.0.mlp.fc1.weight')![1];
    const before = weight.dataSync().slice();
    const loss = trainStep(parts, pool[0]!, 1e-2);
    expect(Number.isFinite(loss)).toBe(true);
    expect(Array.from(weight.dataSync())).not.toEqual(Array.from(before));
    disposePool(pool);
    parts.optimizer.dispose();
    parts.model.dispose();
  });

  test('LoRA trains only the adapter: base weights stay as they were', async () => {
    const parts = await buildTrainParts(
      experiment({ peft: { method: 'lora', r: 2, target_modules: ['q_proj', 'v_proj'], seed: 0 } }),
      registry,
    );
    expect(parts.params.every((p) => p.name.includes('lora_') || p.name.startsWith('loss.'))).toBe(true);
    const pool = syntheticPool(spec);
    const base = parts.model.root.namedParameters().find(([n]) => n.endsWith('mlp.fc1.weight'))![1];
    const before = Array.from(base.dataSync());
    for (let i = 0; i < 2; i++) expect(Number.isFinite(trainStep(parts, pool[i]!, 1e-2))).toBe(true);
    expect(Array.from(base.dataSync())).toEqual(before);
    disposePool(pool);
    parts.optimizer.dispose();
    parts.model.dispose();
  });
});
