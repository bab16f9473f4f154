// A training step leaves tf.memory() unchanged (optimizer.minimize and variableGrads), run by
// core on cpu and by backend plugins with their fused kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { gelu } from '../../nn/activations';
import { registerGradients } from '../../nn/gradients';
import { MultiHeadAttention } from '../../nn/attention';
import { deriveSeed } from '../../nn/init';
import { LayerNorm } from '../../nn/layer-norm';
import { Linear } from '../../nn/linear';
import { causalMask } from '../../nn/masks';
import { Module } from '../../nn/module';
import { ModuleList } from '../../nn/module-list';

/** A pre-norm transformer block as in HF CLIPEncoderLayer. */
class Block extends Module<[tf.Tensor, tf.Tensor], tf.Tensor> {
  constructor(dim: number, seed: number) {
    super();
    this.registerModule('self_attn', new MultiHeadAttention({ embedDim: dim, numHeads: 2, dropout: 0.1, seed: deriveSeed(seed, 'attn') }));
    this.registerModule('layer_norm1', new LayerNorm(dim));
    this.registerModule('fc1', new Linear(dim, 2 * dim, { seed: deriveSeed(seed, 'fc1') }));
    this.registerModule('fc2', new Linear(2 * dim, dim, { seed: deriveSeed(seed, 'fc2') }));
    this.registerModule('layer_norm2', new LayerNorm(dim));
  }
  forward(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const ln = (name: string) => this.child<LayerNorm>(name);
      const h = tf.add(x, this.child<MultiHeadAttention>('self_attn').forward(ln('layer_norm1').forward(x), { attentionMask: mask }));
      const mlp = this.child<Linear>('fc2').forward(gelu(this.child<Linear>('fc1').forward(ln('layer_norm2').forward(h))));
      return tf.add(h, mlp);
    });
  }
}

class Tiny extends Module<[tf.Tensor], tf.Tensor> {
  constructor(dim: number) {
    super();
    this.registerModule('layers', new ModuleList([new Block(dim, 1), new Block(dim, 2)]));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const mask = causalMask(x.shape[1]!);
      let h = x;
      for (const block of this.child<ModuleList<Block>>('layers')) h = block.forward(h, mask);
      return h;
    });
  }
}

/** Registers core's training-memory tests; the caller has selected the backend. */
export function trainingMemorySuite(): void {
  describe('a training step', () => {
    beforeAll(() => {
      expect(registerGradients()).toBe(true);
    });

    test('forward + gradients + SGD update leave tf.memory().numTensors unchanged', () => {
      const model = new Tiny(8).train();
      model.freeze('layers.0.**');
      const frozen = model.getModule('layers.0.fc1', Linear).weight.arraySync();
      const x = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 1);
      const target = tf.randomNormal([2, 5, 8], 0, 1, 'float32', 2);
      const optimizer = tf.train.sgd(0.1);
      const step = () => {
        const loss = optimizer.minimize(
          () => tf.losses.meanSquaredError(target, model.forward(x)) as tf.Scalar,
          true,
          model.trainableParameters(),
        );
        const value = loss!.dataSync()[0];
        loss!.dispose();
        return value;
      };
      const first = step(); // warm-up: SGD caches its learning-rate scalar on the first update
      const before = tf.memory().numTensors;
      const losses = [step(), step(), step()];
      expect(tf.memory().numTensors).toBe(before);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(Math.min(...losses)).toBeLessThan(first);
      expect(model.getModule('layers.0.fc1', Linear).weight.arraySync()).toEqual(frozen);

      // The same holds with tf.variableGrads and a manual update.
      const before2 = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        const { value, grads } = tf.variableGrads(
          () => tf.losses.meanSquaredError(target, model.forward(x)) as tf.Scalar,
          model.trainableParameters(),
        );
        optimizer.applyGradients(grads);
        value.dispose();
        tf.dispose(grads);
      }
      expect(tf.memory().numTensors).toBe(before2);
      optimizer.dispose();
      model.dispose();
    });
  });
}
