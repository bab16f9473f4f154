import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelInputs } from '../contracts/model';
import { isMmftError, type MmftError } from '../errors';
import { tokenizerFromFiles } from '../hf/tokenizer-files';
import { readSafetensors } from '../io/safetensors';
import { writeSafetensors, type WritableTensor } from '../io/safetensors-write';
import { Embedding } from '../nn/embedding';
import { registerGradients } from '../nn/gradients';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { byteLevelBpeTokenizerFiles } from '../hf/tiny-tokenizers';
import { CausalLMBase } from './causal-lm-base';
import { loadCausalLmFolder } from './load-folder';
import { loadCausalLmWeights, type LoadCausalLmWeightsOptions } from './load-weights';
import { causalLmLoss } from './loss';
import { TiedLinear } from './tied-linear';

beforeAll(async () => {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  registerGradients();
});

class Container extends Module<[], null> {
  forward(): null {
    return null;
  }
}

const EMBED = 'model.embed_tokens.weight';
const HEAD = 'lm_head.weight';
const TIED = { [HEAD]: EMBED };
const TOKENIZER_FILES = byteLevelBpeTokenizerFiles({ flavour: 'opt' });
const VOCAB = tokenizerFromFiles(TOKENIZER_FILES)!.vocabSize;
const DIM = 4;

/** The smallest causal LM: logits = embed(ids) · headᵀ (each position sees only itself). */
class ToyLM extends CausalLMBase {
  static build(options: { tie: boolean; seed: number; generationConfig?: Record<string, unknown> }): ToyLM {
    const root = new Container();
    const model = root.registerModule('model', new Container());
    const embed = model.registerModule('embed_tokens', new Embedding(VOCAB, DIM, { seed: options.seed }));
    root.registerModule(
      'lm_head',
      options.tie ? new TiedLinear(embed.weight) : new Linear(DIM, VOCAB, { bias: false, seed: options.seed + 1 }),
    );
    const config = {
      model_type: 'toy',
      vocab_size: VOCAB,
      hidden_size: DIM,
      tie_word_embeddings: options.tie,
      bos_token_id: 2,
      eos_token_id: 2,
      pad_token_id: 1,
    };
    return new ToyLM({
      modelType: 'toy',
      architecture: 'ToyForCausalLM',
      root,
      config,
      processor: { tokenizer: tokenizerFromFiles(TOKENIZER_FILES), towers: { language: ['**'] } },
      generationConfig: options.generationConfig,
      numLayers: 0,
      tokenizerFiles: TOKENIZER_FILES,
      tied: options.tie ? TIED : {},
    });
  }

  /** from_pretrained: read the folder, build, load. */
  static async fromFolder(dir: string, options: Omit<LoadCausalLmWeightsOptions, 'tied' | 'tensorFiles'> = {}): Promise<ToyLM> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'toy' });
    const model = ToyLM.build({ tie: folder.config.tie_word_embeddings === true, seed: 99, generationConfig: folder.generationConfig });
    try {
      loadCausalLmWeights(model.root, folder.tensors, { tied: TIED, tensorFiles: folder.tensorFiles, ...options });
    } catch (e) {
      model.dispose();
      throw e;
    }
    return model;
  }

  embedTokens(ids: tf.Tensor): tf.Tensor {
    return this.root.getModule<Embedding>('model.embed_tokens').forward(ids);
  }

  logitsOf(inputs: ModelInputs): tf.Tensor {
    return tf.tidy(() => this.root.getModule<Linear>('lm_head').forward(inputs.inputsEmbeds ?? this.embedTokens(inputs.inputIds!)));
  }
}

const IDS = [
  [2, 40, 41, 42, 43],
  [2, 50, 51, 1, 1],
];
const ids = () => tf.tensor2d(IDS, [2, 5], 'int32');
const labelsOf = () =>
  tf.tensor2d(
    IDS.map((row) => row.map((id) => (id === 1 ? -100 : id))),
    [2, 5],
    'int32',
  );
const logitsData = (m: ToyLM) => tf.tidy(() => Array.from(m.forward({ inputIds: ids() }).logits.dataSync()));
const tempDir = () => mkdtemp(join(tmpdir(), 'mmft-lm-'));
const caught = async (f: () => Promise<unknown>): Promise<MmftError> => {
  try {
    await f();
  } catch (e) {
    if (isMmftError(e)) return e;
    throw e;
  }
  throw new Error('expected an MmftError');
};

