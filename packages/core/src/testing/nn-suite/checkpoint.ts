// Gradient checkpointing (nn/checkpoint.ts): gradients bit-equal to the plain backward (the
// recomputation runs the same kernels in the same order), dropout masks replayed, frozen and unread
// variables left alone, no tensor leaked. Run by core on cpu and by backend plugins with their
// fused kernels installed (index.ts), where bit-equality says their kernels are deterministic.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { gelu } from '../../nn/activations';
import { MultiHeadAttention } from '../../nn/attention';
import { blockStack, checkpointed, gradientCheckpointingOf, runBlocks, setGradientCheckpointing } from '../../nn/checkpoint';
import { Dropout } from '../../nn/dropout';
import { registerGradients } from '../../nn/gradients';
import { deriveSeed, normal } from '../../nn/init';
import { LayerNorm } from '../../nn/layer-norm';
import { Linear } from '../../nn/linear';
import { causalMask } from '../../nn/masks';
import { Module } from '../../nn/module';
import { ModuleList } from '../../nn/module-list';

let forwardCalls = 0;

/** A pre-norm block with attention dropout and a dropout on the MLP, plus a trainable parameter it never reads. */
class Block extends Module<[tf.Tensor, tf.Tensor], tf.Tensor> {
  constructor(dim: number, seed: number) {
    super();
    this.registerModule('self_attn', new MultiHeadAttention({ embedDim: dim, numHeads: 2, dropout: 0.3, seed: deriveSeed(seed, 'attn') }));
    this.registerModule('layer_norm1', new LayerNorm(dim));
    this.registerModule('fc1', new Linear(dim, 2 * dim, { seed: deriveSeed(seed, 'fc1') }));
    this.registerModule('fc2', new Linear(2 * dim, dim, { seed: deriveSeed(seed, 'fc2') }));
    this.registerModule('drop', new Dropout(0.4, { seed: deriveSeed(seed, 'drop') }));
    this.registerModule('layer_norm2', new LayerNorm(dim));
    this.createParameter('unused', [dim], normal(0, 1), { seed: deriveSeed(seed, 'unused') });
  }

  forward(x: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    forwardCalls += 1;
    return tf.tidy(() => {
      const ln = (name: string) => this.child<LayerNorm>(name);
      const h = tf.add(x, this.child<MultiHeadAttention>('self_attn').forward(ln('layer_norm1').forward(x), { attentionMask: mask }));
      const mlp = this.child<Linear>('fc2').forward(gelu(this.child<Linear>('fc1').forward(ln('layer_norm2').forward(h))));
      return tf.add(h, this.child<Dropout>('drop').forward(mlp));
    });
  }
}

export class CheckpointTestStack extends Module<[tf.Tensor], tf.Tensor> {
  constructor(dim: number, depth: number) {
    super();
    this.registerModule('layers', blockStack(new ModuleList(Array.from({ length: depth }, (_, i) => new Block(dim, i + 1)))));
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const mask = causalMask(x.shape[1]!); // made inside the forward: it must travel as a constant
      return runBlocks(this.child<ModuleList<Block>>('layers'), x, (block, h, [m]) => block.forward(h, m!), { constants: [mask] });
    });
  }
}

const input = () => tf.tidy(() => tf.randomNormal([2, 5, 8], 0, 1, 'float32', 3));

/** Loss, gradients of every trainable variable and of the input, as plain arrays keyed by parameter name. */
function step(model: CheckpointTestStack, x: tf.Tensor): { loss: number; grads: Record<string, Float32Array> } {
  const names = new Map(model.namedParameters().map(([name, v]) => [v.name, name]));
  const lossOf = () => tf.sum(tf.square(model.forward(x)));
  const { value, grads } = tf.variableGrads(lossOf as () => tf.Scalar);
  const dx = tf.grad((input: tf.Tensor) => tf.sum(tf.square(model.forward(input))))(x);
  const out: Record<string, Float32Array> = { input: dx.dataSync() as Float32Array };
  for (const [name, g] of Object.entries(grads)) out[names.get(name)!] = g.dataSync() as Float32Array;
  const loss = value.dataSync()[0]!;
  tf.dispose([value, dx, ...Object.values(grads)]);
  return { loss, grads: out };
}

