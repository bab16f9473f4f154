// The LLaVA benchmark rows on a tiny LLaVA (CLIP vision tower + projector + tiny Llama) built from
// config through the registry as the child builds them: the synthetic layout ([<image> × Q, text],
// Q the image features; <image> the last id), the stage-2 LoRA step (only the LM's LoRA weights and
// the projector's modules_to_save copy move; the step loss is the model's mean loss), the
// generation row in new tokens/s, the FLOPs added up by hand, and the peer spec. No speed is asserted.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import type { PluginRegistry } from '@mmft/core';
import { peerSpec } from '../peer/torch-peer';
import { benchConfigSchema } from '../suite/bench-config';
import { isLmExperiment, isVisionLmExperiment, type Experiment } from '../suite/experiment';
import { benchRegistry } from '../suite/registry';
import { llavaGenerateFlops, llavaShapeOf, llavaTrainFlops } from '../suite/vlm-flops';
import { buildVlmTrainParts, loraTargetsOf, runCaption, runVlmTrain, vlmStepLoss } from './run-vlm';
import { optimizerStepOn } from './train-step';
import { disposeVlmPool, llavaSpecOf, vlmHostBatch, vlmPool, vlmPromptRow } from './vlm-synthetic';

// Image 16, patch 8: 4 patches + class token; strategy default drops the class token → 4 features.
const tinyLlava = {
  image_token_index: 39,
  vision_feature_layer: -2,
  vision_config: { image_size: 16, patch_size: 8, hidden_size: 8, intermediate_size: 16, num_hidden_layers: 2, num_attention_heads: 2 },
  text_config: {
    model_type: 'llama',
    vocab_size: 40,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    max_position_embeddings: 64,
    pad_token_id: 0,
    bos_token_id: 1,
    eos_token_id: 2,
  },
};
const LM_LINEARS = 'language_model\\..*\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)';
const lora = {
  method: 'lora',
  r: 2,
  lora_alpha: 4,
  lora_dropout: 0,
  target_modules: LM_LINEARS,
  modules_to_save: ['multi_modal_projector'],
  seed: 0,
};

let registry: PluginRegistry;
beforeAll(async () => {
  registry = await benchRegistry();
});

function experiment(bench: Record<string, unknown>, peft: Record<string, unknown> | undefined = lora): Experiment {
  const value = {
    backend: { type: 'tfjs', prefer: ['wasm', 'cpu'] },
    model: { type: 'llava', seed: 0, config: tinyLlava },
    objective: { type: 'causal-lm' },
    train: { type: 'standard', lr: 1e-2, batch_size: 3 },
    ...(peft ? { peft } : {}),
  };
  return {
    name: 'tiny-llava',
    file: 'tiny-llava.yaml',
    bench: benchConfigSchema.parse({ suites: ['full'], title: 'tiny', ...bench }),
    recipe: { file: 'tiny-llava.yaml', baseDir: '.', value, origins: new Map(), selections: [] },
  };
}

describe('LLaVA synthetic batches', () => {
  test('Q = the image features, <image> the last id, text ids below it, the prompt [bos, <image> × Q]', () => {
    const spec = llavaSpecOf(tinyLlava, 2, 20);
    expect(spec).toEqual({
      batch: 2,
      imageSize: 16,
      textLength: 20,
      queryTokens: 4,
      imageTokenId: 39,
      vocabSize: 39,
      padId: 0,
      bosId: 1,
      bosFirst: true,
    });
    expect(llavaSpecOf({ ...tinyLlava, vision_feature_select_strategy: 'full' }, 1, 1).queryTokens).toBe(5);
    const host = vlmHostBatch(spec, 0);
    expect(host.length).toBe(24);
    for (let b = 0; b < 2; b++) {
      const row = Array.from(host.ids.slice(b * 24, (b + 1) * 24));
      expect(row.slice(0, 4)).toEqual([39, 39, 39, 39]);
      expect(row.slice(4).every((id) => id === 0 || (id >= 3 && id <= 38))).toBe(true);
      expect(Array.from(host.labels.slice(b * 24, b * 24 + 4))).toEqual([-100, -100, -100, -100]);
    }
    expect(vlmPromptRow(spec)).toEqual([1, 39, 39, 39, 39]);
    expect(() => llavaSpecOf({ ...tinyLlava, image_token_index: 5 }, 1, 1, 'x.yaml')).toThrow(
      /x\.yaml: model\.config\.image_token_index 5 is not the last id of text_config\.vocab_size 40/,
    );
  });
});