describe('CausalLMBase: forward and the tie', () => {
  test('forward gives logits [B, T, V], and with labels the causal-LM loss (numItemsInBatch honoured)', () => {
    const model = ToyLM.build({ tie: true, seed: 1 });
    tf.tidy(() => {
      const plain = model.forward({ inputIds: ids() });
      expect(plain.logits.shape).toEqual([2, 5, VOCAB]);
      expect('loss' in plain).toBe(false);
      const { logits, loss } = model.forward({ inputIds: ids(), labels: labelsOf() });
      // 6 scored tokens: row 0 predicts 40..43, row 1 predicts 50, 51 (its padding is -100)
      expect(loss!.dataSync()[0]).toBeCloseTo(causalLmLoss(logits, labelsOf()).dataSync()[0], 6);
      const summed = causalLmLoss(logits, labelsOf(), 1).dataSync()[0];
      expect(model.forward({ inputIds: ids(), labels: labelsOf(), numItemsInBatch: 12 }).loss!.dataSync()[0]).toBeCloseTo(summed / 12, 6);
      expect(summed / 6).toBeCloseTo(loss!.dataSync()[0], 5);
    });
    model.dispose();
  });

  test('a tied head shares the embedding variable: listed once, and its gradient is the sum of both uses', () => {
    const tied = ToyLM.build({ tie: true, seed: 3 });
    expect(tied.root.namedParameters().map(([n]) => n)).toEqual([EMBED]);
    expect(tied.root.stateDict().get(HEAD)).toBe(tied.root.stateDict().get(EMBED));
    // The same numbers untied: embedding and head as two variables holding equal values.
    const untied = ToyLM.build({ tie: false, seed: 3 });
    untied.root.getModule<Linear>('lm_head').weight.assign(tied.root.stateDict().get(EMBED)!);
    const lossOf = (m: ToyLM) => () => m.forward({ inputIds: ids(), labels: labelsOf() }).loss as tf.Scalar;
    const g1 = tf.variableGrads(lossOf(tied));
    const g2 = tf.variableGrads(lossOf(untied));
    const tiedVar = tied.root.stateDict().get(EMBED)!;
    const expected = tf.add(g2.grads[untied.root.stateDict().get(EMBED)!.name], g2.grads[untied.root.stateDict().get(HEAD)!.name]);
    const got = g1.grads[tiedVar.name];
    expect(Object.keys(g1.grads)).toEqual([tiedVar.name]);
    const a = got.dataSync();
    const b = expected.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i], 6);
    expect(Array.from(a).every(Number.isFinite)).toBe(true);
    expect(Array.from(a).some((v) => v !== 0)).toBe(true);
    for (const t of [g1.value, g2.value, expected, ...Object.values(g1.grads), ...Object.values(g2.grads)]) t.dispose();
    tied.dispose();
    untied.dispose();
  });

  test('a disposed model refuses to run; dispose twice is harmless; nothing leaks', () => {
    const before = tf.memory().numTensors;
    const model = ToyLM.build({ tie: true, seed: 5 });
    const [inputIds, labels] = [ids(), labelsOf()];
    const { logits, loss } = model.forward({ inputIds, labels });
    for (const t of [logits, loss!, inputIds, labels]) t.dispose();
    model.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => model.forward({ inputIds: ids() })).toThrow(/disposed/);
  });
});

