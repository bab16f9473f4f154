// Core's nn suite (@mmft/core/testing describeNnSuite) under tfjs's cpu backend with this plugin's
// cpu kernels installed (fused LayerNorm, GELU, quick_gelu in JavaScript).
import { expect } from '@jest/globals';
import { Gelu, LayerNorm, QuickGelu } from '@mmft/core/kernels';
import { describeNnSuite } from '@mmft/core/testing';
import { tfjsBackendConfigSchema } from './config';
import { installedKernelOverrides } from './kernels/install';
import { resetBackendSelection, selectBackend } from './select';

describeNnSuite('cpu with mmft kernel overrides', {
  async setup() {
    resetBackendSelection();
    const selection = await selectBackend(tfjsBackendConfigSchema.parse({ prefer: ['cpu'] }));
    expect(selection.name).toBe('cpu');
    expect(installedKernelOverrides('cpu')).toEqual(expect.arrayContaining([LayerNorm, QuickGelu, Gelu]));
  },
});
