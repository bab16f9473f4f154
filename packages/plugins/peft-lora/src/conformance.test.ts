// The shared PEFT conformance kit against LoRA, on a non-CLIP toy transformer, a GPT-2-shaped toy
// of Conv1D layers (fan_in_fan_out) and a tiny HF-layout CLIP, covering bias modes, rslora, regex
// targets, all-linear and modules_to_save.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from '@jest/globals';
import { registerGradients } from '@mmft/core/nn';
import { describePeftMethod } from '@mmft/core/testing';
import { loraMethod } from './plugin';
import { clipSubject, conv1dSubject, toySubject } from './test-subjects.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const isLora = (n: string) => /\.lora_[AB]\.default\.weight$/.test(n);

describePeftMethod(loraMethod, [
  {
    name: 'toy q/v',
    config: { r: 2, lora_alpha: 4, seed: 1 },
    makeSubject: () => toySubject(),
    expectTrainable: isLora,
    identityAtInit: true,
    mergeable: true,
  },
  {
    name: 'toy regex + bias all + rslora',
    config: {
      r: 4,
      lora_alpha: 8,
      use_rslora: true,
      bias: 'all',
      target_modules: 'layers\\.0\\.(self_attn\\.(q_proj|v_proj)|mlp\\.fc1)',
      seed: 2,
    },
    makeSubject: () => toySubject(),
    expectTrainable: (n) => isLora(n) || n.endsWith('.bias'),
    identityAtInit: true,
    mergeable: true,
  },
  {
    name: 'toy all-linear + lora_only bias + modules_to_save head',
    config: { r: 2, target_modules: 'all-linear', bias: 'lora_only', modules_to_save: ['head'], seed: 3 },
    makeSubject: () => toySubject(),
    expectTrainable: (n) => isLora(n) || /\.base_layer\.bias$/.test(n) || n.startsWith('head.modules_to_save.default.'),
    identityAtInit: true,
    mergeable: true,
  },
  {
    name: 'Conv1D toy c_attn (fan_in_fan_out)',
    config: { r: 2, lora_alpha: 4, target_modules: ['c_attn'], seed: 6 },
    makeSubject: () => conv1dSubject(),
    expectTrainable: (n) => isLora(n) && n.includes('.attn.c_attn.'),
    identityAtInit: true,
    mergeable: true,
  },
  {
    name: 'Conv1D toy all-linear + lora_only bias',
    config: { r: 2, lora_alpha: 2, target_modules: 'all-linear', bias: 'lora_only', seed: 7 },
    makeSubject: () => conv1dSubject(),
    expectTrainable: (n) => isLora(n) || /\.base_layer\.bias$/.test(n),
    identityAtInit: true,
    mergeable: true,
  },
  {
    name: 'tiny CLIP q/v',
    config: { r: 2, lora_alpha: 16, seed: 4 },
    makeSubject: clipSubject,
    expectTrainable: isLora,
    identityAtInit: true,
    mergeable: true,
  },
  {
    name: 'tiny CLIP text tower only + text_projection saved',
    config: {
      r: 2,
      target_modules: 'text_model\\..*\\.(q_proj|k_proj|v_proj|out_proj|fc1|fc2)',
      modules_to_save: ['text_projection'],
      seed: 5,
    },
    makeSubject: clipSubject,
    expectTrainable: (n) => (isLora(n) && n.startsWith('text_model.')) || n.startsWith('text_projection.modules_to_save.default.'),
    identityAtInit: true,
    mergeable: true,
  },
]);

// The kit checks the providers above; this checks they are the ones the published plugin registers.
import { expect, test } from '@jest/globals';
import publishedPlugin from './index';

test('the conformance-checked methods are what the plugin provides', () => {
  for (const method of [loraMethod]) expect(publishedPlugin.provides).toContain(method as never);
});
