// LoRA beyond the shared kit: PEFT's init and scaling, PEFT file names on CLIP, several named
// adapters, a folder laid out as Python PEFT writes it, targeting errors, merge-and-unload, and
// GPT-2's Conv1D (fan_in_fan_out) by hand.
import '@tensorflow/tfjs-backend-cpu';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { describeTrainable, loadAdapter, saveAdapter, setActiveAdapters, withAdaptersDisabled, writeSafetensors } from '@mmft/core';
import { Conv1D, Linear, registerGradients } from '@mmft/core/nn';
import { loraMethod } from './plugin';
import { LoraLinear } from './layer';
import { clipSubject, conv1dSubject, toySubject } from './test-subjects.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const parse = (c: unknown) => loraMethod.configSchema.parse(c);
const arr = (t: tf.Tensor) => Array.from(t.dataSync());
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-lora-'));

describe('LoRA layer', () => {
  test('PEFT init: A Kaiming-uniform within ±1/sqrt(in), B zeros; scaling alpha/r or alpha/sqrt(r)', () => {
    const s = toySubject();
    loraMethod.apply(s.root, parse({ r: 4, lora_alpha: 8, seed: 1 }), 'default');
    const layer = s.root.getModule<LoraLinear>('layers.0.self_attn.q_proj', LoraLinear);
    const a = arr(layer.child('lora_A').child('default').param('weight'));
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(8));
    expect(new Set(a).size).toBeGreaterThan(1);
    expect(arr(layer.child('lora_B').child('default').param('weight')).every((v) => v === 0)).toBe(true);
    // scaling: with B = I-like values the branch output scales by alpha/r = 2; rslora alpha/sqrt(r) = 4
    for (const [config, factor] of [
      [{ r: 4, lora_alpha: 8 }, 2],
      [{ r: 4, lora_alpha: 8, use_rslora: true }, 4],
    ] as const) {
      const base = new Linear(3, 2, { seed: 1 });
      const l = new LoraLinear(base);
      l.addAdapter('x', { r: config.r, scaling: 'use_rslora' in config ? 8 / Math.sqrt(4) : 8 / 4, dropout: 0, init: true, seed: 2 });
      tf.tidy(() =>
        l
          .child('lora_B')
          .child('x')
          .param('weight')
          .assign(tf.ones([2, 4])),
      );
      const x = tf.ones([1, 3]);
      const delta = arr(tf.sub(l.forward(x), base.forward(x)));
      const branch = arr(tf.sum(l.child('lora_A').child('x').param('weight'), 1)).reduce((p, q) => p + q, 0);
      delta.forEach((d) => expect(d).toBeCloseTo(factor * branch, 5));
      l.dispose();
    }
    s.dispose();
  });

  test('PEFT key names on CLIP, adapter_config.json fields, trainable summary line', async () => {
    const s = await clipSubject();
    const config = parse({ r: 2, lora_alpha: 16, lora_dropout: 0.1, seed: 1 });
    const applied = loraMethod.apply(s.root, config, 'default');
    const keys = [...applied.adapterStateDict().keys()];
    expect(keys).toContain('base_model.model.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight');
    expect(keys).toContain('base_model.model.vision_model.encoder.layers.0.self_attn.v_proj.lora_B.weight');
    expect(keys.every((k) => /^base_model\.model\..*\.(q_proj|v_proj)\.lora_[AB]\.weight$/.test(k))).toBe(true);
    const dir = tmp();
    await saveAdapter(dir, loraMethod, config, applied, { baseModelNameOrPath: 'openai/clip-vit-base-patch32' });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(json).toMatchObject({
      peft_type: 'LORA',
      task_type: null,
      r: 2,
      lora_alpha: 16,
      lora_dropout: 0.1,
      target_modules: ['q_proj', 'v_proj'],
      bias: 'none',
      use_rslora: false,
      modules_to_save: null,
      base_model_name_or_path: 'openai/clip-vit-base-patch32',
      fan_in_fan_out: false,
    });
    expect(json).not.toHaveProperty('seed');
    const summary = describeTrainable(s.root);
    expect(summary.trainable).toBe(4 * (2 * 8 + 8 * 2));
    expect(summary.line).toBe(
      `trainable params: 128 || all params: ${summary.total.toLocaleString('en-US')} || trainable%: ${((100 * 128) / summary.total).toFixed(4)}`,
    );
    s.dispose();
  });

  test('several adapters: switch the active one, disable all, remove one', () => {
    const s = toySubject();
    const base = arr(s.forward());
    const a = loraMethod.apply(s.root, parse({ r: 2, seed: 1 }), 'a');
    const b = loraMethod.apply(s.root, parse({ r: 2, seed: 2, target_modules: ['q_proj'] }), 'b');
    for (const [i, ad] of [a, b].entries())
      ad.trainableParameters().forEach(([, v], j) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', 10 * i + j))));
    const both = arr(s.forward());
    setActiveAdapters(s.root, 'a');
    const onlyA = arr(s.forward());
    setActiveAdapters(s.root, 'b');
    const onlyB = arr(s.forward());
    expect(new Set([JSON.stringify(base), JSON.stringify(both), JSON.stringify(onlyA), JSON.stringify(onlyB)]).size).toBe(4);
    expect(arr(withAdaptersDisabled(s.root, () => s.forward()))).toEqual(base);
    expect(arr(s.forward())).toEqual(onlyB);
    expect(() => setActiveAdapters(s.root, 'c')).toThrow(/no adapter named "c".*loaded: a, b/);
    setActiveAdapters(s.root, ['a', 'b']);
    expect(arr(s.forward())).toEqual(both);
    a.remove();
    expect(arr(s.forward())).toEqual(onlyB);
    expect(s.root.getModule('layers.0.self_attn.v_proj')).toBeInstanceOf(Linear);
    expect(s.root.getModule('layers.0.self_attn.q_proj')).toBeInstanceOf(LoraLinear);
    s.dispose();
  });

  test('targets: no match lists close names; a non-Linear target is refused', () => {
    const s = toySubject();
    expect(() => loraMethod.apply(s.root, parse({ target_modules: ['q_prj'] }), 'default')).toThrow(/"q_prj" matches no module.*q_proj/);
    expect(() => loraMethod.apply(s.root, parse({ target_modules: ['embed_tokens'] }), 'default')).toThrow(
      /not Linear or Conv1D: embed_tokens \(Embedding\)/,
    );
    expect(() => loraMethod.apply(s.root, { r: 0 } as never, 'default')).toThrow(/peft \(lora\): field "r"/);
    s.dispose();
  });

  test('merge then remove = merge_and_unload: HF names back, adapted outputs kept', () => {
    const s = toySubject();
    const names = s.root.namedParameters().map(([n]) => n);
    const applied = loraMethod.apply(s.root, parse({ r: 2, seed: 1 }), 'default');
    applied.trainableParameters().forEach(([, v], j) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', j))));
    const adapted = arr(s.forward());
    applied.merge!();
    applied.remove();
    expect(s.root.namedParameters().map(([n]) => n)).toEqual(names);
    arr(s.forward()).forEach((v, i) => expect(Math.abs(v - adapted[i]!)).toBeLessThanOrEqual(1e-5));
    s.dispose();
  });
});

describe('a folder written by Python PEFT', () => {
  test('loads: PEFT 0.13 adapter_config.json fields, F16 tensors under PEFT keys', async () => {
    const dir = tmp();
    const config = {
      alpha_pattern: {},
      auto_mapping: null,
      base_model_name_or_path: 'toy',
      bias: 'none',
      fan_in_fan_out: false,
      inference_mode: true,
      init_lora_weights: true,
      layer_replication: null,
      layers_pattern: null,
      layers_to_transform: null,
      loftq_config: {},
      lora_alpha: 4,
      lora_dropout: 0.0,
      megatron_config: null,
      megatron_core: 'megatron.core',
      modules_to_save: null,
      peft_type: 'LORA',
      r: 2,
      rank_pattern: {},
      revision: null,
      target_modules: ['v_proj', 'q_proj'],
      task_type: null,
      use_dora: false,
      use_rslora: false,
    };
    fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify(config));
    const tensors: Record<string, { dtype: 'F16'; shape: number[]; data: Float32Array }> = {};
    for (const layer of [0, 1]) {
      for (const proj of ['q_proj', 'v_proj']) {
        const key = `base_model.model.layers.${layer}.self_attn.${proj}`;
        tensors[`${key}.lora_A.weight`] = { dtype: 'F16', shape: [2, 8], data: Float32Array.from({ length: 16 }, (_, i) => (i - 8) / 16) };
        tensors[`${key}.lora_B.weight`] = { dtype: 'F16', shape: [8, 2], data: Float32Array.from({ length: 16 }, (_, i) => (i % 3) / 8) };
      }
    }
    await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
    const s = toySubject();
    const base = arr(s.forward());
    const { applied } = await loadAdapter(dir, s.root, [loraMethod]);
    expect(arr(applied.adapterStateDict().get('base_model.model.layers.1.self_attn.v_proj.lora_B.weight')!)).toEqual(
      Array.from(tensors['base_model.model.layers.1.self_attn.v_proj.lora_B.weight']!.data),
    );
    expect(arr(s.forward())).not.toEqual(base);
    fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify({ ...config, use_dora: true }));
    await expect(loadAdapter(dir, toySubject().root, [loraMethod])).rejects.toThrow(/use_dora = true is not supported/);
    s.dispose();
  });
});

