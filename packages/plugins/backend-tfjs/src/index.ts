// @mmft/backend-tfjs: the TensorFlow.js backend plugin. Default export is the plugin object
// (docs/conventions.md §5); named exports are for tests, benchmarks and other kernels.
import { definePlugin } from '@mmft/core';
import { tfjsBackend } from './plugin';

const pkg = require('../package.json') as { name: string; version: string };

export { tfjsBackend } from './plugin';
export { ENGINE_NAMES, tfjsBackendConfigSchema, type EngineName, type TfjsBackendConfig, type TfjsBackendConfigInput } from './config';
export { ENGINES, type EngineSpec, type ResolvedPackage } from './engines';
export { probeEngines, type EngineProbe } from './probe';
export { selectBackend, resetBackendSelection, currentBackendSelection } from './select';
export { nativeKernelUse, type NativeKernelUse } from './capabilities';
export { installKernelOverrides, removeKernelOverrides, installedKernelOverrides, KERNEL_OVERRIDES } from './kernels/install';
export type { InstallOptions, KernelOverride, OverrideContext } from './kernels/override';
/** Whether the optional native kernels (multi-threaded GEMM) loaded here, and why not. */
export { nativeKernelsStatus, type NativeKernelsStatus } from '@mmft/native-kernels';
export { MIN_MACS_PER_SLICE_FOR_LOOP } from './kernels/wasm/BatchMatMul';

const provides = [tfjsBackend];

/** The plugin manifest; the CLI loads it as a built-in. */
const plugin = definePlugin({
  name: pkg.name,
  version: pkg.version,
  description: 'TensorFlow.js engine selection and kernel overrides',
  provides,
});
export default plugin;
