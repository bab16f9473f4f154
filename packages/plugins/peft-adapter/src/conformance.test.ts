// The shared PEFT conformance kit against bottleneck adapters (Pfeiffer and Houlsby) on the core
// toy transformer and on a tiny HF-layout CLIP, plus the adapter-specific checks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { Conv1D, Module, registerGradients } from '@mmft/core/nn';
import { describePeftMethod } from '@mmft/core/testing';
import { blockWidth, BottleneckWrapper } from './layer';
import { bottleneckMethod } from './plugin';
import { clipSubject, toySubject } from './test-subjects.test-helper';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const isAdapter = (n: string) => /\.adapter_(down|up)\.default\.(weight|bias)$/.test(n);

describePeftMethod(bottleneckMethod, [
  {
    name: 'toy pfeiffer',
    config: { reduction_factor: 4, seed: 1 },
    makeSubject: () => toySubject(),
    expectTrainable: isAdapter,
    identityAtInit: true,
  },
  {
    name: 'toy houlsby gelu + head saved',
    config: { variant: 'houlsby', reduction_factor: 2, non_linearity: 'gelu', modules_to_save: ['head'], seed: 2 },
    makeSubject: () => toySubject(),
    expectTrainable: (n) => isAdapter(n) || n.startsWith('head.modules_to_save.default.'),
    identityAtInit: true,
  },
  {
    name: 'tiny CLIP houlsby',
    config: { variant: 'houlsby', reduction_factor: 4, seed: 3 },
    makeSubject: clipSubject,
    expectTrainable: isAdapter,
    identityAtInit: true,
  },
]);

describe('bottleneck adapters', () => {
  test('a module in modules_to_save gets no adapter inside it: it trains whole, as in PEFT', () => {
    const p = toySubject();
    const applied = bottleneckMethod.apply(p.root, { reduction_factor: 4, modules_to_save: ['layers.1'] } as never, 'default');
    expect(p.root.getModule('layers.0.mlp')).toBeInstanceOf(BottleneckWrapper);
    expect(p.root.getModule('layers.1.modules_to_save.default.mlp')).not.toBeInstanceOf(BottleneckWrapper);
    const trainable = applied.trainableParameters().map(([n]) => n);
    expect(trainable.some((n) => n.startsWith('layers.1.modules_to_save.default.mlp.'))).toBe(true);
    expect(trainable.filter((n) => n.includes('.adapter_')).every((n) => n.startsWith('layers.0.'))).toBe(true);
    p.dispose();
  });

  test('houlsby wraps attention and MLP, pfeiffer the MLP only; names of the base stay; width = hidden / reduction_factor', async () => {
    const s = await clipSubject();
    const names = s.root.namedParameters().map(([n]) => n);
    bottleneckMethod.apply(s.root, { variant: 'houlsby', reduction_factor: 4 } as never, 'default');
    const after = s.root.namedParameters().map(([n]) => n);
    expect(after.filter((n) => !n.includes('.adapter_'))).toEqual(names);
    expect(s.root.getModule('text_model.encoder.layers.0.self_attn')).toBeInstanceOf(BottleneckWrapper);
    expect(s.root.getModule('vision_model.encoder.layers.0.mlp')).toBeInstanceOf(BottleneckWrapper);
    expect(s.root.getModule('text_model.encoder.layers.0.mlp.adapter_down.default').param('weight').shape).toEqual([2, 8]);
    s.dispose();
    const p = toySubject();
    bottleneckMethod.apply(p.root, { reduction_factor: 4 } as never, 'default');
    expect(p.root.getModule('layers.0.self_attn')).not.toBeInstanceOf(BottleneckWrapper);
    expect(p.root.getModule('layers.1.mlp')).toBeInstanceOf(BottleneckWrapper);
    p.dispose();
  });

  test('a non-zero up-projection changes the output: y + up(act(down(y)))', () => {
    const s = toySubject();
    const base = Array.from(s.forward().dataSync());
    const applied = bottleneckMethod.apply(s.root, { reduction_factor: 4, seed: 1 } as never, 'default');
    for (const [n, v] of applied.trainableParameters()) if (n.includes('adapter_up')) tf.tidy(() => v.assign(tf.onesLike(v)));
    expect(Array.from(s.forward().dataSync())).not.toEqual(base);
    expect(applied.merge).toBeUndefined();
    s.dispose();
  });

  test('a mlp_modules key that matches nothing lists close names', () => {
    const s = toySubject();
    expect(() => bottleneckMethod.apply(s.root, { mlp_modules: ['mpl'] } as never, 'default')).toThrow(
      /mlp_modules: target_modules "mpl" matches no module.*closest module names: mlp/,
    );
    s.dispose();
  });
});

describe('block width', () => {
  class Gpt2Mlp extends Module<[tf.Tensor], tf.Tensor> {
    constructor() {
      super();
      this.registerModule('c_fc', new Conv1D(6, 24));
      this.registerModule('c_proj', new Conv1D(24, 6));
    }
    forward(x: tf.Tensor): tf.Tensor {
      return this.child<Conv1D>('c_proj').forward(this.child<Conv1D>('c_fc').forward(x));
    }
  }

  test("a GPT-2 MLP (Conv1D inside) has its last Conv1D's output width; a block with neither is a clear error", () => {
    const mlp = new Gpt2Mlp();
    expect(blockWidth(mlp, 'transformer.h.0.mlp')).toBe(6);
    class Empty extends Module<[tf.Tensor], tf.Tensor> {
      forward(x: tf.Tensor): tf.Tensor {
        return x;
      }
    }
    expect(() => blockWidth(new Empty(), 'x.mlp')).toThrow(
      /cannot tell the output width of "x\.mlp" \(Empty, no Linear or Conv1D inside\)/,
    );
    mlp.dispose();
  });
});
