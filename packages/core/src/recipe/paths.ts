// Which recipe fields hold filesystem paths. A plugin marks them in its own schema with
// `recipePath()`; the recipe reader then resolves each relative value from the folder of the file
// that wrote it (a parent reached through `extends:` included), or from the working folder when it
// came from `--set`. Plugins receive absolute paths and never guess a base folder.
import * as path from 'node:path';
import { z } from 'zod';
import { isExplicitPath } from '../registry/load-plugin';

/** `path`: always a path. `module`: a path only when written as one (./x, ../x, /x), else a package name. */
export type RecipePathKind = 'path' | 'module';

// One registry per process even when two copies of @mmft/core are installed (as Symbol.for tokens).
const KEY = Symbol.for('@mmft/core:recipe-paths');
const registry: z.core.$ZodRegistry<{ kind: RecipePathKind }> = ((globalThis as Record<symbol, unknown>)[KEY] ??= z.registry<{ kind: RecipePathKind }>()) as z.core.$ZodRegistry<{ kind: RecipePathKind }>;

/**
 * Mark a string schema (or a list of strings) as a path relative to the recipe file that sets it.
 * Wrap the innermost schema; `.optional()`, `.default()` and `.describe()` may follow.
 *
 * @example
 * checkpoint: recipePath(z.string().min(1)).optional().describe('checkpoint folder')
 */
export function recipePath<T extends z.ZodType>(schema: T, kind: RecipePathKind = 'path'): T {
  registry.add(schema, { kind });
  return schema;
}

/** The mark of `schema` (inherited by `.describe()`/`.meta()` clones), if any. */
export function recipePathKind(schema: z.ZodType): RecipePathKind | undefined {
  return registry.get(schema)?.kind;
}

/** `value` resolved from `dir` when it is relative (and, for `module`, written as a path). */
export function resolveRecipePath(value: string, kind: RecipePathKind, dir: string): string {
  if (value === '' || path.isAbsolute(value)) return value;
  if (kind === 'module' && !isExplicitPath(value)) return value;
  return path.resolve(dir, value);
}
