// `mmft env` against the real backend plugin: text and JSON say the same thing, and a bad
// --prefer is a one-line error. Uses the command factory directly until it joins COMMANDS.
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { resetBackendSelection } from '@mmft/backend-tfjs';
import { createCliContext } from '../context';
import { envCommand, type EnvReport } from './env';
import { nativeKernelsStatus } from '@mmft/backend-tfjs';
import {
  AdamWUpdate,
  Attention,
  AttentionGrad,
  CrossEntropy,
  CrossEntropyGrad,
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
import { Add, BatchMatMul, Cast, GatherV2, Identity, Sum, UnsortedSegmentSum } from '@tensorflow/tfjs-core';

// The wasm overrides: the native-only fused kernels join where the addon is built here.
const WASM_OVERRIDES = [
  BatchMatMul,
  Sum,
  Identity,
  Cast,
  GatherV2,
  UnsortedSegmentSum,
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
        Add,
      ]
    : []),
];

async function runEnv(argv: string[]): Promise<{ stdout: string; error?: unknown }> {
  const stdout = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => (text += chunk));
  const ctx = createCliContext({ stdout, stderr: new PassThrough(), isTTY: false, builtins: ['@mmft/backend-tfjs'] });
  resetBackendSelection(); // each run selects afresh, as a new process would
  try {
    await envCommand(ctx).exitOverride().parseAsync(argv, { from: 'user' });
    return { stdout: text };
  } catch (error) {
    return { stdout: text, error };
  }
}

describe('mmft env', () => {
  test('prints node, platform, tfjs, every probe, the selection and the overrides', async () => {
    const { stdout, error } = await runEnv([]);
    expect(error).toBeUndefined();
    expect(stdout).toContain(`node        ${process.version}`);
    expect(stdout).toMatch(new RegExp(`platform    ${process.platform} ${process.arch}, \\d+ CPUs`));
    expect(stdout).toMatch(/tfjs-core   4\.\d+\.\d+/);
    expect(stdout).toMatch(/tfjs-node-gpu\s+no\s+not installed/);
    expect(stdout).toMatch(/wasm\s+yes\s+selected/);
    expect(stdout).toMatch(/selected    wasm \(tfjs backend "wasm"\): first that loaded/);
    expect(stdout).toContain(`overrides   ${WASM_OVERRIDES.join(', ')}`);
    // Either the addon was built here or the line says why not: never silent.
    expect(stdout).toMatch(/native      (C\+\+ kernels \(.+\) on (avx512|avx2|generic), \d+ threads|not in use: .+)/);
  });

  test('--json prints the same report as JSON', async () => {
    const { stdout } = await runEnv(['--json']);
    const report = JSON.parse(stdout) as EnvReport;
    expect(report.node).toBe(process.version);
    expect(report.cpus.count).toBeGreaterThan(0);
    expect(report.backend.name).toBe('wasm');
    expect(report.backend.probes.map((p) => p.name)).toEqual(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu']);
    expect(report.backend.capabilities).toMatchObject({ engine: 'wasm', threads: 1, kernelOverrides: WASM_OVERRIDES });
  });

  test('--prefer and --no-overrides reach the backend config', async () => {
    const { stdout } = await runEnv(['--prefer', 'cpu', '--no-overrides', '--json']);
    const report = JSON.parse(stdout) as EnvReport;
    expect(report.backend).toMatchObject({ name: 'cpu', reason: 'first in prefer (cpu)' });
    expect(report.backend.capabilities.kernelOverrides).toEqual([]);
  });

  // The addon serves only the wasm engine's overrides (packages/plugins/backend-tfjs/src/kernels/
  // wasm/index.ts): the report says so for the others, whether or not it is built here.
  test.each([
    [['--prefer', 'cpu'], /the cpu engine runs JavaScript kernels only/],
    [['--prefer', 'wasm', '--no-overrides'], /kernel overrides are off/],
  ])('%j: the native kernels are not in use, and the line says why', async (argv, why) => {
    const { stdout } = await runEnv(argv);
    expect(stdout).not.toContain('C++ kernels');
    expect(stdout).toMatch(/^native      not in use: .+$/m);
    if (nativeKernelsStatus().available) expect(stdout).toMatch(why);
    const report = JSON.parse((await runEnv([...argv, '--json'])).stdout) as EnvReport;
    expect(report.native).toMatchObject({ available: nativeKernelsStatus().available, inUse: false, kernels: [] });
  });

  test('wasm with its overrides: in use exactly where the addon is built, naming the kernels that call it', async () => {
    const { stdout } = await runEnv(['--prefer', 'wasm']);
    const report = JSON.parse((await runEnv(['--prefer', 'wasm', '--json'])).stdout) as EnvReport;
    if (nativeKernelsStatus().available) {
      expect(report.native.inUse).toBe(true);
      // Those that run on it whenever it is built, and the fused kernels that exist only with it.
      expect(report.native.kernels).toEqual(expect.arrayContaining([BatchMatMul, Sum, LayerNorm, AdamWUpdate, Attention, Add]));
      expect(report.native.kernels).not.toContain(GatherV2); // a JavaScript override
      expect(report.native.kernels.every((k) => report.backend.capabilities.kernelOverrides.includes(k))).toBe(true);
      expect(stdout).toContain(`native      C++ kernels (${report.native.kernels.join(', ')}) on ${report.native.isa}`);
    } else {
      expect(report.native).toMatchObject({ inUse: false, kernels: [] });
      expect(stdout).toMatch(/^native      not in use: .+$/m);
    }
  });

  test('an unknown engine is an E_INPUT error naming the option', async () => {
    const { error } = await runEnv(['--prefer', 'tpu']);
    expect(error).toMatchObject({ code: 'E_INPUT', message: expect.stringMatching(/^mmft env: --prefer: .*"wasm"/) });
  });
});
