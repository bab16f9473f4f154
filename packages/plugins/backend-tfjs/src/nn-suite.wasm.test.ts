// Core's nn suite (@mmft/core/testing describeNnSuite) under wasm with this plugin's kernel
// overrides installed: the stock-kernel replacements and the fused kernels (the native ones too
// when the addon is built), as tfjs backends re-run tfjs-core's tests.
import { expect } from '@jest/globals';
import { Attention, LayerNorm, Linear } from '@mmft/core/kernels';
import { describeNnSuite } from '@mmft/core/testing';
import { nativeKernelsStatus } from '@mmft/native-kernels';
import { tfjsBackendConfigSchema } from './config';
import { installedKernelOverrides } from './kernels/install';
import { resetBackendSelection, selectBackend } from './select';

describeNnSuite('wasm with mmft kernel overrides', {
  async setup() {
    resetBackendSelection();
    const selection = await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['wasm'] }));
    expect(selection.name).toBe('wasm');
    // The suite must really run through the overrides, not beside them.
    const expected = ['BatchMatMul', 'Sum', LayerNorm, ...(nativeKernelsStatus().available ? [Attention, Linear] : [])];
    expect(installedKernelOverrides('wasm')).toEqual(expect.arrayContaining(expected));
  },
});
