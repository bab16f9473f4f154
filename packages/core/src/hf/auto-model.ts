// AutoModel for scripts: reads config.json `model_type` and builds the model through the
// architecture plugin that declares it, as transformers' AutoModel.from_pretrained and
// transformers.js's AutoModel (src/models/registry.js, MODEL_MAPPING_NAMES) dispatch on it.
// Plugins are taken from the caller (objects or package names), never found by scanning.
import { join } from 'node:path';
import type { LoadOptions, VisionLanguageModel } from '../contracts/architecture';
import type { MmftPlugin } from '../contracts/plugin';
import { loadPluginInto } from '../registry/load-plugin';
import { architectureContext, resolveModelType, type ArchitectureSource } from '../registry/model-types';
import { PluginRegistry } from '../registry/plugin-registry';
import { readModelType } from './read-folder';

/** First-party architecture packages AutoModel loads when the caller names none. */
export const DEFAULT_ARCHITECTURE_PLUGINS: readonly string[] = [
  '@mmft/arch-clip',
  '@mmft/arch-opt',
  '@mmft/arch-gpt2',
  '@mmft/arch-llama',
  '@mmft/arch-blip2',
];

/** Options of `AutoModel.fromPretrained`. */
export interface AutoModelOptions extends LoadOptions {
  /**
   * Plugins providing architectures: plugin objects, or package names resolved from `searchFrom`
   * (default DEFAULT_ARCHITECTURE_PLUGINS).
   */
  readonly plugins?: ReadonlyArray<MmftPlugin | string>;
  /** Architectures already loaded (a run's PluginRegistry); `plugins` is then ignored. */
  readonly registry?: ArchitectureSource;
  /** Folders package names resolve from (default: the working folder). */
  readonly searchFrom?: readonly string[];
}

async function registryOf(options: AutoModelOptions): Promise<ArchitectureSource> {
  if (options.registry) return options.registry;
  const registry = new PluginRegistry();
  const searchFrom = options.searchFrom ?? [process.cwd()];
  for (const plugin of options.plugins ?? DEFAULT_ARCHITECTURE_PLUGINS) {
    if (typeof plugin === 'string')
      await loadPluginInto(registry, plugin, { searchFrom, baseDir: searchFrom[0]!, origin: 'AutoModel plugins' });
    else registry.use(plugin, plugin.meta.name);
  }
  return registry;
}

/**
 * Builds any model whose architecture plugin is loaded, from its checkpoint folder.
 *
 * @example
 * import { AutoModel } from '@mmft/core/hf';
 * const model = await AutoModel.fromPretrained('models/clip-shapes-base'); // model_type "clip" → @mmft/arch-clip
 * model.processor.towers.vision; // ['vision_model.**', 'visual_projection.**']
 */
export const AutoModel = {
  async fromPretrained(dir: string, options: AutoModelOptions = {}): Promise<VisionLanguageModel> {
    const modelType = await readModelType(dir);
    const source = await registryOf(options);
    const provider = resolveModelType(source.list('architecture'), modelType, {
      source: join(dir, 'config.json'),
      hint: 'pass the plugin that provides it: AutoModel.fromPretrained(dir, { plugins: [plugin or "package-name"] })',
    });
    const { plugins: _p, registry: _r, searchFrom: _s, ...load } = options;
    return provider.fromPretrained(dir, load, architectureContext(source));
  },
};
