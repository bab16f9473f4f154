// ClipTextTransformer as a PromptInjectionPoint (core contracts/peft.ts): virtual tokens after
// the position embeddings, widened masks, eos pooling shifted by P, checked against the same layers
// driven by hand and against the independent float64 reference.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { isMmftError, isPromptInjectionPoint } from '@mmft/core';
import { causalMask, combineMasks, LayerNorm, paddingMask, registerGradients } from '@mmft/core/nn';
import { ClipModel } from '../clip-model';
import { refText } from '../testing/reference-clip';
import type { ClipEncoder } from './encoder';
import { gatherPositions } from './pooling';
import type { ClipTextEmbeddings, ClipTextTransformer } from './text-transformer';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const P = 3;
// 7 tokens = max_position_embeddings: P + T does not fit the position table, and need not.
const IDS = [
  [10, 3, 4, 5, 11, 11, 11], // right padding with pad == eos: pooled at the first eos
  [10, 9, 8, 7, 6, 2, 11],
];
const MASK = [
  [1, 1, 1, 1, 1, 0, 0],
  [1, 1, 1, 1, 1, 1, 1],
];

let model: ClipModel | undefined;
afterEach(() => {
  model?.dispose();
  model = undefined;
});

function tinyText(): ClipTextTransformer {
  model = ClipModel.fromConfig(
    {
      projection_dim: 3,
      text_config: {
        vocab_size: 12,
        hidden_size: 8,
        intermediate_size: 12,
        num_hidden_layers: 2,
        num_attention_heads: 2,
        max_position_embeddings: 7,
        bos_token_id: 10,
        eos_token_id: 11,
        pad_token_id: 11,
      },
      vision_config: { hidden_size: 6, intermediate_size: 10, num_hidden_layers: 1, num_attention_heads: 3, image_size: 6, patch_size: 3 },
    },
    { seed: 5 },
  );
  // Non-trivial LayerNorm affine terms and biases.
  model.root
    .namedParameters()
    .forEach(([, v], i) => v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', 100 + i)))));
  return model.root.getModule<ClipTextTransformer>('text_model');
}

/** The prompted forward built from the tower's own layers, step by step. */
function byHand(text: ClipTextTransformer, prompt: tf.Tensor, ids: tf.Tensor, mask: tf.Tensor): { hidden: tf.Tensor; pooled: tf.Tensor } {
  return tf.tidy(() => {
    const [batch, length] = ids.shape as [number, number];
    const x = tf.concat([prompt, text.child<ClipTextEmbeddings>('embeddings').forward(ids)], 1);
    const attn = combineMasks(causalMask(P + length), paddingMask(tf.concat([tf.ones([batch, P], 'int32'), mask], 1)));
    const hidden = text.child<LayerNorm>('final_layer_norm').forward(text.child<ClipEncoder>('encoder').forward(x, attn));
    return { hidden, pooled: gatherPositions(hidden, [P + 4, P + 6]) };
  });
}

describe('ClipTextTransformer as PromptInjectionPoint', () => {
  test('is the one injection point of CLIPModel, at text_model, hidden_size wide', () => {
    const text = tinyText();
    const points = model!.root.namedModules().filter(([, m]) => isPromptInjectionPoint(m));
    expect(points.map(([n]) => n)).toEqual(['text_model']);
    expect(text.promptTokenDim).toBe(8);
  });

  test('prompted forward equals the same layers driven by hand and the float64 reference', () => {
    const text = tinyText();
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const mask = tf.tensor2d(MASK, undefined, 'int32');
    const prompt = tf.randomNormal([2, P, 8], 0, 1, 'float32', 3);
    text.setPromptSource(() => tf.clone(prompt));
    const out = text.forward(ids, mask);
    expect(out.lastHiddenState.shape).toEqual([2, P + 7, 8]);
    const ref = byHand(text, prompt, ids, mask);
    expect(out.lastHiddenState.arraySync()).toEqual(ref.hidden.arraySync());
    expect(out.pooledOutput.arraySync()).toEqual(ref.pooled.arraySync());
    const weights = new Map(model!.root.namedParameters().map(([n, v]) => [n, v.arraySync()]));
    const rows = prompt.arraySync() as number[][][];
    const pooled = out.pooledOutput.arraySync() as number[][];
    IDS.forEach((row, b) => {
      const expected = refText(weights, model!.config, row, MASK[b], rows[b]).pooled;
      pooled[b]!.forEach((v, d) => expect(Math.abs(v - expected[d]!)).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(expected[d]!)));
    });
    tf.dispose([ids, mask, prompt, out.lastHiddenState, out.pooledOutput, ref.hidden, ref.pooled]);
  });

  test('a [1, P, D] source is shared by the batch; no mask means nothing is padding', () => {
    const text = tinyText();
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const ones = tf.onesLike(ids);
    const prompt = tf.randomNormal([1, P, 8], 0, 1, 'float32', 4);
    text.setPromptSource(() => tf.clone(prompt));
    const shared = text.forward(ids, undefined);
    text.setPromptSource(() => tf.tile(prompt, [2, 1, 1]));
    const tiled = text.forward(ids, ones);
    expect(shared.pooledOutput.arraySync()).toEqual(tiled.pooledOutput.arraySync());
    tf.dispose([ids, ones, prompt, shared.lastHiddenState, shared.pooledOutput, tiled.lastHiddenState, tiled.pooledOutput]);
  });

  test('clearing the source gives the base output exactly', () => {
    const text = tinyText();
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const mask = tf.tensor2d(MASK, undefined, 'int32');
    const prompt = tf.randomNormal([2, P, 8], 0, 1, 'float32', 5);
    const before = text.forward(ids, mask);
    text.setPromptSource(() => tf.clone(prompt));
    const prompted = text.forward(ids, mask);
    text.setPromptSource(undefined);
    const after = text.forward(ids, mask);
    expect(prompted.pooledOutput.arraySync()).not.toEqual(before.pooledOutput.arraySync());
    expect(after.lastHiddenState.arraySync()).toEqual(before.lastHiddenState.arraySync());
    expect(after.pooledOutput.arraySync()).toEqual(before.pooledOutput.arraySync());
    tf.dispose([ids, mask, prompt, ...[before, prompted, after].flatMap((o) => [o.lastHiddenState, o.pooledOutput])]);
  });

  test('gradients reach only the prompt embeddings, every virtual token; nothing leaks', () => {
    const text = tinyText();
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const mask = tf.tensor2d(MASK, undefined, 'int32');
    const table = tf.variable(tf.randomNormal([P, 8], 0, 1, 'float32', 6), true, 'prompt_table');
    model!.root.freeze();
    text.setPromptSource((b) => tf.tidy(() => tf.tile(tf.expandDims(table, 0), [b, 1, 1])));
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(model!.root.textFeatures(ids, mask))) as tf.Scalar,
      [table, ...model!.root.namedParameters().map(([, v]) => v)],
    );
    // tfjs lists frozen variables it was given with a null gradient.
    expect(Object.keys(grads).filter((k) => grads[k] != null)).toEqual(['prompt_table']);
    const g = grads.prompt_table!.arraySync() as number[][];
    g.forEach((row) => {
      expect(row.every(Number.isFinite)).toBe(true);
      expect(row.some((v) => v !== 0)).toBe(true);
    });
    tf.dispose([value, ...Object.values(grads).filter((t) => t != null)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([ids, mask, table]);
  });

  test('a source of the wrong width is an E_SHAPE error naming both shapes, and leaks nothing', () => {
    const text = tinyText();
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    text.setPromptSource((b) => tf.zeros([b, P, 5]));
    const before = tf.memory().numTensors;
    let error: unknown;
    try {
      text.forward(ids, undefined);
    } catch (e) {
      error = e;
    }
    expect(isMmftError(error) && error.code === 'E_SHAPE' && /float32 \[2, 3, 5\].*\[2 or 1, P > 0, 8\]/.test(error.message)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    ids.dispose();
  });
});
