// The shared PEFT conformance kit against prefix tuning (toy transformer, tiny CLIP text tower,
// MLP reparameterisation, a toy causal LM with and without grouped-query heads) and prompt tuning
// (toy transformer, the reference PromptInjectionPoint; tiny CLIP, whose text tower is one; the toy
// causal LM).
// Neither can start as the base model (extra attention positions), so the kit checks instead
// that the output changes and that disabling gives the base exactly.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll } from '@jest/globals';
import { registerGradients } from '@mmft/core/nn';
import { describePeftMethod } from '@mmft/core/testing';
import { prefixTuningMethod, promptTuningMethod } from './plugin';
import { clipSubject, toySubject } from './test-subjects.test-helper';
import { toyLmSubject } from './toy-causal-lm.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const isEncoder = (n: string) => n.startsWith('prompt_encoder.default.');

describePeftMethod(prefixTuningMethod, [
  {
    name: 'toy',
    config: { num_virtual_tokens: 3, seed: 1 },
    makeSubject: () => toySubject(),
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
  {
    name: 'toy with prefix_projection',
    config: { num_virtual_tokens: 2, prefix_projection: true, encoder_hidden_size: 6, seed: 2 },
    makeSubject: () => toySubject(),
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
  {
    name: 'tiny CLIP text tower',
    config: { num_virtual_tokens: 4, target_modules: 'text_model\\..*\\.self_attn', seed: 3 },
    makeSubject: clipSubject,
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
  // Causal LMs take the prefix at the model level (through the KV cache), as PEFT's PeftModelForCausalLM.
  {
    name: 'toy causal LM, grouped-query heads',
    config: { num_virtual_tokens: 3, seed: 4, task_type: 'CAUSAL_LM' },
    makeSubject: () => toyLmSubject({ kvHeads: 2 }),
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
  {
    name: 'toy causal LM with prefix_projection',
    config: { num_virtual_tokens: 2, prefix_projection: true, encoder_hidden_size: 6, seed: 5 },
    makeSubject: () => toyLmSubject(),
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
]);

describePeftMethod(promptTuningMethod, [
  {
    name: 'toy',
    config: { num_virtual_tokens: 3, seed: 1 },
    makeSubject: () => toySubject(),
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
  // CLIP's text tower is its only PromptInjectionPoint: found by scanning, or named.
  {
    name: 'tiny CLIP',
    config: { num_virtual_tokens: 4, seed: 3 },
    makeSubject: clipSubject,
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
  {
    name: 'toy causal LM (virtual tokens before the embeddings)',
    config: { num_virtual_tokens: 3, seed: 6, task_type: 'CAUSAL_LM' },
    makeSubject: () => toyLmSubject({ kvHeads: 2 }),
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
  {
    name: 'tiny CLIP, target_modules text_model',
    config: { num_virtual_tokens: 2, target_modules: ['text_model'], seed: 4 },
    makeSubject: clipSubject,
    expectTrainable: isEncoder,
    identityAtInit: false,
  },
]);

// The kit checks the providers above; this checks they are the ones the published plugin registers.
import { expect, test } from '@jest/globals';
import publishedPlugin from './index';

test('the conformance-checked methods are what the plugin provides', () => {
  for (const method of [prefixTuningMethod, promptTuningMethod]) expect(publishedPlugin.provides).toContain(method as never);
});
