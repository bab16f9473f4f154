// MatMulBnb4 for 4-bit Linears: the graph keeps bitsandbytes' packed bytes as they are, expands a
// double-quantised absmax to float32, and onnxruntime-node's CPU kernel gives the product an
// independent float64 dequantise-and-multiply gives (nibble 2j high, code[nibble] · absmax[block]),
// as well as the tfjs 4-bit Linear's forward; block sizes the kernel lacks and foreign code tables are refused.
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { onnx } from 'onnx-proto';
import { Linear, Module } from '@mmft/core/nn';
import { absmaxFloat32, quantize4bit, type QuantType4, type Quantized4bit } from '@mmft/core/quant';
import { BNB4_OPSETS, checkBnb4, useBnb4Linears } from './bnb4';
import { OnnxGraph, writeOnnxModel } from './onnx/graph';
import { linear, useWeights, weightsOf } from './onnx/layers';
import { runOnnx } from './parity';

let dir: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bnb4-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** x·Wᵀ + b in float64 from the stored form alone. */
function reference(q: Quantized4bit, x: Float32Array, rows: number, bias: Float32Array): Float64Array {
  const [n, k] = q.shape as [number, number];
  const scales = absmaxFloat32(q);
  const w = new Float64Array(n * k);
  for (let i = 0; i < n * k; i++) {
    const byte = q.packed[i >> 1]!;
    const nibble = i % 2 === 0 ? byte >> 4 : byte & 0xf;
    w[i] = q.code[nibble]! * scales[Math.floor(i / q.blockSize)]!;
  }
  const y = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < n; o++) {
      let sum = bias[o]!;
      for (let i = 0; i < k; i++) sum += x[r * k + i]! * w[o * k + i]!;
      y[r * n + o] = sum;
    }
  return y;
}

const cases: Array<[QuantType4, number, boolean, number, number]> = [
  ['nf4', 64, false, 64, 24],
  ['fp4', 32, true, 48, 8],
  ['nf4', 256, true, 40, 16],
  ['nf4', 32, false, 5, 3], // 15 weights: an odd count (the last byte holds one code) and one short block
];

describe.each(cases)('a %s Linear with block size %i (double quant %s), K = %i, N = %i', (quantType, blockSize, doubleQuant, k, n) => {
  it('runs as MatMulBnb4 in onnxruntime-node with the stored bytes, equal to float64 and to the tfjs 4-bit Linear', async () => {
    const fc = new Linear(k, n, { seed: 7 });
    fc.param('weight').trainable = false;
    const q = quantize4bit(fc.param('weight').dataSync() as Float32Array, quantType, { blockSize, doubleQuant, shape: [n, k] });
    fc.storeWeight4bit(q);
    const weights = new Map([['fc.weight', q]]);
    const g = new OnnxGraph('bnb4');
    const root = new (class extends Module<[], null> {
      forward(): null {
        return null;
      }
    })();
    root.registerModule('fc', fc);
    useWeights(g, weightsOf(root)); // the bias stays float32 in the state dict; the weight left it
    useBnb4Linears(g, weights);
    const x = g.input('x', 'float32', ['rows', k]);
    g.rename(linear(g, x, 'fc'), 'y');
    g.output('y', 'float32', ['rows', n]);
    const file = path.join(dir, `${quantType}-${blockSize}-${k}.onnx`);
    await writeOnnxModel(g, file, { extraOpsets: { ...BNB4_OPSETS } });

    // The file holds the packed bytes unchanged and plain float32 scales.
    const model = onnx.ModelProto.decode(fs.readFileSync(file));
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toContainEqual(['com.microsoft', 1]);
    const node = model.graph!.node!.find((nd) => nd.opType === 'MatMulBnb4')!;
    expect(node.domain).toBe('com.microsoft');
    const attrs = Object.fromEntries(node.attribute!.map((a) => [a.name, Number(a.i)]));
    expect(attrs).toEqual({ K: k, N: n, block_size: blockSize, quant_type: quantType === 'nf4' ? 1 : 0 });
    const init = (name: string) => model.graph!.initializer!.find((t) => t.name === name)!;
    expect(Array.from(init('fc.weight_Bnb4').rawData!)).toEqual(Array.from(q.packed.subarray(0, Math.ceil((n * k) / 2))));
    expect(init('fc.weight_Bnb4').dims!.map(Number)).toEqual([Math.ceil((n * k) / 2)]);
    expect(init('fc.weight_absmax').dims!.map(Number)).toEqual([Math.ceil((n * k) / blockSize)]);
    expect(model.graph!.initializer!.some((t) => t.name === 'fc.weight')).toBe(false);

    const rows = 3;
    const input = Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i * 0.37) * 1.5);
    const { y } = await runOnnx(file, { x: { float32: input, dims: [rows, k] } });
    const bias = fc.param('bias').dataSync() as Float32Array;
    const expected = reference(q, input, rows, bias);
    const tfjs = tf.tidy(() => fc.forward(tf.tensor2d(input, [rows, k])).dataSync() as Float32Array);
    expect(y!.dims).toEqual([rows, n]);
    let vsRef = 0;
    let vsTfjs = 0;
    y!.data.forEach((v, i) => {
      vsRef = Math.max(vsRef, Math.abs(v - expected[i]!));
      vsTfjs = Math.max(vsTfjs, Math.abs(v - tfjs[i]!));
    });
    expect(vsRef).toBeLessThanOrEqual(1e-5);
    expect(vsTfjs).toBeLessThanOrEqual(1e-5);
    expect(Math.max(...Array.from(expected, Math.abs))).toBeGreaterThan(0.1); // a product worth comparing
    fc.dispose();
  });
});

describe('checkBnb4', () => {
  const q = (blockSize: number) =>
    quantize4bit(
      Float32Array.from({ length: 1024 }, (_, i) => Math.cos(i)),
      'nf4',
      { blockSize, shape: [8, 128] },
    );

  it('refuses block sizes onnxruntime’s CPU kernel lacks, naming the weight and the ones it has', () => {
    expect(() => checkBnb4(q(512), 'model.layers.0.mlp.up_proj.weight')).toThrow(
      "model.layers.0.mlp.up_proj.weight: 4-bit block size 512; onnxruntime's CPU MatMulBnb4 kernel supports 16, 32, 64, 128, 256 only",
    );
    expect(() => checkBnb4(q(256), 'w')).not.toThrow();
  });

  it('refuses a quant_map other than the standard table the kernel has built in', () => {
    const custom = { ...q(64), code: q(64).code.map((v) => v * 0.5) };
    expect(() => checkBnb4(custom, 'w')).toThrow(/w: its quant_map is not bitsandbytes' standard nf4 table/);
  });
});
