import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, test } from '@jest/globals';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Conv2d } from '../nn/conv2d';
import { LayerNorm } from '../nn/layer-norm';
import { Linear } from '../nn/linear';
import { Module } from '../nn/module';
import { quantizeLinears4bit } from '../nn/quant4';
import { loadTensorsIntoModule, tensorsFromModule } from './module-tensors';
import { readSafetensors } from './safetensors';
import { serializeSafetensors, writeSafetensors } from './safetensors-write';
import { parseSafetensors } from './safetensors';

beforeAll(async () => {
  tf.env().set('IS_TEST', true); // tfjs's own test mode: checks every kernel for leaks, no console banner
  await tf.setBackend('cpu');
});

class Tower extends Module<[], null> {
  constructor(seed: number) {
    super();
    this.registerModule('patch_embedding', new Conv2d(3, 4, 2, { stride: 2, bias: false, seed }));
    this.registerModule('pre_layrnorm', new LayerNorm(4));
    this.registerModule('proj', new Linear(4, 2, { seed: seed + 10 }));
  }
  forward(): null {
    return null;
  }
}

const values = (m: Module) => [...m.stateDict()].map(([name, v]) => [name, Array.from(v.dataSync())]);

describe('module ↔ safetensors', () => {
  test('save → file → load is bit-exact across differently seeded models', async () => {
    const source = new Tower(1);
    const target = new Tower(2);
    expect(values(target)).not.toEqual(values(source));
    const dir = await mkdtemp(join(tmpdir(), 'mmft-mod-'));
    const path = join(dir, 'model.safetensors');
    await writeSafetensors(path, await tensorsFromModule(source), { format: 'pt' });
    const { tensors } = await readSafetensors(path);
    expect([...tensors.values()].every((t) => t.dtype === 'F32')).toBe(true);
    const before = tf.memory().numTensors;
    expect(loadTensorsIntoModule(target, tensors)).toEqual({ missing: [], unexpected: [] });
    expect(tf.memory().numTensors).toBe(before);
    expect(values(target)).toEqual(values(source));
    source.dispose();
    target.dispose();
  });

  test('F16 / BF16 / F64 / integer checkpoints load into float32 variables', () => {
    const fc = new Linear(2, 2);
    const bytes = serializeSafetensors({
      weight: { dtype: 'BF16', shape: [2, 2], data: [1, -2.5, 0.5, 3] },
      bias: { dtype: 'I64', shape: [2], data: [4, -5] },
    });
    loadTensorsIntoModule(fc, parseSafetensors(bytes).tensors);
    expect(fc.weight.arraySync()).toEqual([
      [1, -2.5],
      [0.5, 3],
    ]);
    expect(fc.bias!.dtype).toBe('float32');
    expect(fc.bias!.arraySync()).toEqual([4, -5]);
    loadTensorsIntoModule(
      fc,
      parseSafetensors(serializeSafetensors({ weight: { dtype: 'F64', shape: [2, 2], data: [1, 2, 3, 4] } })).tensors,
      { strict: false },
    );
    expect(fc.weight.arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    fc.dispose();
  });

  test('strictness and shape checks as Module.loadStateDict; unused tensors are never materialised', () => {
    const fc = new Linear(2, 2);
    const extra = parseSafetensors(
      serializeSafetensors({
        weight: { dtype: 'F32', shape: [2, 2], data: [1, 2, 3, 4] },
        'text_model.big': { dtype: 'F32', shape: [64, 64], data: new Float32Array(4096) },
      }),
    ).tensors;
    expect(() => loadTensorsIntoModule(fc, extra)).toThrow(/missing \(1\): bias[\s\S]*unexpected \(1\): text_model\.big/);
    const before = tf.memory().numTensors;
    expect(loadTensorsIntoModule(fc, extra, { strict: false })).toEqual({ missing: ['bias'], unexpected: ['text_model.big'] });
    expect(tf.memory().numTensors).toBe(before);
    const wrong = parseSafetensors(serializeSafetensors({ weight: { dtype: 'F32', shape: [4], data: [1, 2, 3, 4] } })).tensors;
    expect(() => loadTensorsIntoModule(fc, wrong, { strict: false })).toThrow(/weight: expected \[2, 2\], got \[4\]/);
    fc.dispose();
  });
});

describe('tensorsFromModule with 4-bit Linear weights', () => {
  test('refuses to drop them silently; a caller that writes them itself gets the float32 rest', async () => {
    const fc = new Linear(64, 2, { seed: 5 });
    fc.weight.trainable = false;
    quantizeLinears4bit(fc, { skipModules: [] });
    await expect(tensorsFromModule(fc)).rejects.toThrow(
      /1 Linear weight\(s\) are held in 4 bits \(weight\); this save writes float32 weights only/,
    );
    const rest = await tensorsFromModule(fc, { quantizedWrittenByCaller: true });
    expect([...rest.keys()]).toEqual(['bias']);
    fc.dispose();
  });
});
