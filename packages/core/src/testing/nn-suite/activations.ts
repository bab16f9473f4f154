// Core's activation functions (HF ACT2FN names) against their closed forms, run by core on cpu
// and by backend plugins with their fused kernels installed (index.ts).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test } from '@jest/globals';
import { isMmftError } from '../../errors';
import { ACTIVATIONS, geluNew, geluTanh, getActivation } from '../../nn/activations';

const xs = [-3, -1, -0.5, 0, 0.5, 1, 3];
const at = (name: string) => Array.from(getActivation(name)(tf.tensor1d(xs)).dataSync());
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** Registers core's activations tests; the caller has selected the backend. */
export function activationsSuite(): void {
  describe('activations', () => {
    test('gelu is the exact erf form (torch.nn.functional.gelu default)', () => {
      // Φ(x) values from the normal CDF: gelu(1) = 0.841344746..., gelu(-1) = -0.158655253...
      const expected = [-0.0040496, -0.15865525, -0.15426877, 0, 0.34573123, 0.84134475, 2.99595031];
      at('gelu').forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
      expect(at('gelu_python')).toEqual(at('gelu'));
    });

    test('gelu_new / gelu_pytorch_tanh use the tanh approximation', () => {
      const tanhGelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
      for (const name of ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'])
        at(name).forEach((v, i) => expect(v).toBeCloseTo(tanhGelu(xs[i]), 5));
      expect(at('gelu_new')[5]).toBeCloseTo(0.841192, 6); // differs from exact gelu in the 4th digit
      expect(geluNew).toBe(geluTanh);
      expect(ACTIVATIONS['gelu_new']).toBe(geluNew);
    });

    test('quick_gelu, relu, silu', () => {
      at('quick_gelu').forEach((v, i) => expect(v).toBeCloseTo(xs[i] * sigmoid(1.702 * xs[i]), 6));
      expect(at('relu')).toEqual(xs.map((v) => Math.max(0, v)));
      at('silu').forEach((v, i) => expect(v).toBeCloseTo(xs[i] * sigmoid(xs[i]), 6));
      expect(at('swish')).toEqual(at('silu'));
    });

    test('an unknown hidden_act lists the known names', () => {
      try {
        getActivation('gelu_10x');
        throw new Error('expected an error');
      } catch (e) {
        expect(isMmftError(e) && e.code).toBe('E_CONFIG');
        expect((e as Error).message).toContain('known: gelu, gelu_python, gelu_new');
      }
      expect(Object.isFrozen(ACTIVATIONS)).toBe(true);
      expect(() => getActivation('toString')).toThrow(/unknown activation/);
    });

    test('leave no intermediate tensors behind', () => {
      const x = tf.tensor1d(xs);
      for (const fn of Object.values(ACTIVATIONS)) {
        const before = tf.memory().numTensors;
        const y = fn(x);
        expect(tf.memory().numTensors).toBe(before + (y === x ? 0 : 1));
        if (y !== x) y.dispose();
      }
    });
  });
}
