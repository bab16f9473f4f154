// model.quantization: frozen Linear weights held in 4 bits with the recipe's settings, the report
// line, the skip list, and the refusals (training with no adapter, nothing to quantise).
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { linears4bit, Linear, Module } from '@mmft/core/nn';
import { dequantize4bit } from '@mmft/core/quant';
import { recordingReporter } from '../fixtures.test-helper';
import { applyQuantization } from './quantization';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

class Tiny extends Module<[tf.Tensor], tf.Tensor> {
  constructor() {
    super();
    this.registerModule('proj', new Linear(64, 8, { seed: 1 }));
    this.registerModule('lm_head', new Linear(8, 5, { seed: 2 }));
    this.registerModule('adapter', new Linear(8, 8, { seed: 3 }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return this.child<Linear>('lm_head').forward(this.child<Linear>('proj').forward(x));
  }
}

function tiny(): Tiny {
  const model = new Tiny();
  model.freeze('**');
  model.child<Linear>('adapter').weight.trainable = true; // as a PEFT adapter: trains, stays float32
  return model;
}

const run = { hasAdapter: true, evalOnly: false };

describe('applyQuantization (model.quantization)', () => {
  test('frozen Linears but lm_head go to NF4 with double quantisation; the forward reads the dequantised weight', () => {
    const model = tiny();
    const reporter = recordingReporter();
    const before = model.child<Linear>('proj').weight.dataSync().slice();
    const result = applyQuantization(model, { load_in_4bit: true }, { reporter }, 'Tiny', run)!;
    expect(result.quantized).toBe(1);
    expect(result.skipped).toEqual(['lm_head']);
    expect([...linears4bit(model).keys()]).toEqual(['proj.weight']);
    // 64·8·4 bytes of float32 less ⌈512/2⌉ packed bytes and 8 absmax floats held for the kernels.
    expect(reporter.lines).toContain(
      'quantization nf4, double quant, block 64: 1 frozen Linear weights held in 4 bits, 1.7 KiB freed; float32: lm_head',
    );
    const q = model.child<Linear>('proj').quantizedWeight!;
    expect(q.quantType).toBe('nf4');
    expect(q.nested).toBeDefined();
    const w = dequantize4bit(q);
    // Every value is within half of NF4's widest code gap (0.3039, between −1 and −0.6962) times the
    // block's absmax, itself at most the init bound 1/√64 (double quantisation moves absmax by < 1 %).
    for (let i = 0; i < w.length; i++) expect(Math.abs(w[i]! - before[i]!)).toBeLessThan((0.3039 / 2) * 0.125 * 1.01);
    const x = tf.randomNormal([2, 64], 0, 1, 'float32', 4);
    const y = model.child<Linear>('proj').forward(x);
    const expected = tf.add(tf.matMul(x, tf.tensor2d(w, [8, 64]), false, true), model.child<Linear>('proj').bias!);
    expect(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, y, expected]);
    model.dispose();
  });

  test('fp4 without double quantisation, block 128, lm_head quantised when the skip list leaves it out', () => {
    const model = tiny();
    const reporter = recordingReporter();
    const config = { load_in_4bit: true, quant_type: 'fp4', double_quant: false, block_size: 128, skip_modules: ['adapter'] };
    const result = applyQuantization(model, config, { reporter }, 'Tiny', run)!;
    expect(result.quantized).toBe(2);
    const q = model.child<Linear>('lm_head').quantizedWeight!;
    expect({ type: q.quantType, block: q.blockSize, nested: q.nested }).toEqual({ type: 'fp4', block: 128, nested: undefined });
    expect(reporter.lines[0]).toMatch(/^quantization fp4, block 128: 2 frozen Linear weights held in 4 bits/);
    model.dispose();
  });

  test('absent: nothing happens; training with no adapter and nothing to quantise are refused', () => {
    const model = tiny();
    const reporter = recordingReporter();
    expect(applyQuantization(model, undefined, { reporter }, 'Tiny', run)).toBeUndefined();
    expect(() => applyQuantization(model, { load_in_4bit: true }, { reporter }, 'Tiny', { hasAdapter: false, evalOnly: false })).toThrow(
      /model\.quantization: Tiny would train with its Linear weights frozen in 4 bits and no adapter/,
    );
    expect(() => applyQuantization(model, { load_in_4bit: true, skip_modules: ['proj', 'lm_head'] }, { reporter }, 'Tiny', run)).toThrow(
      /model\.quantization: Tiny has no frozen Linear weight to hold in 4 bits/,
    );
    expect(() => applyQuantization(model, { load_in_4bit: true, block_size: 48 }, { reporter }, 'Tiny', run)).toThrow(/block_size/);
    model.dispose();
  });
});
