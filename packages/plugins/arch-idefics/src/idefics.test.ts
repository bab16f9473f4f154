import 'reflect-metadata';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { llamaProvider } from '@mmft/arch-llama';
import { isCausalLanguageModel, parseConfig } from '@mmft/core';
import { readSafetensors, writeSafetensors } from '@mmft/core/io';
import { registerGradients, setGradientCheckpointing } from '@mmft/core/nn';
import { textConfigOf, parseIdeficsConfig } from './config';
import { IdeficsForVisionText2Text } from './idefics-for-vision-text2text';
import { tinyIdefics, tinyIdeficsConfig, tinyIdeficsContext, TINY_IMAGE_TOKEN as IMG } from './tiny-idefics.test-helper';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'idefics-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Two images [2, 3, 4, 4] with a fixed pattern; `shift` changes the second one only. */
function images(seed: number, shift = 0): tf.Tensor {
  return tf.tidy(() => {
    const a = tf.randomUniform([1, 3, 4, 4], -1, 1, 'float32', seed);
    const b = tf.add(tf.randomUniform([1, 3, 4, 4], -1, 1, 'float32', seed + 1), shift);
    return tf.concat([a, b], 0);
  });
}

/** Sets every gate of the model to `value`. */
function setGates(model: IdeficsForVisionText2Text, value: number): void {
  for (const [name, v] of model.root.stateDict()) if (/alpha_(cross_attn|dense)$/.test(name)) v.assign(tf.fill(v.shape, value));
}

const rowsOf = (logits: tf.Tensor) => logits.arraySync() as number[][][];

// tokens: 0..1 text, 2 <image>, 3..4 text, 5 <image>, 6..7 text
const IDS = [[1, 7, IMG, 8, 9, IMG, 10, 11]];

