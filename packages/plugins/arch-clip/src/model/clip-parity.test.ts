import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { ClipModel } from '../clip-model';
import type { ClipConfigInput } from '../config';
import { registerGradients } from '@mmft/core/nn';
import { refClip, refText, REF_ACTIVATIONS, type RefWeights } from '../testing/reference-clip';
import { ClipMlp } from './encoder';
import { ClipTextTransformer } from './text-transformer';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const tiny = (text: Record<string, unknown> = {}, vision: Record<string, unknown> = {}): ClipConfigInput => ({
  projection_dim: 3,
  logit_scale_init_value: 1.3,
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
    ...text,
  },
  vision_config: {
    hidden_size: 6,
    intermediate_size: 10,
    num_hidden_layers: 2,
    num_attention_heads: 3,
    image_size: 6,
    patch_size: 3,
    ...vision,
  },
});

/** Perturbs every parameter so LayerNorm affine terms and biases are not the trivial ones/zeros. */
function randomize(model: ClipModel, seed: number): RefWeights {
  model.root
    .namedParameters()
    .forEach(([, v], i) => v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.3, 'float32', seed + i)))));
  return new Map(model.root.namedParameters().map(([n, v]) => [n, v.arraySync()]));
}

function expectClose(actual: tf.Tensor, expected: unknown, rtol = 1e-4, atol = 1e-5): void {
  const a = actual.arraySync() as number[] | number[][];
  const flat = (x: unknown): number[] => (Array.isArray(x) ? x.flatMap(flat) : [x as number]);
  const [fa, fe] = [flat(a), flat(expected)];
  expect(fa).toHaveLength(fe.length);
  fa.forEach((v, i) => expect(Math.abs(v - fe[i]!)).toBeLessThanOrEqual(atol + rtol * Math.abs(fe[i]!)));
}

const IDS = [
  [10, 3, 4, 5, 11, 11, 11], // right padding with pad == eos: pooled at the first eos
  [10, 9, 8, 7, 6, 2, 11],
];
const MASK = [
  [1, 1, 1, 1, 1, 0, 0],
  [1, 1, 1, 1, 1, 1, 1],
];

describe('CLIPModel.forward against an independent float64 implementation', () => {
  for (const [label, text, vision] of [
    ['quick_gelu, first-eos pooling', {}, {}],
    ['gelu, legacy eos_token_id 2 (argmax pooling)', { hidden_act: 'gelu', eos_token_id: 2 }, { hidden_act: 'gelu' }],
  ] as const) {
    test(label, () => {
      const model = ClipModel.fromConfig(tiny(text, vision), { seed: 5 });
      const weights = randomize(model, 100);
      const pixels = tf.randomNormal([2, 3, 6, 6], 0, 1, 'float32', 9);
      const ids = tf.tensor2d(IDS, undefined, 'int32');
      const mask = tf.tensor2d(MASK, undefined, 'int32');
      const out = model.forward({ pixelValues: pixels, inputIds: ids, attentionMask: mask });
      const ref = refClip(weights, model.config, pixels.arraySync() as number[][][][], IDS, MASK);
      expectClose(out.imageEmbeds!, ref.imageEmbeds);
      expectClose(out.textEmbeds!, ref.textEmbeds);
      expectClose(out.logitsPerText!, ref.logitsPerText);
      tf.dispose([pixels, ids, mask, ...Object.values(out)]);
      model.dispose();
    });
  }
});

describe('invariants of the CLIP head', () => {
  test('unit-norm embeds, logitsPerImage = logitsPerTextᵀ = exp(logit_scale)·cosine', () => {
    const model = ClipModel.fromConfig(tiny(), { seed: 1 });
    const pixels = tf.randomNormal([3, 3, 6, 6], 0, 1, 'float32', 2);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const out = model.forward({ pixelValues: pixels, inputIds: ids });
    expectClose(tf.norm(out.imageEmbeds!, 2, -1), [1, 1, 1], 0, 1e-6);
    expectClose(tf.norm(out.textEmbeds!, 2, -1), [1, 1], 0, 1e-6);
    expectClose(out.logitsPerImage!, tf.transpose(out.logitsPerText!).arraySync(), 0, 0);
    const image = model.getImageFeatures({ pixelValues: pixels }).arraySync() as number[][];
    const text = model.getTextFeatures({ inputIds: ids }).arraySync() as number[][];
    const cos = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i]!, 0) / Math.hypot(...a) / Math.hypot(...b);
    expectClose(
      out.logitsPerText!,
      text.map((t) => image.map((im) => Math.exp(1.3) * cos(t, im))),
    );
    model.dispose();
  });
});

