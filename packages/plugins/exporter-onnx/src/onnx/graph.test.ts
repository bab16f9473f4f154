// Tiny graphs from the builder, run in onnxruntime-node (CPU) and compared with values computed by
// hand (or by the closed-form formula in plain JS numbers).
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { OnnxGraph, writeOnnxModel } from './graph';
import { gelu, geluTanh, layerNorm, linear, quickGelu, relu, rmsNorm, silu, useWeights, type Weight } from './layers';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mmft-onnx-graph-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const weights =
  (table: Record<string, Weight>) =>
  (name: string): Weight => {
    const w = table[name];
    if (!w) throw new Error(`no weight ${name}`);
    return w;
  };

async function run(g: OnnxGraph, file: string, feeds: Record<string, ort.Tensor>, options = {}): Promise<Record<string, ort.Tensor>> {
  const target = path.join(dir, file);
  await writeOnnxModel(g, target, options);
  const session = await ort.InferenceSession.create(target, { executionProviders: ['cpu'] });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const values = (t: ort.Tensor | undefined): number[] => [...(t!.data as Float32Array)];

/** One-input float graph [n] → [n] through `emit`. */
async function unary(emit: (g: OnnxGraph, x: string) => string, xs: number[], file: string): Promise<number[]> {
  const g = new OnnxGraph(file);
  const x = g.input('x', 'float32', ['n']);
  const y = emit(g, x);
  g.rename(y, 'y');
  g.output('y', 'float32', ['n']);
  const out = await run(g, file, { x: new ort.Tensor('float32', Float32Array.from(xs), [xs.length]) });
  return values(out.y);
}

describe('OnnxGraph + writeOnnxModel in onnxruntime-node', () => {
  it('linear: MatMul with the [out, in] weight transposed, then Add bias, over a symbolic batch', async () => {
    const g = new OnnxGraph('linear');
    // HF layout [out=2, in=3]: rows are output features.
    useWeights(
      g,
      weights({
        'fc.weight': { data: new Float32Array([1, 2, 3, -1, 0, 1]), dims: [2, 3] },
        'fc.bias': { data: new Float32Array([0.5, -2]), dims: [2] },
      }),
    );
    const x = g.input('x', 'float32', ['batch_size', 3]);
    g.rename(linear(g, x, 'fc'), 'y');
    g.output('y', 'float32', ['batch_size', 2]);
    const out = await run(g, 'linear.onnx', { x: new ort.Tensor('float32', new Float32Array([1, 1, 1, 2, 0, -1]), [2, 3]) });
    // [1,1,1]: 1+2+3+0.5 = 6.5, -1+0+1-2 = -2 ; [2,0,-1]: 2-3+0.5 = -0.5, -2-1-2 = -5
    expect(out.y!.dims).toEqual([2, 2]);
    expect(values(out.y)).toEqual([6.5, -2, -0.5, -5]);
  });

  it('linear without bias and with a weight already [in, out] (GPT-2 Conv1D)', async () => {
    const g = new OnnxGraph('conv1d');
    useWeights(g, weights({ 'c.weight': { data: new Float32Array([1, 2, 3, 4]), dims: [2, 2] } }));
    const x = g.input('x', 'float32', [1, 2]);
    g.rename(linear(g, x, 'c', { bias: false, transposeWeight: false }), 'y');
    g.output('y', 'float32', [1, 2]);
    const out = await run(g, 'conv1d.onnx', { x: new ort.Tensor('float32', new Float32Array([1, 10]), [1, 2]) });
    // [1, 10] @ [[1, 2], [3, 4]] = [31, 42]
    expect(values(out.y)).toEqual([31, 42]);
  });

  it('layerNorm: LayerNormalization with weight and bias, epsilon as a FLOAT attribute', async () => {
    const g = new OnnxGraph('ln');
    useWeights(
      g,
      weights({
        'ln.weight': { data: new Float32Array([1, 1, 2, 2]), dims: [4] },
        'ln.bias': { data: new Float32Array([0, 1, 0, 1]), dims: [4] },
      }),
    );
    const x = g.input('x', 'float32', [1, 4]);
    g.rename(layerNorm(g, x, 'ln', 1e-5), 'y');
    g.output('y', 'float32', [1, 4]);
    const out = await run(g, 'ln.onnx', { x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) });
    // mean 2.5, variance 1.25: (x - 2.5)/sqrt(1.25 + 1e-5)
    const s = Math.sqrt(1.25 + 1e-5);
    const expected = [(-1.5 / s) * 1, (-0.5 / s) * 1 + 1, (0.5 / s) * 2, (1.5 / s) * 2 + 1];
    values(out.y).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('rmsNorm decomposed: x / sqrt(mean(x²) + eps) · weight', async () => {
    const g = new OnnxGraph('rms');
    useWeights(g, weights({ 'norm.weight': { data: new Float32Array([2, 0.5]), dims: [2] } }));
    const x = g.input('x', 'float32', [2, 2]);
    g.rename(rmsNorm(g, x, 'norm', 1e-6), 'y');
    g.output('y', 'float32', [2, 2]);
    const out = await run(g, 'rms.onnx', { x: new ort.Tensor('float32', new Float32Array([3, 4, 1, -1]), [2, 2]) });
    // row 1: mean(9, 16) = 12.5; row 2: mean(1, 1) = 1
    const r1 = Math.sqrt(12.5 + 1e-6);
    const r2 = Math.sqrt(1 + 1e-6);
    const expected = [(3 / r1) * 2, (4 / r1) * 0.5, (1 / r2) * 2, (-1 / r2) * 0.5];
    values(out.y).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('quick_gelu = x·sigmoid(1.702x)', async () => {
    const xs = [-2, -1, 0, 0.5, 1, 3];
    const got = await unary(quickGelu, xs, 'quick_gelu.onnx');
    xs.forEach((x, i) => expect(got[i]).toBeCloseTo(x / (1 + Math.exp(-1.702 * x)), 6));
  });

  it('exact GELU via Erf matches the table values of x·Φ(x)', async () => {
    // Φ(1) = 0.8413447460685429, Φ(-1) = 0.15865525393145707, Φ(2) = 0.9772498680518208
    const got = await unary(gelu, [-1, 0, 1, 2], 'gelu.onnx');
    const expected = [-0.15865525393145707, 0, 0.8413447460685429, 2 * 0.9772498680518208];
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 6));
  });

  it('tanh GELU, SiLU and ReLU', async () => {
    const xs = [-3, -0.5, 0, 0.7, 2];
    const tanhForm = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
    (await unary(geluTanh, xs, 'gelu_tanh.onnx')).forEach((v, i) => expect(v).toBeCloseTo(tanhForm(xs[i]!), 6));
    (await unary(silu, xs, 'silu.onnx')).forEach((v, i) => expect(v).toBeCloseTo(xs[i]! / (1 + Math.exp(-xs[i]!)), 6));
    expect(await unary(relu, xs, 'relu.onnx')).toEqual([0, 0, 0, Math.fround(0.7), 2]);
  });

  it('writes ir_version 8 and opset 17 by default, extra domains on request', async () => {
    const g = new OnnxGraph('meta');
    const x = g.input('x', 'float32', [1]);
    g.rename(g.op1('Neg', [x]), 'y');
    g.output('y', 'float32', [1]);
    const file = path.join(dir, 'meta.onnx');
    const { files, bytes } = await writeOnnxModel(g, file, { extraOpsets: { 'com.microsoft': 1 }, metadata: { source: 'test' } });
    expect(files).toEqual([file]);
    const buf = await fs.readFile(file);
    expect(bytes).toBe(buf.byteLength);
    const model = onnx.ModelProto.decode(buf);
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 17],
      ['com.microsoft', 1],
    ]);
    expect(model.graph!.node!.map((n) => n.opType)).toEqual(['Neg']);
    expect(model.metadataProps.map((p) => [p.key, p.value])).toEqual([['source', 'test']]);
  });

  it('a graph using a custom domain without its opset version is refused', async () => {
    const g = new OnnxGraph('ms');
    const x = g.input('x', 'float32', [1]);
    g.output(g.op1('QuickGelu', [x], { alpha: 1.702 }, { domain: 'com.microsoft' }), 'float32', [1]);
    await expect(writeOnnxModel(g, path.join(dir, 'ms.onnx'))).rejects.toThrow(/com\.microsoft.*extraOpsets/);
  });

  it('external data: weights over a tiny threshold go to <file>_data at 4096-aligned offsets and load by path', async () => {
    const g = new OnnxGraph('ext');
    const a = new Float32Array(300).map((_, i) => i / 100); // 1200 bytes
    const b = new Float32Array(300).map((_, i) => (i % 7) - 3);
    const x = g.input('x', 'float32', [300]);
    const wa = g.initializer('w.a', { dtype: 'float32', dims: [300], data: a });
    const wb = g.initializer('w.b', { dtype: 'float32', dims: [300], data: b });
    const small = g.constant({ dtype: 'float32', dims: [1], data: new Float32Array([2]) }, 'two');
    const y = g.op1('Mul', [g.op1('Add', [g.op1('Mul', [x, wa]), wb]), small]);
    g.rename(y, 'y');
    g.output('y', 'float32', [300]);
    const file = path.join(dir, 'ext', 'model.onnx');
    const { files } = await writeOnnxModel(g, file, { externalDataThreshold: 100, externalDataMinBytes: 1000 });
    expect(files).toEqual([file, `${file}_data`]);
    const model = onnx.ModelProto.decode(await fs.readFile(file));
    const ext = Object.fromEntries(
      model.graph!.initializer!.map((t) => [t.name, Object.fromEntries((t.externalData ?? []).map((e) => [e.key, e.value]))]),
    );
    expect(ext['w.a']).toEqual({ location: 'model.onnx_data', offset: '0', length: '1200' });
    expect(ext['w.b']).toEqual({ location: 'model.onnx_data', offset: '4096', length: '1200' });
    expect(Object.keys(ext['/two']!)).toEqual([]); // 4 bytes: stays inline
    expect((await fs.stat(`${file}_data`)).size).toBe(4096 + 1200);
    const session = await ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
    const xs = new Float32Array(300).fill(1);
    const out = await session.run({ x: new ort.Tensor('float32', xs, [300]) });
    await session.release();
    values(out.y).forEach((v, i) => expect(v).toBeCloseTo((a[i]! + b[i]!) * 2, 5));
  });

  it('int64 constants and multi-output nodes (Split) keep their values', async () => {
    const g = new OnnxGraph('split');
    const x = g.input('x', 'float32', [4]);
    const sizes = g.constant({ dtype: 'int64', dims: [2], data: new BigInt64Array([1n, 3n]) }, 'sizes');
    const [head, tail] = g.op('Split', [x, sizes], { axis: 0 }, { outputs: 2 }) as [string, string];
    g.rename(head, 'head');
    g.rename(tail, 'tail');
    g.output('head', 'float32', [1]);
    g.output('tail', 'float32', [3]);
    const out = await run(g, 'split.onnx', { x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [4]) });
    expect(values(out.head)).toEqual([1]);
    expect(values(out.tail)).toEqual([2, 3, 4]);
  });

  it('refuses references to undefined values, duplicate names and data that does not fit its dims', () => {
    const g = new OnnxGraph('bad');
    g.input('x', 'float32', [1]);
    expect(() => g.op1('Neg', ['nope'])).toThrow(/reads nope/);
    expect(() => g.input('x', 'float32', [1])).toThrow(/already taken/);
    expect(() => g.initializer('w', { dtype: 'float32', dims: [3], data: new Float32Array(2) })).toThrow(
      /does not hold a float32 tensor of dims \[3\]/,
    );
    expect(() => g.output('missing', 'float32', [1])).toThrow(/not a value/);
    expect(g.op1('Neg', ['x'])).not.toBe('');
  });
});