describe('IdeficsForVisionText2Text', () => {
  let model: IdeficsForVisionText2Text;
  beforeAll(async () => {
    model = await tinyIdefics();
  });
  afterAll(() => model.dispose());

  test('the tree carries IDEFICS state-dict names, gates [1] initialised to zero', () => {
    const names = [...model.root.stateDict().keys()];
    for (const name of [
      'model.embed_tokens.weight',
      'model.layers.1.self_attn.q_proj.weight',
      'model.norm.weight',
      'lm_head.weight',
      'model.vision_model.embeddings.patch_embedding.weight',
      'model.vision_model.post_layernorm.weight',
      'model.perceiver_resampler.latents',
      'model.perceiver_resampler.blocks.0.0.context_layer_norm.weight',
      'model.perceiver_resampler.blocks.0.0.latents_layer_norm.bias',
      'model.perceiver_resampler.blocks.0.0.q_proj.weight',
      'model.perceiver_resampler.blocks.0.0.output_proj.weight',
      'model.perceiver_resampler.blocks.0.1.ln.weight',
      'model.perceiver_resampler.blocks.0.1.fc.weight',
      'model.perceiver_resampler.blocks.0.1.c_proj.weight',
      'model.perceiver_resampler.layer_norm.weight',
      'model.gated_cross_attn_layers.1.cross_attn.q_proj.weight',
      'model.gated_cross_attn_layers.1.cross_attn.o_proj.weight',
      'model.gated_cross_attn_layers.0.mlp.gate_proj.weight',
      'model.gated_cross_attn_layers.0.input_layernorm.weight',
      'model.gated_cross_attn_layers.0.post_attention_layernorm.weight',
      'model.gated_cross_attn_layers.0.alpha_cross_attn',
      'model.gated_cross_attn_layers.0.alpha_dense',
    ])
      expect(names).toContain(name);
    // IdeficsAttention and the perceiver's projections are bias-free; k/v read the vision width (4).
    expect(names.filter((n) => /(gated_cross_attn_layers|perceiver_resampler).*_proj\.bias$/.test(n))).toEqual([]);
    const sd = model.root.stateDict();
    expect(sd.get('model.gated_cross_attn_layers.0.cross_attn.k_proj.weight')!.shape).toEqual([8, 4]);
    expect(sd.get('model.perceiver_resampler.latents')!.shape).toEqual([3, 4]);
    expect(sd.get('model.gated_cross_attn_layers.0.alpha_cross_attn')!.shape).toEqual([1]);
    expect(Array.from(sd.get('model.gated_cross_attn_layers.1.alpha_dense')!.dataSync())).toEqual([0]);
    expect(names.filter((n) => n.startsWith('model.gated_cross_attn_layers.')).map((n) => n.split('.')[2])).toEqual(
      expect.arrayContaining(['0', '1']),
    );
  });

  test('gates at zero give the language model’s own logits bit for bit', async () => {
    // An independent Llama of the same text config, holding the IDEFICS model's language-model weights.
    const text = textConfigOf(parseIdeficsConfig(tinyIdeficsConfig(), 'test'));
    const lm = await llamaProvider.fromConfig(parseConfig(llamaProvider, { config: text, seed: 99 }));
    expect(isCausalLanguageModel(lm)).toBe(true);
    const own = model.root.stateDict();
    for (const [name, v] of lm.root.stateDict()) v.assign(own.get(name)!);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const pixels = images(1);
    const withImages = model.forward({ inputIds: ids, pixelValues: pixels });
    const plain = lm.forward({ inputIds: ids });
    expect(withImages.logits.dataSync()).toEqual(plain.logits.dataSync());
    // The comparison can fail: open the gates and the logits move.
    setGates(model, 0.5);
    const open = model.forward({ inputIds: ids, pixelValues: pixels });
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(open.logits, plain.logits))).dataSync()[0]!);
    expect(moved).toBeGreaterThan(1e-4);
    setGates(model, 0);
    tf.dispose([ids, pixels, withImages.logits, plain.logits, open.logits]);
    lm.dispose();
  });

  test('each text token sees only the most recent image before it', () => {
    setGates(model, 0.7);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const run = (pixels: tf.Tensor | undefined) => {
      const out = model.forward({ inputIds: ids, pixelValues: pixels });
      const rows = rowsOf(out.logits)[0]!;
      out.logits.dispose();
      return rows;
    };
    const base = images(1);
    const otherSecond = images(1, 3); // image 2 changed, image 1 the same
    const otherFirst = tf.tidy(() => tf.concat([tf.add(tf.slice(base, [0], [1]), 2), tf.slice(base, [1], [1])], 0));
    const a = run(base);
    const b = run(otherSecond);
    const c = run(otherFirst);
    const textOnly = run(undefined);
    // Tokens 0..1 precede every image: the images do not reach them (same as text only).
    for (const t of [0, 1]) {
      expect(a[t]).toEqual(textOnly[t]);
      expect(c[t]).toEqual(a[t]);
    }
    // Tokens 2..4 (from image 1 up to image 2) do not see image 2.
    for (const t of [2, 3, 4]) expect(b[t]).toEqual(a[t]);
    // ... but see image 1, and tokens 5..7 see image 2.
    for (const t of [2, 3, 4]) expect(c[t]).not.toEqual(a[t]);
    for (const t of [5, 6, 7]) expect(b[t]).not.toEqual(a[t]);
    // [B, N, 3, S, S] (IDEFICS's layout) and [ΣN, 3, S, S] give the same logits.
    const stacked = tf.reshape(base, [1, 2, 3, 4, 4]);
    expect(run(stacked)).toEqual(a);
    setGates(model, 0);
    tf.dispose([ids, base, otherSecond, otherFirst, stacked]);
  });

  test('rows of a batch keep their own images; a missing image is an E_INPUT error', () => {
    setGates(model, 0.7);
    const pixels = images(4);
    const one = tf.tensor2d([[1, IMG, 8, 9]], undefined, 'int32');
    const single = rowsOf(model.forward({ inputIds: one, pixelValues: tf.slice(pixels, [1], [1]) }).logits)[0];
    const two = tf.tensor2d(
      [
        [1, IMG, 7, 8],
        [1, IMG, 8, 9],
      ],
      undefined,
      'int32',
    );
    const batch = rowsOf(model.forward({ inputIds: two, pixelValues: pixels }).logits);
    expect(
      batch[1]!
        .flat()
        .map((x, i) => Math.abs(x - single!.flat()[i]!))
        .every((d) => d < 1e-5),
    ).toBe(true);
    expect(() => model.forward({ inputIds: two, pixelValues: tf.slice(pixels, [0], [1]) })).toThrow(/2 <image> tokens .* 1 images/);
    setGates(model, 0);
    tf.dispose([pixels, one, two]);
  });

  test('greedy generate with images equals the argmax of full forwards, and leaks no tensors', async () => {
    setGates(model, 0.9);
    const ids = [[1, IMG, 7, 8, IMG, 9]];
    const pixels = images(7);
    const input = tf.tensor2d(ids, undefined, 'int32');
    // Warm up once so that lazily created kernels and constants do not count as leaks.
    await model.generate({ inputIds: input, pixelValues: pixels }, { maxNewTokens: 1, doSample: false });
    const before = tf.memory().numTensors;
    const { sequences } = await model.generate(
      { inputIds: input, pixelValues: pixels },
      { maxNewTokens: 4, doSample: false, eosTokenId: 19 },
    );
    const out = model.forward({ inputIds: input, pixelValues: pixels });
    out.logits.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const expected: number[] = [];
    const row = [...ids[0]!];
    for (let step = 0; step < 4; step++) {
      const full = tf.tensor2d([row], undefined, 'int32');
      const logits = model.forward({ inputIds: full, pixelValues: pixels }).logits;
      const last = (logits.arraySync() as number[][][])[0]![row.length - 1]!;
      const next = last.indexOf(Math.max(...last));
      expected.push(next);
      row.push(next);
      tf.dispose([full, logits]);
    }
    expect(sequences[0]).toEqual(expected);
    setGates(model, 0);
    tf.dispose([pixels, input]);
  });

  test('images under gradient checkpointing are refused while a gradient is recorded; the gated blocks get gradients', () => {
    registerGradients(); // tfjs-core alone registers no gradient functions
    setGates(model, 0.5);
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const labels = tf.tensor2d(IDS, undefined, 'int32');
    const pixels = images(3);
    const trainable = [...model.root.stateDict()].filter(([n]) =>
      /gated_cross_attn_layers\.0\.cross_attn\.q_proj|perceiver_resampler\.latents/.test(n),
    );
    const { value, grads } = tf.variableGrads(
      () => model.forward({ inputIds: ids, pixelValues: pixels, labels }).loss as tf.Scalar,
      trainable.map(([, v]) => v),
    );
    for (const [name, v] of trainable)
      expect([name, tf.tidy(() => tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!) > 0]).toEqual([name, true]);
    tf.dispose([value, ...Object.values(grads)]);
    setGradientCheckpointing(model.root, true);
    try {
      expect(() => tf.variableGrads(() => model.forward({ inputIds: ids, pixelValues: pixels, labels }).loss as tf.Scalar)).toThrow(
        /gradient checkpointing/,
      );
      // Inference (no tape) still runs.
      model.forward({ inputIds: ids, pixelValues: pixels }).logits.dispose();
    } finally {
      setGradientCheckpointing(model.root, false);
      setGates(model, 0);
      tf.dispose([ids, labels, pixels]);
    }
  });

  test('save → load keeps IDEFICS key names and the logits; an unknown key is refused', async () => {
    setGates(model, 0.3);
    const dir = join(tempDir(), 'm');
    await model.save(dir);
    const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
    expect([...tensors.keys()].sort()).toEqual([...model.root.stateDict().keys()].sort());
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({
      model_type: 'idefics',
      architectures: ['IdeficsForVisionText2Text'],
      cross_layer_interval: 1,
      use_resampler: true,
    });
    const loaded = await IdeficsForVisionText2Text.fromPretrained(dir, {}, tinyIdeficsContext());
    const ids = tf.tensor2d(IDS, undefined, 'int32');
    const pixels = images(2);
    const a = model.forward({ inputIds: ids, pixelValues: pixels }).logits;
    const b = loaded.forward({ inputIds: ids, pixelValues: pixels }).logits;
    expect(b.dataSync()).toEqual(a.dataSync());
    loaded.dispose();
    // A key IDEFICS does not have.
    const file = join(dir, 'model.safetensors');
    const extra = new Map([
      ...tensors,
      ['model.gated_cross_attn_layers.7.alpha_dense', { dtype: 'F32', shape: [1], data: new Float32Array([0]) }],
    ]);
    await writeSafetensors(file, extra as never, { format: 'pt' });
    await expect(IdeficsForVisionText2Text.fromPretrained(dir, {}, tinyIdeficsContext())).rejects.toThrow(/gated_cross_attn_layers\.7/);
    setGates(model, 0);
    tf.dispose([ids, pixels, a, b]);
  });
});