/** Registers core's checkpointing tests; the caller has selected the backend. */
export function checkpointSuite(): void {
  describe('gradient checkpointing', () => {
    beforeAll(() => {
      expect(registerGradients()).toBe(true);
    });

    test('gradients are bit-equal to the plain backward, step after step (dropout replayed)', () => {
      const plain = new CheckpointTestStack(8, 3).train();
      const ckpt = new CheckpointTestStack(8, 3).train();
      expect(setGradientCheckpointing(ckpt, true)).toBe(1);
      const x = input();
      for (let s = 0; s < 2; s++) {
        const a = step(plain, x);
        const b = step(ckpt, x);
        expect(b.loss).toBe(a.loss);
        expect(Object.keys(b.grads).sort()).toEqual(Object.keys(a.grads).sort());
        for (const name of Object.keys(a.grads)) expect([name, b.grads[name]]).toEqual([name, a.grads[name]]);
        // the unread parameter gets no gradient, as in the plain backward
        expect(a.grads['layers.0.unused']).toBeUndefined();
      }
      const drawn = (m: CheckpointTestStack) => m.namedModules().flatMap(([, d]) => (d instanceof Dropout ? [d.drawnMasks] : []));
      expect(drawn(ckpt)).toEqual(drawn(plain));
      expect(drawn(ckpt).every((n) => n === 4)).toBe(true); // two forwards per step (variableGrads, grad), two steps
      x.dispose();
    });

    test('the recomputation really replays the masks: dropout makes a step differ from the next', () => {
      const model = new CheckpointTestStack(8, 2).train();
      const x = input();
      const first = step(model, x).loss;
      expect(step(model, x).loss).not.toBe(first);
      x.dispose();
    });

    test('frozen parameters get no gradient and tf.memory() is unchanged after a step', () => {
      const model = new CheckpointTestStack(8, 2).train();
      model.freeze('layers.1.**');
      setGradientCheckpointing(model, true);
      const x = input();
      step(model, x); // warm up lazily created tensors (kernels, masks)
      const before = tf.memory().numTensors;
      const { grads } = step(model, x);
      expect(tf.memory().numTensors).toBe(before);
      expect(Object.keys(grads).filter((k) => k.startsWith('layers.1.'))).toEqual([]);
      expect(Object.keys(grads).filter((k) => k.startsWith('layers.0.')).length).toBeGreaterThan(0);
      x.dispose();
    });

    test('every_n_blocks recomputes only the selected blocks, with the same gradients', () => {
      const plain = new CheckpointTestStack(8, 4).train();
      const ckpt = new CheckpointTestStack(8, 4).train();
      setGradientCheckpointing(ckpt, { everyNBlocks: 2 });
      expect(gradientCheckpointingOf(ckpt.child('layers'))).toBe(2);
      const x = input();
      const a = step(plain, x);
      forwardCalls = 0;
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(ckpt.forward(x))) as tf.Scalar);
      expect(forwardCalls).toBe(4 + 2); // blocks 0 and 2 run twice
      tf.dispose([value, ...Object.values(grads)]);
      // the gradient step above drew masks; a fresh pair compares gradients
      const fresh = new CheckpointTestStack(8, 4).train();
      setGradientCheckpointing(fresh, { everyNBlocks: 2 });
      const b = step(fresh, x);
      for (const name of Object.keys(a.grads)) expect([name, b.grads[name]]).toEqual([name, a.grads[name]]);
      x.dispose();
    });

    test('without a tape (inference) the blocks run once, and setting false turns it off', () => {
      const model = new CheckpointTestStack(8, 3).train();
      expect(setGradientCheckpointing(model, true)).toBe(1);
      const x = input();
      forwardCalls = 0;
      tf.tidy(() => model.forward(x));
      expect(forwardCalls).toBe(3);
      setGradientCheckpointing(model, false);
      forwardCalls = 0;
      const { value, grads } = tf.variableGrads(() => tf.sum(model.forward(x)) as tf.Scalar);
      expect(forwardCalls).toBe(3);
      tf.dispose([value, ...Object.values(grads), x]);
    });

    test('a model without block stacks reports 0, and a bad interval is refused', () => {
      expect(setGradientCheckpointing(new ModuleList([new Linear(2, 2)]), true)).toBe(0);
      expect(() => setGradientCheckpointing(new CheckpointTestStack(4, 1), { everyNBlocks: 1.5 })).toThrow(/every_n_blocks/);
    });

    test('checkpointed passes gradients to every float input and fills unconnected ones with zeros', () => {
      const w = tf.variable(tf.tensor1d([2, 3]), true);
      const a = tf.tensor1d([1, 4]);
      const b = tf.tensor1d([5, 6]);
      const [ga, gb] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(checkpointed((p, q) => tf.add(tf.mul(tf.square(p), w), tf.mul(q, 0)), [x, y])),
      )([a, b]);
      expect(Array.from(ga!.dataSync())).toEqual([4, 24]); // d/dp (p² w) = 2 p w
      expect(Array.from(gb!.dataSync())).toEqual([0, 0]);
      const { grads } = tf.variableGrads(() => tf.sum(checkpointed((p) => tf.mul(tf.square(p), w), [a])) as tf.Scalar, [w]);
      expect(Array.from(grads[w.name]!.dataSync())).toEqual([1, 16]);
      // A constant gets no gradient work; differentiating through one is refused, not answered wrongly.
      const viaConstant = (p: tf.Tensor, q: tf.Tensor) => tf.sum(checkpointed((x, c) => tf.mul(x, c!), [p], undefined, { constants: [q] }));
      const [onlyInput] = tf.grads((p: tf.Tensor) => viaConstant(p, b))([a]);
      expect(Array.from(onlyInput!.dataSync())).toEqual([5, 6]);
      expect(() => tf.grads(viaConstant)([a, b])).toThrow(/shape/);
      tf.dispose([w, a, b, ga!, gb!, onlyInput!, ...Object.values(grads)]);
    });
  });
}