const snapshot = (parts: { model: { root: { namedParameters(): [string, tf.Variable][] } } }) =>
  new Map(parts.model.root.namedParameters().map(([name, v]) => [name, Array.from(v.dataSync())] as const));

describe('LLaVA stage-2 LoRA step', () => {
  test('the step loss is the mean over label tokens; only LM LoRA weights and the projector copy move', async () => {
    const parts = await buildVlmTrainParts(experiment({ kind: 'train' }), registry);
    const names = parts.params.map((p) => p.name);
    expect(names.every((n) => /^language_model\..*\.lora_[AB]\./.test(n) || n.startsWith('multi_modal_projector.modules_to_save.'))).toBe(
      true,
    );
    // 2 layers × 7 linears × (A + B), and the projector's linear_1 / linear_2 weight + bias.
    expect(names.filter((n) => n.includes('.lora_')).length).toBe(2 * 7 * 2);
    expect(names.filter((n) => n.startsWith('multi_modal_projector.')).length).toBe(4);
    const [batch] = vlmPool(llavaSpecOf(tinyLlava, 3, 16), 1);
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
    const moved = (name: string) => before.get(name)!.some((x, i) => x !== after.get(name)![i]);
    for (const name of before.keys()) {
      if (name.startsWith('vision_tower.') || (name.startsWith('language_model.') && !name.includes('.lora_'))) {
        expect([name, moved(name)]).toEqual([name, false]);
      }
    }
    expect([...before.keys()].some((n) => n.startsWith('multi_modal_projector.modules_to_save.') && moved(n))).toBe(true);
    expect([...before.keys()].some((n) => n.includes('.lora_B.') && moved(n))).toBe(true);
    disposeVlmPool([batch!]);
    parts.optimizer.dispose();
    parts.model.dispose();
  });
});

describe('LLaVA runs', () => {
  test('train: samples/s over the batch, the counted FLOPs', async () => {
    const exp = experiment({ kind: 'train', warmup_steps: 1, timed_steps: 2, text_length: 16 });
    const result = await runVlmTrain(exp, registry);
    expect(result).toMatchObject({ side: 'mmft', unit: 'samples/s', steps: 3, timing: { samples: 2 } });
    expect(result.throughput).toBeCloseTo((1000 * 3) / result.timing.medianMs, 6);
    expect(Number.isFinite(result.loss)).toBe(true);
    const targets = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
    expect(loraTargetsOf(exp)).toEqual({ r: 2, targets });
    expect(result.flops).toBe(llavaTrainFlops(llavaShapeOf(tinyLlava), 3, 16, { r: 2, targets }).step);
  });

  test('generation: one sample per generate() call, new tokens/s over the batch', async () => {
    const exp = experiment({ kind: 'caption', warmup_steps: 1, timed_steps: 2, batch_size: 2, new_tokens: 3 }, undefined);
    const result = await runCaption(exp, registry);
    expect(result).toMatchObject({ side: 'mmft', unit: 'tokens/s', timing: { samples: 2 } });
    expect(result.throughput).toBeCloseTo((1000 * 2 * 3) / result.timing.medianMs, 6);
    expect(result.flops).toBe(llavaGenerateFlops(llavaShapeOf(tinyLlava), 2, 3));
  });
});

