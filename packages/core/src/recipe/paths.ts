// Which recipe fields hold filesystem paths. A plugin marks them in its own schema with
// `recipePath()`; the recipe reader then resolves each relative value from the folder of the file
// that wrote it (a parent reached through `extends:` included), or from the working folder when it
// came from `--set`. Plugins receive absolute paths and never guess a base folder.
import * as path from 'node:path';
import { z } from 'zod';

// One registry per process even when two copies of @mmft/core are installed (as Symbol.for tokens).
const KEY = Symbol.for('@mmft/core:recipe-paths');
type Mark = { recipePath: true };
const registry = ((globalThis as Record<symbol, unknown>)[KEY] ??= z.registry<Mark>()) as z.core.$ZodRegistry<Mark>;

/**
 * Mark a string schema (or a list of strings) as a path relative to the recipe file that sets it.
 * Wrap the innermost schema; `.optional()`, `.default()` and `.describe()` may follow.
 *
 * @example
 * checkpoint: recipePath(z.string().min(1)).optional().describe('checkpoint folder')
 */
export function recipePath<T extends z.ZodType>(schema: T): T {
  registry.add(schema, { recipePath: true });
  return schema;
}

/** True when `schema` itself is marked (the mark is inherited by `.describe()`/`.meta()` clones). */
export function isRecipePath(schema: z.ZodType): boolean {
  return registry.get(schema)?.recipePath === true;
}

/** `value` resolved from `dir` when it is relative. */
export function resolveRecipePath(value: string, dir: string): string {
  return value === '' || path.isAbsolute(value) ? value : path.resolve(dir, value);
}
