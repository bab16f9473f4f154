// No engine set up: the synchronous fromConfig cannot select one itself (selection is async), so it
// says what to call instead of tfjs's "No backend found in registry". fromPretrained and the
// recipe path select the default engine themselves (core's ensureBackend; tests/e2e/docs-code.test.ts).
import { describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { ClipModel } from './clip-model';

const tiny = {
  projection_dim: 4,
  text_config: {
    vocab_size: 10,
    hidden_size: 8,
    num_attention_heads: 2,
    num_hidden_layers: 1,
    intermediate_size: 8,
    max_position_embeddings: 8,
  },
  vision_config: { hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 1, intermediate_size: 8, image_size: 8, patch_size: 4 },
};

describe('ClipModel without a tensor engine', () => {
  test('fromConfig names ensureBackend when tfjs has no engine at all', () => {
    expect(tf.engine().backendNames()).toEqual([]);
    let error: (Error & { code?: string; hint?: string }) | undefined;
    try {
      ClipModel.fromConfig(tiny, { seed: 0 });
    } catch (e) {
      error = e as typeof error;
    }
    expect(error).toMatchObject({ code: 'E_BACKEND' });
    expect(error!.message).toMatch(/ClipModel\.fromConfig needs a tensor engine/);
    expect(error!.hint).toMatch(/await ensureBackend\(\)/);
  });

  test('with an engine registered, fromConfig builds the model as before', () => {
    require('@tensorflow/tfjs-backend-cpu');
    const model = ClipModel.fromConfig(tiny, { seed: 0 });
    expect(tf.getBackend()).toBe('cpu');
    model.dispose();
  });
});
