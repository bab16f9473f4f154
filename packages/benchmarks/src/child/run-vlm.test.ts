// The BLIP-2 benchmark rows on a tiny BLIP-2 over a tiny OPT, built from config through the
// registry as the child builds them: the step loss is the mean cross-entropy over label tokens
// (the model's own mean loss), stage 2 trains the Q-Former, query tokens and projection only (the
// frozen towers do not move), the caption run times whole generate() calls, and the peer spec
// carries the filled config and the freeze globs. No speed is asserted (docs/benchmarks.md).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import { peerSpec } from '../peer/torch-peer';
import { benchConfigSchema } from '../suite/bench-config';
import { isLmExperiment, isVisionLmExperiment, type Experiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import { blip2ShapeOf, blip2Stage2Flops } from '../suite/vlm-flops';
import { buildVlmTrainParts, runCaption, runVlmTrain, vlmStepLoss } from './run-vlm';
import { optimizerStepOn } from './train-step';
import { disposeVlmPool, vlmPool, vlmSpecOf } from './vlm-synthetic';

const tinyBlip2 = {
  num_query_tokens: 3,
  image_token_index: 0,
  vision_config: { image_size: 16, patch_size: 8, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 },
  qformer_config: {
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
  },
  text_config: {
    model_type: 'opt',
    vocab_size: 40,
    hidden_size: 16,
    ffn_dim: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    max_position_embeddings: 64,
    dropout: 0,
    pad_token_id: 1,
    bos_token_id: 2,
    eos_token_id: 2,
  },
};

let registry: PluginRegistry;
beforeAll(async () => {
  registry = await benchRegistry();
});

function experiment(bench: Record<string, unknown>, config: Record<string, unknown> = tinyBlip2): Experiment {
  const value = {
    backend: { type: 'tfjs', prefer: ['wasm', 'cpu'] },
    model: { type: 'blip2', seed: 0, config },
    objective: { type: 'causal-lm' },
    train: { type: 'standard', lr: 1e-2, batch_size: 3, freeze: ['vision', 'language'] },
  };
  return {
    name: 'tiny-blip2',
    file: 'tiny-blip2.yaml',
    bench: benchConfigSchema.parse({ suites: ['full'], title: 'tiny', ...bench }),
    recipe: { file: 'tiny-blip2.yaml', baseDir: '.', value, origins: new Map(), selections: [] },
  };
}

const snapshot = (parts: { model: { root: { namedParameters(): [string, tf.Variable][] } } }) =>
  new Map(parts.model.root.namedParameters().map(([name, v]) => [name, Array.from(v.dataSync())] as const));

describe('BLIP-2 stage-2 step', () => {
  test.each([
    ['current', 0],
    ['legacy', null],
  ])('%s layout: the step loss is the mean over label tokens; only the Q-Former, query tokens and projection move', async (_, token) => {
    const exp = experiment({ kind: 'train' }, { ...tinyBlip2, image_token_index: token });
    const parts = await buildVlmTrainParts(exp, registry);
    expect(new Set(parts.params.map((p) => p.name.split('.')[0]))).toEqual(new Set(['query_tokens', 'qformer', 'language_projection']));
    const [batch] = vlmPool(vlmSpecOf({ ...tinyBlip2, image_token_index: token }, 3, 16), 1);
    const ours = tf.tidy(() => vlmStepLoss(parts.model, batch!).dataSync()[0]!);
    const mean = tf.tidy(() => {
      const inputs = {
        pixelValues: batch!.pixelValues,
        inputIds: batch!.inputIds,
        attentionMask: batch!.attentionMask,
        labels: batch!.labels,
      };
      return parts.model.forward(inputs).loss!.dataSync()[0]!;
    });
    expect(ours).toBeCloseTo(mean, 5);
    expect(ours).toBeGreaterThan(0);
    const before = snapshot(parts);
    const first = optimizerStepOn(parts, () => vlmStepLoss(parts.model, batch!), 1e-2);
    for (let i = 0; i < 4; i++) optimizerStepOn(parts, () => vlmStepLoss(parts.model, batch!), 1e-2);
    expect(first).toBeCloseTo(mean, 5);
    expect(tf.tidy(() => vlmStepLoss(parts.model, batch!).dataSync()[0]!)).toBeLessThan(first);
    const after = snapshot(parts);
    for (const [name, values] of before) {
      const moved = values.some((x, i) => x !== after.get(name)![i]);
      if (/^(vision_model|language_model)\./.test(name)) expect([name, moved]).toEqual([name, false]);
    }
    expect([...before].some(([name, values]) => name.startsWith('qformer.') && values.some((x, i) => x !== after.get(name)![i]))).toBe(
      true,
    );
    // AdamW's moments appear on the first step only; later steps leak nothing.
    const settled = tf.memory().numTensors;
    optimizerStepOn(parts, () => vlmStepLoss(parts.model, batch!), 1e-2);
    expect(tf.memory().numTensors).toBe(settled);
    disposeVlmPool([batch!]);
    parts.optimizer.dispose();
    parts.model.dispose();
  });
});

describe('BLIP-2 runs', () => {
  test('train: samples/s over the batch, the loss, the counted FLOPs', async () => {
    await expect(runVlmTrain(experiment({ kind: 'train', timed_steps: 3, text_length: 10 }), registry)).rejects.toThrow(
      /synthetic batch 2 has no label tokens at bench.text_length 10/,
    );
    const exp = experiment({ kind: 'train', warmup_steps: 1, timed_steps: 2, text_length: 16 });
    const result = await runVlmTrain(exp, registry);
    expect(result).toMatchObject({ side: 'mmft', unit: 'samples/s', steps: 3, timing: { samples: 2 } });
    expect(result.throughput).toBeCloseTo((1000 * 3) / result.timing.medianMs, 6);
    expect(Number.isFinite(result.loss)).toBe(true);
    expect(result.flops).toBe(blip2Stage2Flops(blip2ShapeOf(tinyBlip2), 3, 16).step);
    expect(result.trainableParams).toBeLessThan(result.totalParams!);
  });

  test('caption: one sample per generate() call, images/s over the batch', async () => {
    const result = await runCaption(
      experiment({ kind: 'caption', warmup_steps: 1, timed_steps: 2, batch_size: 2, new_tokens: 3 }),
      registry,
    );
    expect(result).toMatchObject({ side: 'mmft', unit: 'images/s', timing: { samples: 2 } });
    expect(result.throughput).toBeCloseTo((1000 * 2) / result.timing.medianMs, 6);
  });

  test('a model that is not vision-to-LLM is refused for the caption kind, naming the file', async () => {
    const exp = experiment({ kind: 'caption', timed_steps: 1 });
    const opt = {
      ...exp,
      recipe: { ...exp.recipe, value: { ...exp.recipe.value, model: { type: 'opt', config: tinyBlip2.text_config } } },
    };
    await expect(runCaption(opt, registry)).rejects.toThrow(/tiny-blip2\.yaml: model type "opt" .* is not a vision-to-LLM model/);
  });
});

describe('peer spec of BLIP-2 experiments', () => {
  test('stage 2 and caption: mode, filled config, synthetic batch, tower globs, optimizer or new tokens', () => {
    const train = experiment({ kind: 'train', text_length: 10 });
    expect([isVisionLmExperiment(train), isLmExperiment(train)]).toEqual([true, false]);
    expect(peerSpec(train)).toMatchObject({
      mode: 'vlm-train',
      arch: 'blip2',
      synthetic: { batch: 3, textLength: 10, queryTokens: 3, imageTokenId: 0, vocabSize: 40, padId: 1, imageSize: 16 },
      freeze: ['vision_model.**', 'language_model.**'],
      lr: 1e-2,
      config: {
        qformer_config: { cross_attention_frequency: 2, encoder_hidden_size: 8, layer_norm_eps: 1e-12 },
        vision_config: { layer_norm_eps: 1e-6, hidden_act: 'gelu' },
        text_config: { model_type: 'opt', enable_bias: true, do_layer_norm_before: true },
      },
    });
    const caption = experiment({ kind: 'caption', batch_size: 8, new_tokens: 20 });
    expect(peerSpec(caption)).toMatchObject({ mode: 'vlm-caption', newTokens: 20, synthetic: { batch: 8 } });
  });
});