describe('LoRA on Conv1D (GPT-2): fan_in_fan_out as PEFT', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  const setAB = (l: LoraLinear, a: number[][], b: number[][]) =>
    tf.tidy(() => {
      l.child('lora_A').child('x').param('weight').assign(tf.tensor2d(a));
      l.child('lora_B').child('x').param('weight').assign(tf.tensor2d(b));
    });

  test('hand-computed: the branch is x Aᵀ Bᵀ as for Linear; merge adds scaling · (B A)ᵀ to W [in, out]', () => {
    const base = new Conv1D(2, 3);
    tf.tidy(() => {
      base.weight.assign(
        tf.tensor2d([
          [1, 2, 3],
          [4, 5, 6],
        ]),
      );
      base.bias.assign(tf.tensor1d([0.5, -1, 2]));
    });
    const l = new LoraLinear(base);
    expect(l.fanInFanOut).toBe(true);
    l.addAdapter('x', { r: 1, scaling: 2, dropout: 0, init: true, seed: 1 });
    // PEFT's shapes whatever the base layout: A [r, in], B [out, r].
    expect(l.child('lora_A').child('x').param('weight').shape).toEqual([1, 2]);
    expect(l.child('lora_B').child('x').param('weight').shape).toEqual([3, 1]);
    setAB(l, [[1, -1]], [[1], [0], [2]]);
    // x = [1, 2]: x W + b = [9.5, 11, 17]; A x = -1; 2 · B (A x) = [-2, 0, -4] → [7.5, 11, 13].
    const x = tf.tensor2d([[1, 2]]);
    expect(arr(l.forward(x))).toEqual([7.5, 11, 13]);
    // B A = [[1, -1], [0, 0], [2, -2]]; 2 · (B A)ᵀ = [[2, 0, 4], [-2, 0, -4]]; W' = [[3, 2, 7], [2, 5, 2]].
    l.merge('x');
    expect(arr(base.weight)).toEqual([3, 2, 7, 2, 5, 2]);
    expect(arr(l.forward(x))).toEqual([7.5, 11, 13]);
    l.unmerge('x');
    expect(arr(base.weight)).toEqual([1, 2, 3, 4, 5, 6]);
    x.dispose();
    l.dispose();
  });

  test('adapter_config.json records fan_in_fan_out: true for Conv1D targets and reads it back; keys as PEFT names them', async () => {
    const s = conv1dSubject();
    const config = parse({ r: 2, target_modules: ['c_attn', 'c_fc'], seed: 1 });
    expect(config.fan_in_fan_out).toBe(false); // the recipe need not say it: the Conv1D layout decides
    const applied = loraMethod.apply(s.root, config, 'default');
    expect([...applied.adapterStateDict().keys()]).toContain('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight');
    expect(applied.adapterStateDict().get('base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight')!.shape).toEqual([12, 2]);
    const dir = tmp();
    await saveAdapter(dir, loraMethod, config, applied, { baseModelNameOrPath: 'gpt2' });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8'));
    expect(json).toMatchObject({ peft_type: 'LORA', fan_in_fan_out: true, target_modules: ['c_attn', 'c_fc'] });
    expect(loraMethod.fromAdapterConfig(json, 'adapter_config.json').fan_in_fan_out).toBe(true);
    expect(loraMethod.fromAdapterConfig({ ...json, fan_in_fan_out: null }, 'adapter_config.json').fan_in_fan_out).toBe(false);
    expect(() => loraMethod.fromAdapterConfig({ ...json, fan_in_fan_out: 'yes' }, 'a/adapter_config.json')).toThrow(
      /a\/adapter_config\.json.*fan_in_fan_out/,
    );
    s.dispose();
  });

  test('a folder Python PEFT wrote for GPT-2 (fan_in_fan_out true, F16) loads and merges to base + B A', async () => {
    const dir = tmp();
    const config = { peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 1, lora_alpha: 2, target_modules: ['c_proj'], fan_in_fan_out: true };
    fs.writeFileSync(path.join(dir, 'adapter_config.json'), JSON.stringify(config));
    const tensors: Record<string, { dtype: 'F16'; shape: number[]; data: Float32Array }> = {};
    for (const layer of [0, 1]) {
      const p = `base_model.model.transformer.h.${layer}`;
      tensors[`${p}.attn.c_proj.lora_A.weight`] = { dtype: 'F16', shape: [1, 6], data: Float32Array.from([1, 0, -1, 0.5, 0, 0]) };
      tensors[`${p}.attn.c_proj.lora_B.weight`] = { dtype: 'F16', shape: [6, 1], data: Float32Array.from([0, 0.25, 0, 0, -0.5, 0]) };
      tensors[`${p}.mlp.c_proj.lora_A.weight`] = { dtype: 'F16', shape: [1, 12], data: Float32Array.from({ length: 12 }, (_, i) => i / 8) };
      tensors[`${p}.mlp.c_proj.lora_B.weight`] = { dtype: 'F16', shape: [6, 1], data: Float32Array.from([0.5, 0, 0, 0, 0, -0.25]) };
    }
    await writeSafetensors(path.join(dir, 'adapter_model.safetensors'), tensors, { format: 'pt' });
    const s = conv1dSubject();
    const w0 = s.root.getModule<Conv1D>('transformer.h.0.attn.c_proj').weight;
    const before = arr(w0);
    const { applied } = await loadAdapter(dir, s.root, [loraMethod]);
    const adapted = arr(s.forward());
    applied.merge!();
    applied.remove();
    // W'[i][o] = W[i][o] + 2 · B[o] · A[i]: only A's nonzero rows i ∈ {0, 2, 3} and B's o ∈ {1, 4} move.
    const merged = arr(s.root.getModule<Conv1D>('transformer.h.0.attn.c_proj').weight);
    const A = [1, 0, -1, 0.5, 0, 0];
    const B = [0, 0.25, 0, 0, -0.5, 0];
    merged.forEach((v, k) => expect(v).toBeCloseTo(before[k]! + 2 * B[k % 6]! * A[Math.floor(k / 6)]!, 6));
    arr(s.forward()).forEach((v, i) => expect(Math.abs(v - adapted[i]!)).toBeLessThanOrEqual(1e-5));
    s.dispose();
  });

  test('fan_in_fan_out: true on Linear targets warns as PEFT does and computes as false', async () => {
    const warn = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const a = toySubject();
    const b = toySubject();
    const withFlag = parse({ r: 2, fan_in_fan_out: true, target_modules: ['q_proj'], seed: 1 });
    const applied = loraMethod.apply(a.root, withFlag, 'default');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toBe(
      'lora: fan_in_fan_out is true but layers.0.self_attn.q_proj, layers.1.self_attn.q_proj are Linear (weight [out, in]); ' +
        'using fan_in_fan_out false for them, as PEFT does. Set fan_in_fan_out only for Conv1D (GPT-2) targets, or leave it out.',
    );
    expect(warn.mock.calls[0]![1]).toEqual({ code: 'MMFT_LORA_FAN_IN_FAN_OUT' });
    const plain = loraMethod.apply(b.root, parse({ r: 2, target_modules: ['q_proj'], seed: 1 }), 'default');
    expect(warn).toHaveBeenCalledTimes(1);
    // Seeds from 1: tfjs draws unseeded for seed 0.
    for (const ad of [applied, plain])
      ad.trainableParameters().forEach(([, v], j) => tf.tidy(() => v.assign(tf.randomNormal(v.shape, 0, 0.1, 'float32', j + 1))));
    expect(arr(a.forward())).toEqual(arr(b.forward()));
    applied.merge!();
    plain.merge!();
    expect(arr(a.root.getModule<LoraLinear>('layers.0.self_attn.q_proj').baseLayer.weight)).toEqual(
      arr(b.root.getModule<LoraLinear>('layers.0.self_attn.q_proj').baseLayer.weight),
    );
    const dir = tmp();
    await saveAdapter(dir, loraMethod, withFlag, applied);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'adapter_config.json'), 'utf8')).fan_in_fan_out).toBe(false);
    a.dispose();
    b.dispose();
  });
});
