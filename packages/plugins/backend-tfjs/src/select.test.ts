// Probing and selection: which engine is taken, why, and how misuse fails.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, test } from '@jest/globals';
import * as tf from '@tensorflow/tfjs-core';
import { isMmftError, PluginRegistry } from '@mmft/core';
import plugin, { resetBackendSelection, selectBackend, tfjsBackend, tfjsBackendConfigSchema } from './index';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import {
  AdamWUpdate,
  Attention,
  AttentionGrad,
  CrossEntropy,
  CrossEntropyGrad,
  Dequantize4bit,
  Gelu,
  GeluGrad,
  LayerNorm,
  LayerNormGrad,
  Linear,
  LinearGradInput,
  LinearGradWeight,
  LinearNoBias,
  MaskedSoftmax,
  MaskedSoftmaxGrad,
  MatMul4bit,
  MatMulPacked16,
  QuickGelu,
  QuickGeluGrad,
  Softmax,
  SoftmaxGrad,
  SumOfSquares,
} from '@mmft/core/kernels';

// The wasm overrides: the native-only fused kernels join where the addon is built here.
const WASM_OVERRIDES = [
  tf.BatchMatMul,
  tf.Sum,
  tf.Identity,
  tf.Cast,
  tf.GatherV2,
  tf.UnsortedSegmentSum,
  LayerNorm,
  LayerNormGrad,
  AdamWUpdate,
  ...(nativeKernelsStatus().available
    ? [
        QuickGelu,
        QuickGeluGrad,
        Softmax,
        SoftmaxGrad,
        MaskedSoftmax,
        MaskedSoftmaxGrad,
        Attention,
        AttentionGrad,
        Linear,
        LinearNoBias,
        LinearGradInput,
        LinearGradWeight,
        MatMulPacked16,
        MatMul4bit,
        SumOfSquares,
        CrossEntropy,
        CrossEntropyGrad,
        tf.Add,
      ]
    : []),
];

const parse = (input: unknown) => tfjsBackendConfigSchema.parse(input);

/** A fake engine package in a temp node_modules, to exercise the failure paths. */
function fakePackage(name: string, version: string, body: string): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-backend-'));
  const dir = path.join(root, 'node_modules', ...name.split('/'));
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js' }));
  fs.writeFileSync(path.join(dir, 'index.js'), body);
  return root;
}

afterEach(() => resetBackendSelection());

describe('tfjs backend selection', () => {
  test('picks wasm here: the native engines are not installed', async () => {
    const selection = await tfjsBackend.select(parse({}));
    expect(selection.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(selection.probes.map((p) => p.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(selection.probes[0]).toMatchObject({ available: false, reason: expect.stringMatching(/^not installed/) });
    expect(selection.probes[2]).toMatchObject({ available: true, reason: 'selected' });
    expect(selection.probes[3]?.reason).toMatch(/not tried, wasm came first/);
    expect(selection.reason).toBe('first that loaded (tfjs-node-gpu not installed, tfjs-node not installed)');
    expect(selection.capabilities).toEqual({ engine: 'wasm', gpu: false, threads: 1, kernelOverrides: WASM_OVERRIDES, float16: false });
  });

  test('prefer [cpu] selects cpu with only the fused kernels', async () => {
    const selection = await tfjsBackend.select(parse({ prefer: ['cpu'] }));
    expect(selection).toMatchObject({ name: 'cpu', reason: 'first in prefer (cpu)' });
    expect(tf.getBackend()).toBe('cpu');
    expect(selection.capabilities.kernelOverrides).toEqual([
      LayerNorm,
      LayerNormGrad,
      QuickGelu,
      QuickGeluGrad,
      Gelu,
      GeluGrad,
      AdamWUpdate,
      CrossEntropy,
      CrossEntropyGrad,
      MatMulPacked16,
      MatMul4bit,
      Dequantize4bit,
    ]);
    expect(selection.probes.find((p) => p.name === 'wasm')?.reason).toMatch(/^not in prefer; installed/);
  });

  test('overrides: false installs none', async () => {
    const selection = await tfjsBackend.select(parse({ prefer: ['wasm'], overrides: false }));
    expect(selection.capabilities.kernelOverrides).toEqual([]);
  });

  test('the same config again is a no-op; a different one is refused', async () => {
    const first = await tfjsBackend.select(parse({}));
    expect(await tfjsBackend.select(parse({}))).toBe(first);
    const error = await tfjsBackend.select(parse({ prefer: ['cpu'] })).catch((e: unknown) => e);
    expect(isMmftError(error) && error.code).toBe('E_BACKEND');
    expect(String(error)).toMatch(/already selected \(wasm/);
  });

  test('an unknown engine or a repeated one is a config error naming the known engines', async () => {
    for (const bad of [{ prefer: ['tpu'] }, { prefer: ['wasm', 'wasm'] }, { prefer: [] }, { threads: 4 }]) {
      const error = await tfjsBackend.select(bad as never).catch((e: unknown) => e);
      expect(isMmftError(error) && error.code).toBe('E_CONFIG');
      expect(String(error)).toMatch(/backend[.:]/);
    }
    const error = await tfjsBackend.probe({ prefer: ['tpu'] } as never).catch((e: unknown) => e);
    expect(String(error)).toMatch(/tfjs-node-gpu.*tfjs-node.*wasm.*cpu|expected one of/);
  });

  test('an engine that fails to load is recorded and the next one is taken', async () => {
    const root = fakePackage(
      '@tensorflow/tfjs-node',
      tf.version_core,
      "throw new Error('libtensorflow.so: cannot open shared object file');",
    );
    const selection = await selectBackend(parse({ prefer: ['tfjs-node', 'wasm'] }), [root, __dirname]);
    expect(selection.name).toBe('wasm');
    expect(selection.probes[0]).toEqual({
      name: 'tfjs-node',
      available: false,
      reason: 'failed to load: libtensorflow.so: cannot open shared object file',
    });
    expect(selection.reason).toBe('first that loaded (tfjs-node failed to load: libtensorflow.so: cannot open shared object file)');
  });

  test('an engine built for another tfjs version is not loaded', async () => {
    const root = fakePackage('@tensorflow/tfjs-node', '4.0.0', "throw new Error('must not be required');");
    const selection = await selectBackend(parse({ prefer: ['tfjs-node', 'cpu'] }), [root, __dirname]);
    expect(selection.name).toBe('cpu');
    expect(selection.probes[0]?.reason).toBe(
      `installed @tensorflow/tfjs-node@4.0.0, but tfjs-core is ${tf.version_core}: install @tensorflow/tfjs-node@${tf.version_core}`,
    );
  });

  test('nothing selectable is an E_BACKEND error listing every probe', async () => {
    const error = await selectBackend(parse({ prefer: ['tfjs-node-gpu'] }), [os.tmpdir()]).catch((e: unknown) => e);
    expect(isMmftError(error) && error.code).toBe('E_BACKEND');
    expect(String(error)).toMatch(/tfjs-node-gpu: not installed/);
  });

  test('probe() has no side effects', async () => {
    const before = tf.engine().backendNames().length;
    const probes = await tfjsBackend.probe(parse({}));
    expect(probes.find((p) => p.name === 'wasm')).toMatchObject({ available: true, reason: expect.stringMatching(/^installed/) });
    expect(tf.engine().backendNames().length).toBe(before);
  });

  test('the plugin registers the provider as backend/tfjs', () => {
    const registry = new PluginRegistry();
    registry.use(plugin, '@mmft/backend-tfjs');
    expect(registry.resolve('backend', 'tfjs')).toBe(tfjsBackend);
  });
});
