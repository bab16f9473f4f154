// The Module tree: HF parameter names, setModule, train/eval and freezing, state dicts, seeded
// init and memory; run by core on cpu and by backend plugins with their kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../../errors';
import { MultiHeadAttention } from '../../nn/attention';
import { LayerNorm } from '../../nn/layer-norm';
import { Linear } from '../../nn/linear';
import { Module } from '../../nn/module';
import { ModuleList } from '../../nn/module-list';

/** A CLIP-shaped miniature: vision_model.encoder.layers.N.{self_attn, layer_norm1, mlp.fc1}. */
class Layer extends Module<[tf.Tensor], tf.Tensor> {
  constructor(dim: number, seed: number) {
    super();
    this.registerModule('self_attn', new MultiHeadAttention({ embedDim: dim, numHeads: 2, seed }));
    this.registerModule('layer_norm1', new LayerNorm(dim));
    this.registerModule('mlp', new Mlp(dim, seed));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.child<MultiHeadAttention>('self_attn').forward(x);
  }
}
class Mlp extends Module<[tf.Tensor], tf.Tensor> {
  constructor(dim: number, seed: number) {
    super();
    this.registerModule('fc1', new Linear(dim, dim, { seed }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.child<Linear>('fc1').forward(x);
  }
}
class Encoder extends Module<[tf.Tensor], tf.Tensor> {
  constructor(dim: number, seed: number) {
    super();
    this.registerModule('layers', new ModuleList([new Layer(dim, seed), new Layer(dim, seed + 1)]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    for (const layer of this.child<ModuleList<Layer>>('layers')) x = layer.forward(x);
    return x;
  }
}
class Model extends Module<[tf.Tensor], tf.Tensor> {
  constructor(dim = 4, seed = 1) {
    super();
    const vision = this.registerModule('vision_model', new Wrapper());
    vision.registerModule('encoder', new Encoder(dim, seed));
    this.registerModule('visual_projection', new Linear(dim, 3, { bias: false, seed }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.child<Linear>('visual_projection').forward(this.getModule<Encoder>('vision_model.encoder').forward(x));
  }
}
class Wrapper extends Module<[], null> {
  forward(): null {
    return null;
  }
}
/** What a PEFT method does: wrap a Linear and change its output. */
class AddOne extends Module<[tf.Tensor], tf.Tensor> {
  constructor(base: Linear) {
    super();
    this.registerModule('base_layer', base);
    this.createParameter('extra', [1], (s) => tf.ones([...s]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.add(this.child<Linear>('base_layer').forward(x), 1));
  }
}

function catchError(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** Registers core's module tests; the caller has selected the backend. */
export function moduleSuite(): void {
  describe('Module naming', () => {
    test('dotted names equal HF state-dict keys, in registration order', () => {
      const model = new Model();
      const names = model.namedParameters().map(([n]) => n);
      expect(names.slice(0, 4)).toEqual([
        'vision_model.encoder.layers.0.self_attn.k_proj.weight',
        'vision_model.encoder.layers.0.self_attn.k_proj.bias',
        'vision_model.encoder.layers.0.self_attn.v_proj.weight',
        'vision_model.encoder.layers.0.self_attn.v_proj.bias',
      ]);
      expect(names).toContain('vision_model.encoder.layers.1.mlp.fc1.weight');
      expect(names).toContain('vision_model.encoder.layers.0.layer_norm1.bias');
      expect(names[names.length - 1]).toBe('visual_projection.weight');
      expect(model.namedParameters('model')[0][0]).toBe('model.vision_model.encoder.layers.0.self_attn.k_proj.weight');
      model.dispose();
    });

    test('namedModules starts with the root under ""', () => {
      const model = new Model();
      const names = model.namedModules().map(([n]) => n);
      expect(names.slice(0, 4)).toEqual(['', 'vision_model', 'vision_model.encoder', 'vision_model.encoder.layers']);
      expect(names).toContain('vision_model.encoder.layers.1.self_attn.out_proj');
      model.dispose();
    });

    test('getModule checks the class and suggests close names', () => {
      const model = new Model();
      expect(model.getModule('vision_model.encoder.layers.0.mlp.fc1', Linear)).toBeInstanceOf(Linear);
      expect(model.getModule('')).toBe(model);
      expect(catchError(() => model.getModule('vision_model.encoder', Linear)).message).toMatch(/is a Encoder, not a Linear/);
      const err = catchError(() => model.getModule('vision_model.encoder.layer.0.mlp.fc1'));
      expect(isMmftError(err) && err.code).toBe('E_CONFIG');
      expect(err.message).toContain('closest: vision_model.encoder.layers.0.mlp.fc1');
      model.dispose();
    });

    test('registration refuses dotted, empty and duplicate names', () => {
      const m = new Wrapper();
      m.registerModule('a', new Linear(2, 2));
      expect(catchError(() => m.registerModule('a', new Linear(2, 2))).message).toMatch(/already registered/);
      expect(catchError(() => m.registerModule('a.b', new Linear(2, 2))).message).toMatch(/contain no "\."/);
      expect(catchError(() => m.createParameter('', [1], (s) => tf.zeros([...s]))).message).toMatch(/invalid/);
      m.dispose();
    });
  });

  describe('setModule', () => {
    test('replaces a Linear at any depth and forward uses the replacement', () => {
      const model = new Model().eval();
      const x = tf.randomNormal([1, 3, 4], 0, 1, 'float32', 3);
      const before = model.forward(x);
      const path = 'vision_model.encoder.layers.1.self_attn.q_proj';
      const base = model.getModule(path, Linear);
      const old = model.setModule(path, new AddOne(base));
      expect(old).toBe(base);
      expect(model.getModule(path)).toBeInstanceOf(AddOne);
      expect(model.getModule(path).training).toBe(false); // joined eval mode
      const names = model.namedParameters().map(([n]) => n);
      expect(names).toContain(`${path}.base_layer.weight`);
      expect(names).toContain(`${path}.extra`);
      expect(names).not.toContain(`${path}.weight`);
      const after = model.forward(x);
      expect(tf.max(tf.abs(tf.sub(before, after))).dataSync()[0]).toBeGreaterThan(1e-4);
      // Order is kept: q_proj still sits between v_proj and out_proj.
      const attnChildren = model
        .getModule('vision_model.encoder.layers.1.self_attn')
        .namedChildren()
        .map(([n]) => n);
      expect(attnChildren).toEqual(['k_proj', 'v_proj', 'q_proj', 'out_proj', 'dropout']);
      model.dispose();
    });

    test('a missing path fails with close names', () => {
      const model = new Model();
      const err = catchError(() => model.setModule('vision_model.encoder.layers.0.self_attn.qproj', new Linear(4, 4)));
      expect(err.message).toContain('closest: vision_model.encoder.layers.0.self_attn.q_proj');
      expect(catchError(() => model.setModule('visual_proj', new Linear(4, 4))).message).toContain('visual_projection');
      model.dispose();
    });
  });

  describe('modes and freezing', () => {
    test('train/eval propagate to every descendant', () => {
      const model = new Model();
      expect(model.namedModules().every(([, m]) => m.training)).toBe(true);
      model.eval();
      expect(model.namedModules().every(([, m]) => !m.training)).toBe(true);
      model.train();
      expect(model.getModule('vision_model.encoder.layers.0.self_attn.dropout').training).toBe(true);
      model.dispose();
    });

    test('freeze/unfreeze by glob and RegExp set variable.trainable', () => {
      const model = new Model();
      const total = model.parameterCount();
      expect(total).toBe(model.namedParameters().reduce((s, [, v]) => s + v.size, 0));
      expect(model.freeze().length).toBe(model.namedParameters().length);
      expect(model.trainableParameters()).toEqual([]);
      expect(model.parameterCount({ trainableOnly: true })).toBe(0);
      const hits = model.unfreeze('**.q_proj.*');
      expect(hits).toEqual([
        'vision_model.encoder.layers.0.self_attn.q_proj.weight',
        'vision_model.encoder.layers.0.self_attn.q_proj.bias',
        'vision_model.encoder.layers.1.self_attn.q_proj.weight',
        'vision_model.encoder.layers.1.self_attn.q_proj.bias',
      ]);
      expect(model.parameterCount({ trainableOnly: true })).toBe(2 * (16 + 4));
      expect(model.unfreeze(/layer_norm1\.weight$/g)).toHaveLength(2);
      expect(model.unfreeze(/layer_norm1\.weight$/g)).toHaveLength(2); // a /g RegExp keeps no state
      expect(model.freeze('vision_model.encoder.layers.*.self_attn.*.bias')).toHaveLength(8);
      expect(model.trainableParameters()).toHaveLength(4);
      model.dispose();
    });

    test('glob semantics: * within a segment, ** across, **. also matches no segment', () => {
      const fc = new Linear(2, 2);
      expect(fc.freeze('**.bias')).toEqual(['bias']);
      const model = new Model();
      expect(model.freeze('*.weight')).toEqual(['visual_projection.weight']);
      expect(model.freeze('vision_model.*.layers.1.mlp.**')).toEqual([
        'vision_model.encoder.layers.1.mlp.fc1.weight',
        'vision_model.encoder.layers.1.mlp.fc1.bias',
      ]);
      expect(model.freeze('**.layers.?.layer_norm1.weight')).toHaveLength(2);
      fc.dispose();
      model.dispose();
    });

    test('a pattern that matches nothing is an error listing parameters', () => {
      const model = new Model();
      const err = catchError(() => model.freeze('vision_model.encoder.layer.*'));
      expect(isMmftError(err) && err.code).toBe('E_CONFIG');
      expect(err.message).toMatch(/matches none of the 25 parameters of Model; closest: vision_model\.encoder\.layers\./);
      model.dispose();
    });
  });

  describe('state dict', () => {
    test('stateDict holds the variables themselves; loadStateDict copies values across models', () => {
      const a = new Model(4, 1);
      const b = new Model(4, 2);
      const dict = a.stateDict();
      expect(dict.get('visual_projection.weight')).toBe(a.getModule('visual_projection', Linear).weight);
      expect(b.loadStateDict(dict)).toEqual({ missing: [], unexpected: [] });
      for (const [name, v] of b.stateDict()) expect(v.arraySync()).toEqual(dict.get(name)!.arraySync());
      a.dispose(); // b keeps its own reference to the data
      expect(b.getModule('visual_projection', Linear).weight.arraySync()).toHaveLength(3);
      b.dispose();
    });

    test('strict load names missing and unexpected tensors and changes nothing', () => {
      const model = new Model();
      const before = model.getModule('visual_projection', Linear).weight.arraySync();
      const dict = new Map<string, tf.Tensor>(model.stateDict());
      dict.delete('vision_model.encoder.layers.0.mlp.fc1.bias');
      dict.set('text_model.embeddings.position_ids', tf.zeros([1, 77]));
      dict.set('visual_projection.weight', tf.ones([3, 4]));
      const err = catchError(() => model.loadStateDict(dict));
      expect(isMmftError(err) && err.code).toBe('E_CHECKPOINT');
      expect(err.message).toContain('missing (1): vision_model.encoder.layers.0.mlp.fc1.bias');
      expect(err.message).toContain('unexpected (1): text_model.embeddings.position_ids');
      expect(model.getModule('visual_projection', Linear).weight.arraySync()).toEqual(before);
      const result = model.loadStateDict(dict, { strict: false });
      expect(result).toEqual({
        missing: ['vision_model.encoder.layers.0.mlp.fc1.bias'],
        unexpected: ['text_model.embeddings.position_ids'],
      });
      expect(model.getModule('visual_projection', Linear).weight.arraySync()).toEqual(tf.ones([3, 4]).arraySync());
      model.dispose();
    });

    test('a mis-shaped tensor always throws with expected and actual shapes', () => {
      const model = new Model();
      const dict: Record<string, tf.Tensor> = Object.fromEntries(model.stateDict());
      dict['visual_projection.weight'] = tf.zeros([4, 3]);
      const err = catchError(() => model.loadStateDict(dict, { strict: false }));
      expect(err.message).toContain('visual_projection.weight: expected [3, 4], got [4, 3]');
      model.dispose();
    });

    test('int32 tensors are cast to the variable dtype', () => {
      const fc = new Linear(2, 2);
      fc.loadStateDict({
        weight: tf.tensor2d(
          [
            [1, 2],
            [3, 4],
          ],
          [2, 2],
          'int32',
        ),
        bias: tf.tensor1d([5, 6], 'int32'),
      });
      expect(fc.weight.dtype).toBe('float32');
      expect(fc.weight.arraySync()).toEqual([
        [1, 2],
        [3, 4],
      ]);
      fc.dispose();
    });

    test('tied variables are listed once by namedParameters but under each name in stateDict', () => {
      const root = new Wrapper();
      const emb = root.registerModule('embed', new Linear(3, 2, { bias: false }));
      const head = root.registerModule('head', new Wrapper());
      head.registerParameter('weight', emb.weight);
      expect(root.namedParameters().map(([n]) => n)).toEqual(['embed.weight']);
      expect([...root.stateDict().keys()]).toEqual(['embed.weight', 'head.weight']);
      expect(root.parameterCount()).toBe(6);
      root.dispose();
      root.dispose(); // idempotent
    });
  });

  describe('initialisation and memory', () => {
    test('same seed gives identical weights; different seeds differ; names never collide', () => {
      const a = new Model(4, 7);
      const b = new Model(4, 7);
      const c = new Model(4, 8);
      const w = (m: Model) => m.getModule('vision_model.encoder.layers.0.self_attn.q_proj', Linear).weight.arraySync();
      expect(w(a)).toEqual(w(b));
      expect(w(a)).not.toEqual(w(c));
      const names = [a, b, c].flatMap((m) => m.namedParameters().map(([, v]) => v.name));
      expect(new Set(names).size).toBe(names.length);
      for (const m of [a, b, c]) m.dispose();
    });

    test('building and disposing a model leaves no tensor behind', () => {
      const before = tf.memory().numTensors;
      const model = new Model();
      expect(tf.memory().numTensors).toBe(before + model.namedParameters().length);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
