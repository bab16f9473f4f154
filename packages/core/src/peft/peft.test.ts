// The shared PEFT mechanism: PEFT's target matching rules, key names in adapter files, the
// print_trainable_parameters line, modules_to_save copies and name-preserving wrappers.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { Linear } from '../nn/linear';
import { PeftToyModel } from '../testing/peft-toy-model';
import {
  applyModulesToSave,
  describeTrainable,
  findTargetModules,
  fromPeftKey,
  loadAdapterTensors,
  matchesTarget,
  toPeftKey,
  TransparentWrapper,
} from './index';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('targeting (check_target_module_exists)', () => {
  test('a key matches the whole name or a whole last segment run; a string is a full-match regex', () => {
    expect(matchesTarget('a.self_attn.q_proj', ['q_proj'])).toBe(true);
    expect(matchesTarget('q_proj', ['q_proj'])).toBe(true);
    expect(matchesTarget('a.xq_proj', ['q_proj'])).toBe(false);
    expect(matchesTarget('a.self_attn.q_proj', ['self_attn.q_proj'])).toBe(true);
    expect(matchesTarget('a.self_attn.q_proj', 'q_proj')).toBe(false);
    expect(matchesTarget('a.self_attn.q_proj', '.*q_proj')).toBe(true);
  });

  test('no match is an error with the closest module names', () => {
    const model = new PeftToyModel({ seed: 1 });
    expect(() => findTargetModules(model, ['v_prj'], { method: 'x' })).toThrow(
      /"v_prj" matches no module of the model; closest module names: v_proj/,
    );
    expect(findTargetModules(model, 'layers\\.1\\..*_proj', { method: 'x' }).map(([n]) => n)).toEqual([
      'layers.1.self_attn.k_proj',
      'layers.1.self_attn.v_proj',
      'layers.1.self_attn.q_proj',
      'layers.1.self_attn.out_proj',
    ]);
    model.dispose();
  });
});

describe('PEFT key names (save_and_load.py)', () => {
  test('prefix added, adapter name removed, modules_to_save copies stored under the module name', () => {
    expect(toPeftKey('m.q_proj.lora_A.default.weight', 'default')).toBe('base_model.model.m.q_proj.lora_A.weight');
    expect(toPeftKey('head.modules_to_save.default.bias', 'default')).toBe('base_model.model.head.bias');
    expect(fromPeftKey('base_model.model.m.q_proj.lora_B.weight', 'x', { adapterOwners: ['lora_A', 'lora_B'] })).toBe(
      'm.q_proj.lora_B.x.weight',
    );
    expect(fromPeftKey('base_model.model.head.bias', 'x', { adapterOwners: [], savedModules: ['head'] })).toBe(
      'head.modules_to_save.x.bias',
    );
  });
});

describe('trainable summary and modules_to_save', () => {
  test('print_trainable_parameters format, counts after freezing and copying a head', () => {
    const model = new PeftToyModel({ seed: 1, outputs: 3 });
    model.freeze('**');
    const saved = applyModulesToSave(model, ['head'], 'default', 'test');
    const summary = describeTrainable(model);
    expect(summary.trainable).toBe(8 * 3 + 3);
    expect(summary.line).toBe(
      `trainable params: 27 || all params: ${summary.total.toLocaleString('en-US')} || trainable%: ${(2700 / summary.total).toFixed(4)}`,
    );
    expect(
      model
        .namedParameters()
        .map(([n]) => n)
        .filter((n) => n.startsWith('head')),
    ).toEqual([
      'head.original_module.weight',
      'head.original_module.bias',
      'head.modules_to_save.default.weight',
      'head.modules_to_save.default.bias',
    ]);
    saved.remove();
    expect(model.getModule('head')).toBeInstanceOf(Linear);
    model.dispose();
  });

  test('a TransparentWrapper keeps the inner names and sees children replaced through its path', () => {
    class Twice extends TransparentWrapper<[tf.Tensor], tf.Tensor> {
      forward(x: tf.Tensor): tf.Tensor {
        return tf.mul(this.inner<Linear>().forward(x), 2);
      }
    }
    const model = new PeftToyModel({ seed: 2 });
    const names = model.namedParameters().map(([n]) => n);
    model.setModule('layers.0.self_attn', new Twice(model.getModule('layers.0.self_attn')));
    expect(model.namedParameters().map(([n]) => n)).toEqual(names);
    const replacement = new Linear(8, 8, { seed: 9 });
    model.setModule('layers.0.self_attn.q_proj', replacement);
    const wrapper = model.getModule<Twice>('layers.0.self_attn');
    expect(wrapper.inner().child('q_proj')).toBe(replacement);
    model.dispose();
  });
});

describe('loadAdapterTensors', () => {
  const params: Array<[string, tf.Variable]> = [['q_proj.lora_A.default.weight', tf.variable(tf.zeros([2, 4]))]];
  const tensors = (extra: Record<string, number[]>) =>
    new Map<string, tf.Tensor>([
      ['base_model.model.q_proj.lora_A.weight', tf.ones([2, 4])],
      ...Object.entries(extra).map(([k, shape]) => [k, tf.zeros(shape)] as [string, tf.Tensor]),
    ]);
  const options = { adapterName: 'default', method: 'lora', adapterOwners: ['lora_A', 'lora_B'] };

  test('an unknown key is an error naming it; a modules_to_save weight the model lacks hints at a 4-bit module', () => {
    let error: unknown;
    try {
      loadAdapterTensors(params, tensors({ 'base_model.model.x.weight': [3] }), options);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/unknown keys \(1\): base_model\.model\.x\.weight/);
    expect((error as { hint?: string }).hint).toMatch(/same target_modules/);
    try {
      loadAdapterTensors(params, tensors({ 'base_model.model.proj.fc.weight': [3] }), { ...options, savedModules: ['proj'] });
    } catch (e) {
      error = e;
    }
    expect((error as { hint?: string }).hint).toMatch(/modules_to_save module \(proj\) may be held in 4 bits/);
    expect(params[0]![1].dataSync()[0]).toBe(0); // nothing assigned
  });
});
