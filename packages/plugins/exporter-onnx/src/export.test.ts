// exportOnnx's guards: unmerged adapters and model types without an exporter are refused with a
// message that says what to do; 16-bit Linear weights come back to float32 before export.
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import type { VisionLanguageModel } from '@mmft/core';
import { Linear, Module, quantizeLinears4bit } from '@mmft/core/nn';
import { exportOnnx, prepareForExport } from './export';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

class Block extends Module<[tf.Tensor], tf.Tensor> {
  constructor(adapter: boolean) {
    super();
    this.registerModule('fc', new Linear(16, 4, { seed: 1 }));
    if (adapter) this.registerModule('lora_A', new Linear(16, 2, { bias: false, seed: 2 }));
  }
  forward(x: tf.Tensor): tf.Tensor {
    return x;
  }
}

const fake = (root: Module, modelType = 'clip') => ({ modelType, root, config: {} }) as unknown as VisionLanguageModel;

describe('prepareForExport', () => {
  it('refuses a model that still holds adapter weights, naming them and how to merge', () => {
    expect(() => prepareForExport(fake(new Block(true)))).toThrow(
      /still holds adapter weights \(lora_A\.weight\); ONNX export writes merged weights only/,
    );
  });

  it('brings a 16-bit frozen Linear weight back to float32 (bf16-rounded values)', () => {
    const root = new Block(false);
    const fc = root.child<Linear>('fc');
    const before = Array.from(fc.weight.dataSync());
    fc.weight.trainable = false;
    fc.storeWeight16('bf16');
    expect(root.stateDict().has('fc.weight')).toBe(false);
    expect(prepareForExport(fake(root))).toBe(1);
    const after = Array.from(root.stateDict().get('fc.weight')!.dataSync());
    after.forEach((v, i) => expect(Math.abs(v - before[i]!)).toBeLessThanOrEqual(Math.abs(before[i]!) * 2 ** -8));
    expect(prepareForExport(fake(root))).toBe(0);
  });

  it('dequantises a 4-bit (NF4) Linear to float32 within one NF4 step of the original', () => {
    const root = new Block(false);
    const fc = root.child<Linear>('fc');
    const before = Float32Array.from(fc.weight.dataSync());
    fc.weight.trainable = false;
    expect(quantizeLinears4bit(root, { quantType: 'nf4', blockSize: 64, doubleQuant: false }).quantized).toBe(1);
    expect(root.stateDict().has('fc.weight')).toBe(false);
    expect(prepareForExport(fake(root))).toBe(1);
    const after = root.stateDict().get('fc.weight')!;
    expect(after.shape).toEqual([4, 16]);
    // One block of 64: NF4's widest gap between levels is about 0.28 of absmax, so rounding moves a value by at most ~0.14·absmax.
    const absmax = Math.max(...before.map(Math.abs));
    const worst = Math.max(...Array.from(after.dataSync(), (v, i) => Math.abs(v - before[i]!)));
    expect(worst).toBeLessThanOrEqual(0.15 * absmax);
    expect(worst).toBeGreaterThan(0); // it really went through 4 bits
  });
});

describe('exportOnnx', () => {
  it('names what it supports for other model types', async () => {
    await expect(exportOnnx(fake(new Block(false), 'siglip'), '/nonexistent/out')).rejects.toMatchObject({
      code: 'E_UNSUPPORTED',
      message: 'ONNX export does not handle model_type "siglip" yet; it handles clip, llama, opt, gpt2, llava, blip-2',
    });
  });
});