describe('CausalLMBase: generate through @mmft/core/generation', () => {
  /** Greedy decoding of the toy LM by hand: next = argmax_v embed[last]·head[v], stop after EOS (2). */
  const greedyByHand = (model: ToyLM, prompt: readonly number[], maxNewTokens: number): number[] => {
    const embed = model.root.stateDict().get(EMBED)!.arraySync() as number[][];
    const head = model.root.stateDict().get(HEAD)!.arraySync() as number[][];
    const out: number[] = [];
    let last = prompt[prompt.length - 1];
    while (out.length < maxNewTokens) {
      const scores = head.map((row) => row.reduce((s, w, i) => s + w * embed[last][i], 0));
      last = scores.indexOf(Math.max(...scores));
      out.push(last);
      if (last === 2) break;
    }
    return out;
  };

  test('greedy generate and generateStream give the hand-decoded tokens and texts; nothing leaks', async () => {
    const model = ToyLM.build({ tie: false, seed: 61 });
    const prompts = [
      [2, 40, 41],
      [2, 50, 51],
    ];
    const inputIds = tf.tensor2d(prompts, [2, 3], 'int32');
    const before = tf.memory().numTensors;
    const result = await model.generate({ inputIds }, { maxNewTokens: 6 });
    const expected = prompts.map((p) => greedyByHand(model, p, 6));
    expect(expected.map((ids) => ids.length)).toEqual([6, 6]); // neither row hits EOS: every step is checked
    expect(result.sequences).toEqual(expected);
    expect(result.texts).toEqual(expected.map((ids) => model.tokenizer!.decode(ids, { skipSpecialTokens: true })));
    const streamed: number[][] = [[], []];
    for await (const chunk of model.generateStream({ inputIds }, { maxNewTokens: 6 })) {
      chunk.tokens.forEach((id, r) => id >= 0 && streamed[r].push(id));
    }
    expect(streamed).toEqual(expected);
    expect(tf.memory().numTensors).toBe(before);
    inputIds.dispose();
    model.dispose();
  });

  test('generation_config.json values are the defaults a call overrides', async () => {
    const model = ToyLM.build({ tie: false, seed: 62, generationConfig: { max_new_tokens: 2, eos_token_id: 2 } });
    const inputIds = tf.tensor2d([[2, 40]], [1, 2], 'int32');
    const byConfig = await model.generate({ inputIds });
    expect(byConfig.sequences[0]).toEqual(greedyByHand(model, [2, 40], 2));
    const byCall = await model.generate({ inputIds }, { maxNewTokens: 4 });
    expect(byCall.sequences[0]).toEqual(greedyByHand(model, [2, 40], 4));
    inputIds.dispose();
    model.dispose();
  });
});

