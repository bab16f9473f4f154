// The "tfjs" backend provider (BackendProvider in packages/core/src/contracts/backend.ts):
// probes and selects a TensorFlow.js engine and installs mmft's kernel overrides on it.
import { MmftError, type BackendProbe, type BackendProvider, type BackendSelection } from '@mmft/core';
import { tfjsBackendConfigSchema, type TfjsBackendConfig } from './config';
import { probeEngines } from './probe';
import { selectBackend } from './select';

function parseConfig(config: unknown): TfjsBackendConfig {
  const parsed = tfjsBackendConfigSchema.safeParse(config ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${['backend', ...issue.path].join('.')}: ${issue.message}`);
  throw new MmftError('E_CONFIG', `invalid tfjs backend config: ${issues.join('; ')}`, {
    cause: parsed.error,
    hint: 'backend.prefer lists engines from tfjs-node-gpu, tfjs-node, wasm, cpu; backend.overrides is true or false',
  });
}

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
  configSchema: tfjsBackendConfigSchema as unknown as BackendProvider<TfjsBackendConfig>['configSchema'],
  async probe(config: TfjsBackendConfig): Promise<readonly BackendProbe[]> {
    return probeEngines(parseConfig(config).prefer).map(({ name, available, reason }) => ({ name, available, reason }));
  },
  async select(config: TfjsBackendConfig): Promise<BackendSelection> {
    return selectBackend(parseConfig(config));
  },
};
