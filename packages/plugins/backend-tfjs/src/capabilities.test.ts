// nativeKernelUse: the addon counts as used only for overrides of the selected engine that call it.
import { describe, expect, test } from '@jest/globals';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { nativeKernelUse } from './capabilities';

const built = nativeKernelsStatus().available;

describe('nativeKernelUse', () => {
  test.each([
    ['tensorflow', [], /libtensorflow's kernels/],
    ['cpu', ['MmftLayerNorm', 'MmftAdamWUpdate'], /JavaScript kernels only/],
    ['wasm', [], /kernel overrides are off/],
    ['wasm', ['Identity', 'Cast', 'GatherV2'], /none of the wasm overrides installed \(Identity, Cast, GatherV2\) calls it/],
  ])('%s with %j: not in use', (engine, overrides, why) => {
    const use = nativeKernelUse(engine, overrides);
    expect(use).toMatchObject({ available: built, inUse: false, kernels: [] });
    expect(use.reason).toMatch(built ? why : /./);
  });

  test('wasm: the installed overrides that call the addon, in their order', () => {
    const use = nativeKernelUse('wasm', ['BatchMatMul', 'GatherV2', 'MmftLayerNorm', 'Identity']);
    expect(use).toMatchObject(built ? { inUse: true, kernels: ['BatchMatMul', 'MmftLayerNorm'] } : { inUse: false, kernels: [] });
  });
});