describe('save → load (Hugging Face layout)', () => {
  test.each([true, false])('tie_word_embeddings %s: files, identical logits, the tie restored', async (tie) => {
    const dir = join(await tempDir(), 'out');
    const model = ToyLM.build({ tie, seed: 7 });
    await model.save(dir);
    const files = (await readdir(dir)).filter((f) => !f.startsWith('.'));
    expect(files.sort()).toEqual([
      'config.json',
      'generation_config.json',
      'model.safetensors',
      'special_tokens_map.json',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      architectures: ['ToyForCausalLM'],
      model_type: 'toy',
      torch_dtype: 'float32',
      tie_word_embeddings: tie,
    });
    // No generation_config.json was loaded: it is derived from config.json as transformers does.
    const generation = JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8'));
    expect(generation).toEqual({
      _from_model_config: true,
      bos_token_id: 2,
      eos_token_id: 2,
      pad_token_id: 1,
      transformers_version: '4.46.3',
    });
    for (const [name, bytes] of TOKENIZER_FILES) expect(new Uint8Array(await readFile(join(dir, name)))).toEqual(bytes);
    const stored = await readSafetensors(join(dir, 'model.safetensors'));
    expect([...stored.tensors.keys()].sort()).toEqual(tie ? [EMBED] : [HEAD, EMBED].sort());

    const before = tf.memory().numTensors;
    const loaded = await ToyLM.fromFolder(dir);
    expect(logitsData(loaded)).toEqual(logitsData(model));
    const dict = loaded.root.stateDict();
    expect(dict.get(HEAD) === dict.get(EMBED)).toBe(tie);
    expect(loaded.generationConfig).toEqual(generation);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  test('a generation_config.json that was loaded is written back as read', async () => {
    const dir = join(await tempDir(), 'gen');
    const generationConfig = {
      bos_token_id: 2,
      eos_token_id: [2, 5],
      max_new_tokens: 9,
      do_sample: true,
      top_p: 0.9,
      transformers_version: '4.40.0',
    };
    const model = ToyLM.build({ tie: true, seed: 8, generationConfig });
    await model.save(dir);
    expect(JSON.parse(await readFile(join(dir, 'generation_config.json'), 'utf8'))).toEqual(generationConfig);
    model.dispose();
  });

  test('save refuses a non-empty folder mmft did not write unless forced, and replaces its own', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const model = ToyLM.build({ tie: true, seed: 9 });
    const refused = await caught(() => model.save(dir));
    expect(refused.code).toBe('E_INPUT');
    expect(refused.message).toContain('notes.txt');
    await model.save(dir, { force: true });
    await model.save(dir); // mmft's own model folder: replaced without force
    expect(await readdir(dir)).not.toContain('notes.txt');
    model.dispose();
  });

  test('F16 and BF16 weights load upcast to float32 (values exactly representable in both)', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const dir = join(await tempDir(), dtype);
      const model = ToyLM.build({ tie: false, seed: 11 });
      // Round to multiples of 1/8 in [-4, 4]: exact in F16 and in BF16 (8 significant bits).
      for (const [, v] of model.root.namedParameters()) v.assign(tf.tidy(() => tf.div(tf.round(tf.mul(v, 8)), 8)));
      await model.save(dir);
      const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
      const half = new Map<string, WritableTensor>(
        [...tensors].map(([name, t]) => [name, { dtype, shape: t.shape, data: t.data as Float32Array }]),
      );
      await writeSafetensors(join(dir, 'model.safetensors'), half, { format: 'pt' });
      expect([...(await readSafetensors(join(dir, 'model.safetensors'))).tensors.values()].map((t) => t.dtype)).toEqual([dtype, dtype]);
      const loaded = await ToyLM.fromFolder(dir);
      expect(loaded.root.namedParameters().every(([, v]) => v.dtype === 'float32')).toBe(true);
      expect(logitsData(loaded)).toEqual(logitsData(model));
      loaded.dispose();
      model.dispose();
    }
  });

  test('a sharded folder (index + shards) loads, and errors name the shard a tensor came from', async () => {
    const dir = join(await tempDir(), 'sharded');
    const model = ToyLM.build({ tie: false, seed: 13 });
    await model.save(dir);
    const { tensors } = await readSafetensors(join(dir, 'model.safetensors'));
    const w = (name: string): WritableTensor => ({
      dtype: 'F32',
      shape: tensors.get(name)!.shape,
      data: tensors.get(name)!.data as Float32Array,
    });
    await writeSafetensors(join(dir, 'model-00001-of-00002.safetensors'), { [EMBED]: w(EMBED) }, { format: 'pt' });
    await writeSafetensors(join(dir, 'model-00002-of-00002.safetensors'), { [HEAD]: w(HEAD) }, { format: 'pt' });
    const index = {
      metadata: { total_size: 2 * VOCAB * DIM * 4 },
      weight_map: { [EMBED]: 'model-00001-of-00002.safetensors', [HEAD]: 'model-00002-of-00002.safetensors' },
    };
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify(index));
    await rm(join(dir, 'model.safetensors'));
    const folder = await loadCausalLmFolder(dir);
    expect(folder.files.map((f) => f.slice(dir.length + 1))).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect(folder.tensorFiles.get(HEAD)).toBe(join(dir, 'model-00002-of-00002.safetensors'));
    const loaded = await ToyLM.fromFolder(dir);
    expect(logitsData(loaded)).toEqual(logitsData(model));
    loaded.dispose();

    // A model of another width: both shapes and the shard are named.
    const wide = ToyLM.build({ tie: false, seed: 1 });
    const wrong = new Map(folder.tensors);
    wrong.set(HEAD, { dtype: 'F32', shape: [VOCAB, DIM + 1], data: new Float32Array(VOCAB * (DIM + 1)) });
    const error = await caught(async () => loadCausalLmWeights(wide.root, wrong, { tensorFiles: folder.tensorFiles }));
    expect(error.code).toBe('E_CHECKPOINT');
    expect(error.message).toContain(
      `${HEAD}: the model has [${VOCAB}, ${DIM}], ${join(dir, 'model-00002-of-00002.safetensors')} has [${VOCAB}, ${DIM + 1}]`,
    );
    wide.dispose();
    model.dispose();
  });
});

