// Gradient checkpointing on tfjs's cpu backend: core's suite (testing/nn-suite/checkpoint.ts, which
// backend plugins re-run with their kernels), plus what only cpu measures here: unseeded dropout
// replay and the peak tensor bytes of tf.profile on deep stacks.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { describeNnSuite } from '../testing/nn-suite';
import { CheckpointTestStack } from '../testing/nn-suite/checkpoint';
import { blockStack, checkpointed, runBlocks, setGradientCheckpointing } from './checkpoint';
import { Dropout } from './dropout';
import { registerGradients } from './gradients';
import { Linear } from './linear';
import { Module } from './module';
import { ModuleList } from './module-list';

describeNnSuite('cpu', { setup: () => tf.setBackend('cpu'), only: ['checkpoint'] });

describe('gradient checkpointing on cpu', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    expect(registerGradients()).toBe(true);
  });

  test('an unseeded Dropout replays its mask when its count is rewound, and draws a new one otherwise', () => {
    const drop = new Dropout(0.5).train();
    const x = tf.ones([64]);
    const first = drop.forward(x).dataSync();
    const second = drop.forward(x).dataSync();
    drop.drawnMasks = 0;
    expect(drop.forward(x).dataSync()).toEqual(first);
    expect(Array.from(second)).not.toEqual(Array.from(first));
    x.dispose();
  });

  test('an identity block passes its gradient through intact (the gradient it hands back is not freed)', () => {
    const a = tf.tensor1d([1, 2, 3]);
    const [g] = tf.grads((x: tf.Tensor) =>
      tf.sum(
        tf.mul(
          checkpointed((h) => h, [x]),
          tf.scalar(3),
        ),
      ),
    )([a]);
    expect(Array.from(g!.dataSync())).toEqual([3, 3, 3]);
    tf.dispose([a, g!]);
  });

  test('peak tensor bytes of forward + backward drop on a deep stack', async () => {
    const peak = async (on: boolean): Promise<number> => {
      const model = new CheckpointTestStack(16, 8).train();
      setGradientCheckpointing(model, on);
      const x = tf.randomNormal([2, 24, 16], 0, 1, 'float32', 5);
      const before = tf.memory().numBytes;
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(x))) as tf.Scalar);
        tf.dispose([value, ...Object.values(grads)]);
      });
      model.dispose();
      x.dispose();
      return info.peakBytes - before;
    };
    const plainPeak = await peak(false);
    const ckptPeak = await peak(true);
    expect(plainPeak).toBeGreaterThan(0);
    expect(ckptPeak).toBeLessThan(0.3 * plainPeak); // measured 0.15 (8 blocks keep 8 inputs and one block's recomputation)
  });

  test('each further block adds one checkpoint to the peak, not also its gradient (freed once its block ran backward)', async () => {
    class Residual extends Module<[tf.Tensor], tf.Tensor> {
      constructor(seed: number) {
        super();
        this.registerModule('fc', new Linear(16, 16, { seed }));
      }
      forward(x: tf.Tensor): tf.Tensor {
        return tf.tidy(() => tf.add(x, tf.tanh(this.child<Linear>('fc').forward(x))));
      }
    }
    const peak = async (depth: number): Promise<number> => {
      const list = blockStack(new ModuleList(Array.from({ length: depth }, (_, i) => new Residual(i + 1))));
      setGradientCheckpointing(list, true);
      const x = tf.randomNormal([4, 64, 16], 0, 1, 'float32', 5);
      const before = tf.memory().numBytes;
      const info = await tf.profile(() => {
        const { value, grads } = tf.variableGrads(() => tf.sum(runBlocks(list, x, (b, h) => b.forward(h))) as tf.Scalar);
        tf.dispose([value, ...Object.values(grads)]);
      });
      list.dispose();
      x.dispose();
      return info.peakBytes - before;
    };
    const hiddenBytes = 4 * 64 * 16 * 4;
    const perBlock = ((await peak(16)) - (await peak(8))) / 8;
    // Measured 1.56 × hiddenBytes per block (the checkpoint, its share of the transient gradients and
    // the weight gradients); 2.07 × when boundary gradients are kept until the gradient call ends.
    expect(perBlock).toBeGreaterThan(0.9 * hiddenBytes);
    expect(perBlock).toBeLessThan(1.8 * hiddenBytes);
  });
});