describe('LLaVA FLOPs', () => {
  // Vision over 5 tokens, width 8, MLP 16, 1 of 2 layers run (feature layer −2): patch conv
  // 2·4·(3·8²)·8 = 12288; q/k/v/o 4·2·5·8² = 2560; MLP 2·2·5·8·16 = 2560; attention 2·2·5²·8 = 800.
  const vision = 12288 + 2560 + 2560 + 800;
  // Projector over 4 features: linear_1 2·4·8·16 = 1024, linear_2 2·4·16² = 2048.
  const [first, second] = [1024, 2048];
  // Llama width 16, q/o 16 wide, k/v 8 wide (1 kv head of 8), MLP 32, vocabulary 40, untied head:
  // per token and layer q, o 2·2·16·16 = 1024; k, v 2·2·16·8 = 512; MLP 3·2·16·32 = 3072 → 4608; head 2·16·40 = 1280.
  const layer = 4608;
  const head = 1280;
  test('shape: layers run up to the feature layer, features without the class token', () => {
    expect(llavaShapeOf(tinyLlava)).toMatchObject({
      patches: 4,
      vision: { layers: 1 },
      features: 4,
      projector: { inWidth: 8, linears: 2 },
    });
    expect(llavaShapeOf({ ...tinyLlava, vision_feature_layer: [-1, 0], mm_projector_type: 'mlp3x_gelu' })).toMatchObject({
      vision: { layers: 2 },
      projector: { inWidth: 16, linears: 3 },
    });
  });

  test('a stage-2 LoRA step (r 2 on q_proj): vision 1×, linear_1 2×, linear_2 3×, the LM as PEFT', () => {
    const n = 4 + 2; // image features + text positions
    const weights = n * (2 * layer + head);
    const attention = 2 * 2 * 2 * n * n * 16;
    const adapters = 2 * n * 2 * 2 * (16 + 16);
    const forward = vision + first + second + weights + attention + adapters;
    const step = vision + 2 * first + 3 * second + 2 * weights + 3 * attention + 3 * adapters;
    expect(llavaTrainFlops(llavaShapeOf(tinyLlava), 2, 2, { r: 2, targets: ['q_proj'] })).toEqual({ forward: 2 * forward, step: 2 * step });
  });

  test('a generate() call: the image side once, the prefill over [bos, image × 4] with one head, then two decode steps', () => {
    const prefill = 5 * 2 * layer + 2 * 2 * 2 * 5 * 5 * 16 + head;
    const decode = (keys: number) => 2 * (layer + 2 * 2 * keys * 16) + head;
    expect(llavaGenerateFlops(llavaShapeOf(tinyLlava), 1, 3)).toBe(vision + first + second + prefill + decode(6) + decode(7));
  });
});

describe('peer spec of LLaVA experiments', () => {
  test('stage-2 LoRA and generation: mode, filled config, synthetic batch, LoRA names and modules_to_save', () => {
    const train = experiment({ kind: 'train', text_length: 16 });
    expect([isVisionLmExperiment(train), isLmExperiment(train)]).toEqual([true, false]);
    expect(peerSpec(train)).toMatchObject({
      mode: 'vlm-train',
      arch: 'llava',
      synthetic: { batch: 3, textLength: 16, queryTokens: 4, imageTokenId: 39, vocabSize: 39, bosFirst: true },
      lora: {
        r: 2,
        lora_alpha: 4,
        target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
        modules_to_save: ['multi_modal_projector'],
      },
      freeze: [],
      lr: 1e-2,
      config: {
        vision_feature_layer: -2,
        vision_feature_select_strategy: 'default',
        projector_hidden_act: 'gelu',
        vision_config: { model_type: 'clip_vision_model', hidden_act: 'quick_gelu', layer_norm_eps: 1e-5 },
        text_config: { model_type: 'llama', rms_norm_eps: 1e-6, tie_word_embeddings: false },
      },
    });
    const generate = experiment({ kind: 'caption', batch_size: 8, new_tokens: 20 }, undefined);
    expect(peerSpec(generate)).toMatchObject({ mode: 'vlm-caption', newTokens: 20, synthetic: { batch: 8, queryTokens: 4 } });
    expect(peerSpec(generate).lora).toBeUndefined();
  });
});