describe('loadCausalLmWeights', () => {
  /** The tensors of a freshly built model, as a checkpoint would hold them. */
  const checkpointOf = async (tie: boolean, seed: number) => {
    const dir = join(await tempDir(), 'ck');
    const model = ToyLM.build({ tie, seed });
    await model.save(dir);
    const folder = await loadCausalLmFolder(dir);
    return { model, folder, file: join(dir, 'model.safetensors') };
  };

  test('missing, mis-shaped and unexpected tensors are named with their file and shapes; nothing is assigned', async () => {
    const { model, folder, file } = await checkpointOf(false, 21);
    const target = ToyLM.build({ tie: false, seed: 22 });
    const original = logitsData(target);
    const broken = new Map(folder.tensors);
    broken.delete(EMBED);
    broken.set(HEAD, { dtype: 'F32', shape: [VOCAB - 1, DIM], data: new Float32Array((VOCAB - 1) * DIM) });
    broken.set('model.extra.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    const files = new Map([...broken.keys()].map((name) => [name, file]));
    const error = await caught(async () =>
      loadCausalLmWeights(target.root, broken, { tensorFiles: files, source: file, modelName: 'ToyForCausalLM' }),
    );
    expect(error.code).toBe('E_CHECKPOINT');
    expect(error.message).toContain('ToyForCausalLM: the checkpoint does not fit the model');
    expect(error.message).toContain(`missing (1) from ${file}: ${EMBED} [${VOCAB}, ${DIM}]`);
    expect(error.message).toContain(`${HEAD}: the model has [${VOCAB}, ${DIM}], ${file} has [${VOCAB - 1}, ${DIM}]`);
    expect(error.message).toContain(`unexpected (1): model.extra.weight (${file})`);
    expect(logitsData(target)).toEqual(original);

    // ignoreUnexpected lists them; ignorePatterns drops them silently.
    const extra = new Map(folder.tensors);
    extra.set('model.extra.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    extra.set('model.layers.0.attn.masked_bias', { dtype: 'F32', shape: [], data: new Float32Array(1) });
    const result = loadCausalLmWeights(target.root, extra, { ignoreUnexpected: true, ignorePatterns: [/\.attn\.masked_bias$/] });
    expect(result.unexpected).toEqual(['model.extra.weight']);
    expect(logitsData(target)).toEqual(logitsData(model));
    target.dispose();
    model.dispose();
  });

  test('an untied head absent from the file is filled from its source, as a separate variable', async () => {
    const { model, folder } = await checkpointOf(false, 31);
    const noHead = new Map(folder.tensors);
    noHead.delete(HEAD);
    const target = ToyLM.build({ tie: false, seed: 32 });
    expect(loadCausalLmWeights(target.root, noHead, { tied: TIED }).tiedFromSource).toEqual([HEAD]);
    const dict = target.root.stateDict();
    expect(dict.get(HEAD)).not.toBe(dict.get(EMBED));
    expect(Array.from(dict.get(HEAD)!.dataSync())).toEqual(Array.from(model.root.stateDict().get(EMBED)!.dataSync()));
    // without the tie the head is simply missing
    const error = await caught(async () => loadCausalLmWeights(target.root, noHead));
    expect(error.message).toContain(`missing (1) from the checkpoint: ${HEAD}`);
    target.dispose();
    model.dispose();
  });

  test('a shared tie loads from either name; a stored copy of the head is shape-checked', async () => {
    const { model, folder } = await checkpointOf(true, 41);
    const weights = folder.tensors.get(EMBED)!;
    const onlyHead = new Map([[HEAD, weights]]);
    const target = ToyLM.build({ tie: true, seed: 42 });
    loadCausalLmWeights(target.root, onlyHead, { tied: TIED });
    expect(logitsData(target)).toEqual(logitsData(model));
    const bad = new Map([
      [EMBED, weights],
      [HEAD, { dtype: 'F32' as const, shape: [DIM, VOCAB], data: new Float32Array(VOCAB * DIM) }],
    ]);
    const error = await caught(async () => loadCausalLmWeights(target.root, bad, { tied: TIED, source: 'x.safetensors' }));
    expect(error.message).toContain(`${HEAD}: the model has [${VOCAB}, ${DIM}], x.safetensors has [${DIM}, ${VOCAB}]`);
    const badTie = await caught(async () => loadCausalLmWeights(target.root, folder.tensors, { tied: { [HEAD]: 'model.wte.weight' } }));
    expect(badTie.code).toBe('E_CONFIG');
    target.dispose();
    model.dispose();
  });

  test('keys saved without the base model prefix still load (a base-model checkpoint)', async () => {
    const { model, folder } = await checkpointOf(true, 51);
    const bare = new Map([...folder.tensors].map(([name, t]) => [name.replace(/^model\./, ''), t]));
    expect([...bare.keys()]).toEqual(['embed_tokens.weight']);
    const target = ToyLM.build({ tie: true, seed: 52 });
    loadCausalLmWeights(target.root, bare, { tied: TIED, basePrefix: 'model' });
    expect(logitsData(target)).toEqual(logitsData(model));
    target.dispose();
    model.dispose();
  });

  test('a folder without config.json or weights is an error naming the path', async () => {
    const dir = await tempDir();
    expect((await caught(() => loadCausalLmFolder(dir, { modelName: 'OPT' }))).message).toContain(
      `${join(dir, 'config.json')} is missing; a OPT checkpoint`,
    );
    await writeFile(join(dir, 'config.json'), '{"model_type": "toy"}');
    await mkdir(join(dir, 'sub'));
    expect((await caught(() => loadCausalLmFolder(dir))).message).toContain(
      'has neither model.safetensors.index.json nor model.safetensors',
    );
  });
});
