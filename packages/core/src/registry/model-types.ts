// config.json `model_type` → architecture provider: the table architecture plugins contribute
// through their `modelTypes` (docs/conventions.md §8), looked up as transformers.js's models/registry.js
// does; an unknown type lists the known ones. Also the ArchitectureContext handed to providers,
// so a bridge builds its towers from vision_config / text_config through other plugins.
import type { ArchitectureContext, ArchitectureProvider } from '../contracts/architecture';
import { MmftError } from '../errors';

/** Where the architectures come from: a registry, or any resolver that lists providers. */
export interface ArchitectureSource {
  list(kind: 'architecture'): ReadonlyArray<ArchitectureProvider>;
}

/** Options of `resolveModelType`. */
export interface ResolveModelTypeOptions {
  /** Where the model_type was read (`models/x/config.json`), named in the error. */
  readonly source?: string;
  /** How to load more plugins, named in the hint (default: the recipe's plugins list or --plugin). */
  readonly hint?: string;
}

/**
 * The provider whose `modelTypes` lists `modelType`.
 *
 * @example
 * resolveModelType(registry.list('architecture'), 'clip').id; // 'clip'
 */
export function resolveModelType(
  architectures: ReadonlyArray<ArchitectureProvider>,
  modelType: string,
  options: ResolveModelTypeOptions = {},
): ArchitectureProvider {
  const found = architectures.find((p) => p.modelTypes.includes(modelType));
  if (found) return found;
  const known = [...new Set(architectures.flatMap((p) => p.modelTypes))].sort().join(', ') || '(none loaded)';
  throw new MmftError(
    'E_UNKNOWN_ID',
    `${options.source ? `${options.source}: ` : ''}model_type "${modelType}" has no architecture plugin; known: ${known}`,
    {
      hint: options.hint ?? "load the plugin for this model (a recipe's plugins: list, or --plugin <package>)",
    },
  );
}

/**
 * The context an architecture provider builds other architectures through.
 *
 * @example
 * const model = await provider.fromPretrained(dir, {}, architectureContext(registry));
 * // inside a bridge: await context.resolveModelType(cfg.vision_config.model_type).fromConfig(cfg.vision_config, context)
 */
export function architectureContext(source: ArchitectureSource): ArchitectureContext {
  return { resolveModelType: (modelType) => resolveModelType(source.list('architecture'), modelType) };
}
