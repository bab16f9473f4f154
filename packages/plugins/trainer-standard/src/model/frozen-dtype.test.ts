// train.frozen_dtype through the loop on the tiny dual encoder: frozen Linear weights are held in
// bf16 while the rest trains, a full save writes them as float32 with exactly the rounded values,
// and a recipe that freezes no Linear weight is told so.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunContext } from '@mmft/core';
import { bf16BitsToFloat, fp16BitsToFloat, Linear, registerGradients, roundToBf16Bits, roundToFp16Bits } from '@mmft/core/nn';
import { recordingReporter, registry } from '../fixtures.test-helper';
import { runTraining, trainConfigSchema } from '../index';
import { withFloat32Weights, withWeights16 } from './frozen-dtype';

beforeAll(async () => {
  await tf.setBackend('cpu');
  registerGradients();
});

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-frozen-dtype-'));

function context(outputDir: string): RunContext & { reporter: ReturnType<typeof recordingReporter> } {
  return {
    recipe: {
      name: 'tiny',
      seed: 7,
      model: { type: 'tiny-dual', config: { seed: 3 } },
      data: { train: { type: 'memory', name: 'train' } },
      loss: { type: 'test-infonce' },
      metrics: [],
    },
    baseDir: outputDir,
    outputDir,
    resolver: registry(),
    reporter: recordingReporter(),
  };
}

const savedWeights = (dir: string): Record<string, number[]> =>
  (JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint-last', 'model', 'weights.json'), 'utf8')) as { weights: Record<string, number[]> })
    .weights;

describe('train.frozen_dtype', () => {
  test('lock-image + bf16: the frozen vision weights are saved as the bf16 rounding of the f32 run’s', async () => {
    const config = { batch_size: 4, max_steps: 2, strategy: 'lock-image', lr: 1e-2 } as const;
    const plain = tmp();
    const plainCtx = context(plain);
    await runTraining(trainConfigSchema.parse(config), plainCtx);
    const halved = tmp();
    const ctx = context(halved);
    await runTraining(trainConfigSchema.parse({ ...config, frozen_dtype: 'bf16' }), ctx);
    // vision_model 16×48 and visual_projection 8×16 weights: 2 bytes freed per value, 1792 in all.
    expect(ctx.reporter.lines).toContain('frozen_dtype bf16: 2 frozen Linear weights held in 16 bits, 1.8 KiB freed');
    // The summary counts the packed weights among all parameters.
    const counted = (lines: string[]) => lines.find((l) => l.includes('all params'));
    expect(counted(ctx.reporter.lines)).toBeDefined();
    expect(counted(ctx.reporter.lines)).toBe(counted(plainCtx.reporter.lines));
    const [a, b] = [savedWeights(plain), savedWeights(halved)];
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const name of ['vision_model.weight', 'visual_projection.weight']) {
      expect(b[name]!.length).toBe(a[name]!.length);
      expect(b[name]).toEqual(a[name]!.map((v) => bf16BitsToFloat(roundToBf16Bits(v))));
      expect(b[name]).not.toEqual(a[name]); // the rounding did something
    }
    // The bias is no Linear weight: float32, untouched and frozen.
    expect(b['vision_model.bias']).toEqual(a['vision_model.bias']);
    const losses = fs
      .readFileSync(path.join(halved, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; loss: number })
      .filter((e) => e.kind === 'train');
    expect(losses.length).toBe(2);
    for (const { loss } of losses) expect(Number.isFinite(loss)).toBe(true);
  });

  test('a 16-bit dtype with no frozen Linear weight is an error that says why', async () => {
    await expect(
      runTraining(trainConfigSchema.parse({ batch_size: 4, max_steps: 1, frozen_dtype: 'fp16' }), context(tmp())),
    ).rejects.toThrow(/train\.frozen_dtype fp16: TinyDual has no frozen Linear weight to hold in 16 bits/);
  });

  test('the schema refuses other dtypes and defaults to f32', () => {
    expect(trainConfigSchema.parse({}).frozen_dtype).toBe('f32');
    expect(() => trainConfigSchema.parse({ frozen_dtype: 'float16' })).toThrow();
  });
});

describe('withFloat32Weights', () => {
  test('decodes for the body and holds the same bits again afterwards', async () => {
    const fc = new Linear(3, 2, { seed: 1 });
    fc.weight.trainable = false;
    const rounded = (fc.weight.arraySync() as number[][]).map((r) => r.map((v) => fp16BitsToFloat(roundToFp16Bits(v))));
    fc.storeWeight16('fp16');
    const bits = Array.from(fc.packedWeight!.bits.dataSync());
    const seen = await withFloat32Weights(fc, async () => fc.weight.arraySync());
    expect(seen).toEqual(rounded);
    expect(fc.packedWeight?.format).toBe('fp16');
    expect(Array.from(fc.packedWeight!.bits.dataSync())).toEqual(bits);
    await expect(withFloat32Weights(fc, () => Promise.reject(new Error('save failed')))).rejects.toThrow('save failed');
    expect(fc.packedWeight?.format).toBe('fp16');
    // The 6 packed values still count as the model's; the bias's 2 are in the state dict already.
    expect(withWeights16({ trainable: 2, total: 2 }, fc)).toEqual({ trainable: 2, total: 8 });
    fc.dispose();
  });
});