describe('IDEFICS config', () => {
  test('alpha_type vector gives [1, 1, hidden] gates; ones initialises them to 1', async () => {
    const m = await tinyIdefics({ alpha_type: 'vector', alpha_initializer: 'ones', cross_layer_interval: 2, use_resampler: false });
    const sd = m.root.stateDict();
    expect(sd.get('model.gated_cross_attn_layers.0.alpha_cross_attn')!.shape).toEqual([1, 1, 8]);
    expect(Array.from(sd.get('model.gated_cross_attn_layers.0.alpha_dense')!.dataSync())).toEqual(new Array(8).fill(1));
    // interval 2 over 2 layers: one block, before layer 0; no resampler: 5 tower positions per image.
    expect([...sd.keys()].some((k) => k.startsWith('model.gated_cross_attn_layers.1.'))).toBe(false);
    expect([...sd.keys()].some((k) => k.startsWith('model.perceiver_resampler.'))).toBe(false);
    expect(m.imageSeqLen).toBe(5);
    m.dispose();
  });

  test('a layer count the interval does not divide is refused, naming both', () => {
    expect(() => parseIdeficsConfig({ num_hidden_layers: 3, cross_layer_interval: 2 }, 'x/config.json')).toThrow(
      /x\/config\.json: num_hidden_layers \(3\) is not a multiple of cross_layer_interval \(2\)/,
    );
    expect(() => parseIdeficsConfig({ qk_layer_norms: true }, 'c.json')).toThrow(/c\.json: field "qk_layer_norms"/);
  });

  test('additional_vocab_size: the decoupled rows are saved apart, loaded into one table, and read for ids ≥ vocab_size', async () => {
    const m = await tinyIdefics({ additional_vocab_size: 2 });
    const dir = join(tempDir(), 'decoupled');
    await m.save(dir);
    const file = join(dir, 'model.safetensors');
    const { tensors } = await readSafetensors(file);
    expect(tensors.get('model.embed_tokens.weight')!.shape).toEqual([20, 8]);
    expect(tensors.get('model.embed_tokens.additional_embedding.weight')!.shape).toEqual([2, 8]);
    expect(tensors.get('lm_head.weight')!.shape).toEqual([20, 8]);
    expect(tensors.get('lm_head.additional_fc.weight')!.shape).toEqual([2, 8]);
    // Put known rows in the extra tables: id 21 must embed as the second extra row, and logit 21 use the second extra head row.
    const row = [1, -2, 3, -4, 5, -6, 7, -8];
    const extra = new Map(tensors);
    extra.set('model.embed_tokens.additional_embedding.weight', {
      dtype: 'F32',
      shape: [2, 8],
      data: new Float32Array([...new Array(8).fill(0), ...row]),
    });
    extra.set('lm_head.additional_fc.weight', { dtype: 'F32', shape: [2, 8], data: new Float32Array([...new Array(8).fill(0), ...row]) });
    await writeSafetensors(file, extra as never, { format: 'pt' });
    const loaded = await IdeficsForVisionText2Text.fromPretrained(dir, {}, tinyIdeficsContext());
    const ids = tf.tensor2d([[21]], undefined, 'int32');
    const embedded = loaded.languageModel.embedTokens(ids);
    expect(Array.from(embedded.dataSync())).toEqual(row);
    const head = loaded.root.stateDict().get('lm_head.weight')!;
    expect(head.shape).toEqual([22, 8]);
    expect(Array.from(tf.tidy(() => tf.slice(head, [21, 0], [1, 8]).dataSync()))).toEqual(row);
    // Saved again, the split gives back the same tables.
    const again = join(tempDir(), 'again');
    await loaded.save(again);
    const back = (await readSafetensors(join(again, 'model.safetensors'))).tensors;
    expect(Array.from(back.get('model.embed_tokens.additional_embedding.weight')!.data)).toEqual(
      Array.from(extra.get('model.embed_tokens.additional_embedding.weight')!.data),
    );
    expect(Array.from(back.get('model.embed_tokens.weight')!.data)).toEqual(Array.from(tensors.get('model.embed_tokens.weight')!.data));
    // A missing extra table is named.
    extra.delete('lm_head.additional_fc.weight');
    await writeSafetensors(file, extra as never, { format: 'pt' });
    await expect(IdeficsForVisionText2Text.fromPretrained(dir, {}, tinyIdeficsContext())).rejects.toThrow(
      /lm_head\.additional_fc\.weight is missing/,
    );
    tf.dispose([ids, embedded]);
    loaded.dispose();
    m.dispose();
  });

  test('config.json written and parsed keeps the fields', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ model_type: 'idefics' }));
    const c = parseIdeficsConfig(JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')), 'c.json');
    expect(c).toMatchObject({
      alpha_initializer: 'zeros',
      alpha_type: 'float',
      cross_layer_interval: 1,
      hidden_size: 4096,
      vocab_size: 32000,
    });
    expect(c.perceiver_config).toMatchObject({
      resampler_n_latents: 64,
      resampler_depth: 6,
      resampler_n_heads: 16,
      resampler_head_dim: 96,
    });
    expect(c.vision_config).toMatchObject({ embed_dim: 768, hidden_act: 'gelu', patch_size: 14 });
  });
});
