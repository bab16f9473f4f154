// The plugin registry experiments are validated and run against: the first-party plugins a
// benchmark needs, loaded by package name as the CLI loads its built-ins (packages/cli/src/context.ts).
// Built here rather than imported from @mmft/cli so the CLI can depend on this package.
import { loadPluginExport, PluginRegistry } from '@mmft/core';

/** Plugins every experiment may use. */
export const BENCH_PLUGINS: readonly string[] = [
  '@mmft/backend-tfjs',
  '@mmft/data-shapes',
  '@mmft/arch-clip',
  '@mmft/loss-contrastive',
  '@mmft/trainer-standard',
  '@mmft/peft-lora',
  '@mmft/peft-adapter',
  '@mmft/peft-prefix',
  '@mmft/metric-caption',
  '@mmft/metric-vqa',
  '@mmft/metric-retrieval',
];

/**
 * A fresh registry with the benchmark plugins.
 *
 * @example
 * const registry = await benchRegistry();
 * registry.resolve('architecture', 'clip');
 */
export async function benchRegistry(plugins: readonly string[] = BENCH_PLUGINS): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const specifier of plugins) {
    const { value } = await loadPluginExport(specifier, { searchFrom: [__dirname], baseDir: __dirname });
    registry.use(value, specifier);
  }
  return registry;
}