describe('text tower masks and pooling', () => {
  const layerOutputs = (tower: ClipTextTransformer, ids: number[][], mask?: number[][]) =>
    tf.tidy(
      () =>
        tower
          .forward(tf.tensor2d(ids, undefined, 'int32'), mask && tf.tensor2d(mask, undefined, 'int32'))
          .lastHiddenState.arraySync() as number[][][],
    );

  test('causal: changing a later token leaves earlier positions unchanged and changes later ones', () => {
    const model = ClipModel.fromConfig(tiny(), { seed: 3 });
    const tower = model.root.child<ClipTextTransformer>('text_model');
    const a = layerOutputs(tower, [[10, 3, 4, 5, 6, 7, 11]])[0]!;
    const b = layerOutputs(tower, [[10, 3, 4, 9, 6, 7, 11]])[0]!;
    for (let t = 0; t < 3; t++) expect(b[t]).toEqual(a[t]);
    for (let t = 3; t < 7; t++) expect(b[t]).not.toEqual(a[t]);
    model.dispose();
  });

  test('padding: keys with attention_mask 0 are ignored (left padding), and matter when unmasked', () => {
    const model = ClipModel.fromConfig(tiny(), { seed: 4 });
    const tower = model.root.child<ClipTextTransformer>('text_model');
    const mask = [[0, 1, 1, 1, 1, 1, 1]];
    const a = layerOutputs(tower, [[1, 10, 3, 4, 5, 6, 11]], mask)[0]!;
    const b = layerOutputs(tower, [[8, 10, 3, 4, 5, 6, 11]], mask)[0]!;
    for (let t = 1; t < 7; t++) a[t]!.forEach((v, d) => expect(b[t]![d]).toBeCloseTo(v, 6));
    const c = layerOutputs(tower, [[8, 10, 3, 4, 5, 6, 11]])[0]!;
    expect(c[6]).not.toEqual(b[6]);
    model.dispose();
  });

  test('pooling follows eos_token_id: first eos normally, argmax of input_ids when it is 2', () => {
    const ids = [[10, 7, 3, 7, 5]]; // eos 7: first eos at 1 (the argmax would be 0)
    const legacyIds = [[10, 4, 3, 11, 5]]; // eos 2: argmax at 3 (the first-eos rule would find no 2 and give 0)
    for (const [eos, rows, at] of [
      [7, ids, 1],
      [2, legacyIds, 3],
    ] as const) {
      const model = ClipModel.fromConfig(tiny({ eos_token_id: eos }), { seed: 6 });
      const tower = model.root.child<ClipTextTransformer>('text_model');
      const { lastHiddenState, pooledOutput } = tower.forward(tf.tensor2d(rows as number[][], undefined, 'int32'));
      expect(pooledOutput.arraySync()).toEqual((lastHiddenState.arraySync() as number[][][])[0]!.slice(at, at + 1));
      const weights: RefWeights = new Map(model.root.namedParameters().map(([n, v]) => [n, v.arraySync()]));
      expectClose(pooledOutput, [refText(weights, model.config, rows[0] as number[]).pooled]);
      model.dispose();
    }
  });
});

describe('MLP activation follows hidden_act', () => {
  for (const act of ['quick_gelu', 'gelu'] as const) {
    test(act, () => {
      const settings = {
        hidden_size: 2,
        intermediate_size: 3,
        num_hidden_layers: 1,
        num_attention_heads: 1,
        hidden_act: act,
        layer_norm_eps: 1e-5,
        attention_dropout: 0,
      };
      const mlp = new ClipMlp(settings, 1);
      const x = [[-2.5, 0.7]];
      const fc1 = mlp
        .child('fc1')
        .namedParameters()
        .map(([, v]) => v.arraySync()) as [number[][], number[]];
      const fc2 = mlp
        .child('fc2')
        .namedParameters()
        .map(([, v]) => v.arraySync()) as [number[][], number[]];
      const hidden = fc1[0].map((row, o) => REF_ACTIVATIONS[act]!(row.reduce((s, wv, i) => s + wv * x[0]![i]!, fc1[1][o]!)));
      const expected = fc2[0].map((row, o) => row.reduce((s, wv, i) => s + wv * hidden[i]!, fc2[1][o]!));
      const y = mlp.forward(tf.tensor2d(x));
      expectClose(y, [expected], 1e-5, 1e-6);
      mlp.dispose();
    });
  }
});

describe('memory', () => {
  test('forward and backward leave no tensors behind', () => {
    const model = ClipModel.fromConfig(tiny(), { seed: 8 });
    const pixels = tf.randomNormal([2, 3, 6, 6]);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const before = tf.memory().numTensors;
    tf.dispose(Object.values(model.forward({ pixelValues: pixels, inputIds: ids })));
    const loss = () => tf.sum(model.forward({ pixelValues: pixels, inputIds: ids }).logitsPerText!) as tf.Scalar;
    const { value, grads } = tf.variableGrads(loss, model.root.trainableParameters());
    expect(Object.keys(grads).length).toBe(model.root.namedParameters().length);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
