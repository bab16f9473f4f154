// Prefix and prompt tuning specifics: PEFT's prompt_embeddings layout [P, L·2·D] split as
// PeftModel.get_prompt splits it, masks and padding with virtual tokens, model-field checks,
// and the clear error for an architecture without a PromptInjectionPoint.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { PeftToyModel } from '@mmft/core/testing';
import { PrefixEncoder } from './prefix-encoder';
import { prefixTuningMethod, promptTuningMethod } from './plugin';
import { clipSubject, toySubject } from './test-subjects.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const arr = (t: tf.Tensor) => Array.from(t.dataSync());

describe('prefix tuning', () => {
  test('prompt_embeddings is [P, L·2·D]; layer l reads columns (2l)·D for keys and (2l+1)·D for values, heads split', () => {
    const s = toySubject();
    const applied = prefixTuningMethod.apply(s.root, { num_virtual_tokens: 3, seed: 1 } as never, 'default');
    const table = applied.adapterStateDict().get('prompt_embeddings')!;
    expect(table.shape).toEqual([3, 2 * 2 * 8]);
    expect(applied.adapterConfigExtras!()).toEqual({ token_dim: 8, num_layers: 2, num_attention_heads: 2 });
    const encoder = s.root.getModule<PrefixEncoder>('prompt_encoder.default');
    const { key, value } = encoder.layerPrefix(table, 1);
    expect(key.shape).toEqual([1, 2, 3, 4]);
    const rows = table.arraySync() as number[][];
    // key[0, head 1, token 2, j] = table[2, (2·1 + 0)·8 + 1·4 + j]
    expect((key.arraySync() as number[][][][])[0]![1]![2]).toEqual(rows[2]!.slice(16 + 4, 16 + 8));
    expect((value.arraySync() as number[][][][])[0]![0]![1]).toEqual(rows[1]!.slice(24, 28));
    s.dispose();
  });

  test('targets of different widths, and a saved config for another model, are clear errors', async () => {
    const s = toySubject();
    expect(() => prefixTuningMethod.apply(s.root, { num_layers: 5 } as never, 'default')).toThrow(
      /num_layers is 5 in the config but the targeted model has 2/,
    );
    expect(() => prefixTuningMethod.apply(s.root, { target_modules: ['mlp'] } as never, 'default')).toThrow(
      /not MultiHeadAttention: layers\.0\.mlp/,
    );
    s.dispose();
    expect(() => prefixTuningMethod.fromAdapterConfig({ peft_type: 'LORA', r: 8 }, 'a/adapter_config.json')).toThrow(
      /a\/adapter_config\.json: peft_type is "LORA", but the prefix-tuning method reads "PREFIX_TUNING"/,
    );
  });
});

describe('prompt tuning', () => {
  test('padding stays masked: a padded row gives what the unpadded row gives, with virtual tokens in front', () => {
    const model = new PeftToyModel({ seed: 4 });
    promptTuningMethod.apply(model, { num_virtual_tokens: 2, seed: 1 } as never, 'default');
    const padded = model.forward(tf.tensor2d([[5, 6, 7, 0]], [1, 4], 'int32'), tf.tensor2d([[1, 1, 1, 0]], [1, 4], 'int32'));
    const unpadded = model.forward(tf.tensor2d([[5, 6, 7]], [1, 3], 'int32'));
    arr(padded).forEach((v, i) => expect(v).toBeCloseTo(arr(unpadded)[i]!, 5));
    model.dispose();
  });

  test('prompt_embeddings is [P, D]; a model without a PromptInjectionPoint is refused with the reason', async () => {
    const s = toySubject();
    const applied = promptTuningMethod.apply(s.root, { num_virtual_tokens: 3 } as never, 'default');
    expect(applied.adapterStateDict().get('prompt_embeddings')!.shape).toEqual([3, 8]);
    s.dispose();
    const clip = await clipSubject();
    expect(() =>
      promptTuningMethod.apply(clip.root, { num_virtual_tokens: 3, target_modules: 'vision_model' } as never, 'default'),
    ).toThrow(/no module of this model matching target_modules "vision_model" implements PromptInjectionPoint; those that do: text_model/);
    expect(() => promptTuningMethod.apply(clip.root.getModule('vision_model'), { num_virtual_tokens: 3 } as never, 'default')).toThrow(
      /no module of this model implements PromptInjectionPoint/,
    );
    clip.dispose();
  });
});
