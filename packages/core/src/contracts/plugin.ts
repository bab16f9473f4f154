// The plugin manifest (docs/conventions.md §5): a pure object a package default-exports. Importing it has
// no side effect; `register` is called by the registry with a child container for one run.
import type { DependencyContainer } from 'tsyringe';
import type { AnyProvider } from './kinds';

export interface PluginMeta {
  /** The npm package name ("@mmft/peft-lora", "mmft-plugin-foo"). */
  readonly name: string;
  readonly version: string;
  readonly description?: string;
}

/**
 * What an mmft plugin package default-exports.
 *
 * @example
 * const plugin: MmftPlugin = {
 *   meta: { name: 'mmft-plugin-ema', version: '1.0.0' },
 *   provides: [emaTrainer],
 *   register: (container) => registerProviders(container, [emaTrainer]),
 * };
 * export default plugin;
 */
export interface MmftPlugin {
  readonly meta: PluginMeta;
  /** Every provider (kind + id + config schema) the plugin registers. */
  readonly provides: readonly AnyProvider[];
  register(container: DependencyContainer): void;
}
