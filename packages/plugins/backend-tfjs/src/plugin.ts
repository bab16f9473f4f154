// The "tfjs" backend provider (BackendProvider in packages/core/src/contracts/backend.ts):
// probes and selects a TensorFlow.js engine and installs mmft's kernel overrides on it.
import { parseConfig, type BackendProbe, type BackendProvider, type BackendSelection } from '@mmft/core';
import { tfjsBackendConfigSchema, type TfjsBackendConfig } from './config';
import { probeEngines } from './probe';
import { selectBackend } from './select';

const parse = (config: unknown): TfjsBackendConfig =>
  parseConfig(tfjsBackendConfigSchema, config, 'backend', {
    hint: 'backend.prefer lists engines from tfjs-node-gpu, tfjs-node, wasm, cpu; backend.overrides is true or false',
  });

/**
 * The backend provider registered as ('backend', 'tfjs').
 *
 * @example
 * const selection = await tfjsBackend.select({ prefer: ['wasm', 'cpu'] });
 * selection.capabilities.kernelOverrides; // ['BatchMatMul']
 */
export const tfjsBackend: BackendProvider<TfjsBackendConfig> = {
  kind: 'backend',
  id: 'tfjs',
  description: 'TensorFlow.js: tfjs-node-gpu, tfjs-node, wasm or cpu, whichever is installed and loads first',
  configSchema: tfjsBackendConfigSchema,
  async probe(config: TfjsBackendConfig): Promise<readonly BackendProbe[]> {
    return probeEngines(parse(config).prefer).map(({ name, available, reason }) => ({ name, available, reason }));
  },
  async select(config: TfjsBackendConfig): Promise<BackendSelection> {
    return selectBackend(parse(config));
  },
};
