// The plugin registry experiments are validated and run against: the first-party plugins, loaded
// by package name as the CLI loads its built-ins (packages/cli/src/context.ts). The list lives
// here, not in @mmft/cli, because the CLI depends on this package: both use FIRST_PARTY_PLUGINS.
import { loadPluginExport, PluginRegistry } from '@mmft/core';

/** First-party plugin packages: the CLI's built-ins and what every experiment may use. */
export const FIRST_PARTY_PLUGINS: readonly string[] = [
  '@mmft/backend-tfjs',
  '@mmft/data-jsonl',
  '@mmft/data-mix',
  '@mmft/data-shapes',
  '@mmft/arch-clip',
  '@mmft/arch-opt',
  '@mmft/arch-gpt2',
  '@mmft/arch-llama',
  '@mmft/arch-blip2',
  '@mmft/loss-contrastive',
  '@mmft/objective-contrastive',
  '@mmft/objective-causal-lm',
  '@mmft/objective-blip2-stage1',
  '@mmft/arch-llava',
  '@mmft/arch-idefics',
  '@mmft/trainer-standard',
  '@mmft/peft-lora',
  '@mmft/peft-adapter',
  '@mmft/peft-prefix',
  '@mmft/metric-caption',
  '@mmft/metric-instruction',
  '@mmft/metric-vqa',
  '@mmft/metric-retrieval',
  '@mmft/exporter-onnx',
  '@mmft/filter-blocklist',
  '@mmft/reporter-tensorboard',
  '@mmft/handoff-llamafactory',
  '@mmft/handoff-swift',
  '@mmft/handoff-accelerate',
];

/** Plugins every experiment may use. */
export const BENCH_PLUGINS: readonly string[] = FIRST_PARTY_PLUGINS;

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
