// The test every architecture runs for gradient checkpointing (packages/core/src/nn/checkpoint.ts):
// a model gives bit-equal losses and gradients run plainly and checkpointed, over two training
// steps (so dropout masks are replayed and stay in step), and a checkpointed model really
// recomputes (it runs more kernels). The caller has selected the backend.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { setGradientCheckpointing, type GradientCheckpointing } from '../nn/checkpoint';
import { Dropout } from '../nn/dropout';
import { registerGradients } from '../nn/gradients';
import type { AnyModule } from '../nn/module';

/** What `describeGradientCheckpointing` needs from an architecture's test. */
export interface GradientCheckpointingSubject<M> {
  /** A fresh model in training mode (give it dropout so that the replay is tested). */
  build: () => M | Promise<M>;
  /** The module tree of a model that is not itself a Module (default: the model). */
  rootOf?: (model: M) => AnyModule;
  /** A scalar loss of one forward pass on the test's inputs. */
  loss: (model: M) => tf.Tensor;
  /** How many block stacks `setGradientCheckpointing` must find under the model. */
  stacks: number;
  /** The setting under test (default true: every block). */
  setting?: GradientCheckpointing;
  /**
   * Parameters whose gradients may differ by rounding, and why: a tensor read by several
   * checkpointed blocks (BLIP-2's image features, read by every cross-attention layer) gets its
   * gradient summed per block first, an order of additions the plain backward does not use.
   */
  rounding?: { params: RegExp; relative: number; why: string };
  /** Parameters to freeze (globs) before the comparison, e.g. to train only an adapter. */
  freeze?: string;
}

function gradientsOf<M>(model: M, root: AnyModule, loss: (model: M) => tf.Tensor): { loss: number; grads: Map<string, Float32Array> } {
  const byVariable = new Map(root.namedParameters().map(([name, v]) => [v.name, name]));
  const { value, grads } = tf.variableGrads(() => loss(model) as tf.Scalar, root.trainableParameters());
  const out = new Map<string, Float32Array>();
  for (const [name, g] of Object.entries(grads)) out.set(byVariable.get(name) ?? name, g.dataSync() as Float32Array);
  const lossValue = value.dataSync()[0]!;
  tf.dispose([value, ...Object.values(grads)]);
  return { loss: lossValue, grads: out };
}

/**
 * Registers the checkpointing tests of one architecture.
 *
 * @example
 * describeGradientCheckpointing('llama', { build: () => tinyLlama().train(), loss: (m) => lmLoss(m, ids), stacks: 1 });
 */
export function describeGradientCheckpointing<M>(name: string, subject: GradientCheckpointingSubject<M>): void {
  describe(`${name}: gradient checkpointing`, () => {
    beforeAll(() => {
      expect(registerGradients()).toBe(true);
    });

    const rootOf = (m: M): AnyModule => (subject.rootOf ? subject.rootOf(m) : (m as unknown as AnyModule));
    const build = async (): Promise<M> => {
      const model = await subject.build();
      if (subject.freeze) rootOf(model).freeze(subject.freeze);
      return model;
    };
    const dropouts = (m: M): Dropout[] =>
      rootOf(m)
        .namedModules()
        .flatMap(([, d]) => (d instanceof Dropout ? [d] : []));

    test('losses and gradients are bit-equal to the plain backward over two steps', async () => {
      // One model, each step run plainly and then checkpointed from the same dropout counts, so
      // that unseeded dropouts (whose masks differ between instances) draw the same masks too.
      const model = await build();
      const root = rootOf(model);
      for (let step = 0; step < 2; step++) {
        const counts = dropouts(model).map((d) => d.drawnMasks);
        expect(setGradientCheckpointing(root, false)).toBe(subject.stacks);
        const a = gradientsOf(model, root, subject.loss);
        const afterPlain = dropouts(model).map((d) => d.drawnMasks);
        dropouts(model).forEach((d, i) => (d.drawnMasks = counts[i]!));
        setGradientCheckpointing(root, subject.setting ?? true);
        const b = gradientsOf(model, root, subject.loss);
        expect(dropouts(model).map((d) => d.drawnMasks)).toEqual(afterPlain);
        expect(b.loss).toBe(a.loss);
        expect([...b.grads.keys()].sort()).toEqual([...a.grads.keys()].sort());
        expect(a.grads.size).toBeGreaterThan(0);
        for (const [param, grad] of a.grads) {
          const other = b.grads.get(param)!;
          if (subject.rounding?.params.test(param)) {
            const scale = grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
            const worst = grad.reduce((m, v, i) => Math.max(m, Math.abs(v - other[i]!)), 0);
            expect({ param, within: worst <= subject.rounding.relative * scale }).toEqual({ param, within: true });
          } else {
            expect([param, other]).toEqual([param, grad]);
          }
        }
      }
      root.dispose();
    });

    test('the checkpointed backward recomputes blocks (more kernels) and leaks no tensor', async () => {
      const [plain, checkpointed] = [await build(), await build()];
      expect(setGradientCheckpointing(rootOf(checkpointed), subject.setting ?? true)).toBe(subject.stacks);
      const kernels = async (model: M): Promise<number> => {
        const info = await tf.profile(() => {
          const { value, grads } = tf.variableGrads(() => subject.loss(model) as tf.Scalar, rootOf(model).trainableParameters());
          tf.dispose([value, ...Object.values(grads)]);
        });
        return info.kernels.length;
      };
      gradientsOf(checkpointed, rootOf(checkpointed), subject.loss); // creates whatever a first call creates lazily
      const before = tf.memory().numTensors;
      const withCheckpoints = await kernels(checkpointed);
      expect(tf.memory().numTensors).toBe(before);
      expect(withCheckpoints).toBeGreaterThan(await kernels(plain));
      rootOf(plain).dispose();
      rootOf(checkpointed).dispose();
    });
  });
}
