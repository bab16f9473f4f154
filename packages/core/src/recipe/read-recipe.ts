// Reads a recipe file: follows `extends:` (relative to the extending file; cycles refused),
// deep-merges parents under children, applies `--set` overrides, and keeps the origin of every
// value for error messages and for path fields, which resolve from the file that wrote them
// (the `--set` ones from the working folder). Plugin-specific validation happens later
// (validate-recipe.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '../errors';
import { deepMerge, isPlainObject } from './merge';
import { applyOverride, parseOverride } from './overrides';
import { resolveRecipePath } from './paths';
import { RecipeShapeSchema } from './sections';
import { walkSchema } from './schema-walk';
import { dropOriginsBelow, formatPath, originOf, parseRecipeText, type PathSegment, type ValueOrigin } from './source-map';

/** A recipe after extends and overrides, before plugin validation. */
export interface RawRecipe {
  readonly file: string;
  /** Folder of the top recipe file: where runs go by default and packages are looked up from. */
  readonly baseDir: string;
  readonly value: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, ValueOrigin>;
}

/** Options of readRecipe. */
export interface ReadRecipeOptions {
  /** Folder relative paths given with `--set` resolve from (default: process.cwd()). */
  readonly cwd?: string;
}

type Parsed = { value: Record<string, unknown>; origins: Map<string, ValueOrigin> };

// A child value that is not a mapping replaces the parent's whole subtree: the parent's origins
// below it describe values that no longer exist.
function dropReplaced(origins: Map<string, ValueOrigin>, value: unknown, at: PathSegment[]): void {
  if (!isPlainObject(value)) {
    dropOriginsBelow(origins, at);
    return;
  }
  for (const [key, item] of Object.entries(value)) dropReplaced(origins, item, [...at, key]);
}

function readOne(file: string, chain: readonly string[], topDir: string): Parsed {
  if (chain.includes(file)) {
    throw new MmftError('E_RECIPE', `recipe extends itself in a cycle: ${[...chain, file].join(' → ')}`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    const from = chain.length > 0 ? ` (extended by ${chain[chain.length - 1]})` : '';
    throw new MmftError('E_RECIPE', `cannot read recipe ${file}${from}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, {
      cause,
    });
  }
  // Messages name a parent by its path from the top recipe's folder: `../base/parent.yaml:4`.
  const parsed = parseRecipeText(text, path.relative(topDir, file) || path.basename(file), path.dirname(file));
  const parents = parsed.value.extends;
  if (parents === undefined) return parsed;
  const list = typeof parents === 'string' ? [parents] : Array.isArray(parents) ? parents : null;
  if (!list || list.some((p) => typeof p !== 'string')) {
    throw new MmftError('E_RECIPE', `${path.basename(file)}: extends must be a path or a list of paths`);
  }
  let value: Record<string, unknown> = {};
  const origins = new Map<string, ValueOrigin>();
  for (const parent of list as string[]) {
    const base = readOne(path.resolve(path.dirname(file), parent), [...chain, file], topDir);
    dropReplaced(origins, base.value, []);
    value = deepMerge(value, base.value);
    for (const [key, origin] of base.origins) origins.set(key, origin);
  }
  const { extends: _ignored, ...own } = parsed.value;
  dropReplaced(origins, own, []);
  for (const [key, origin] of parsed.origins) if (key !== 'extends' && !key.startsWith('extends[')) origins.set(key, origin);
  return { value: deepMerge(value, own), origins };
}

/**
 * Resolve the path fields `schema` marks (recipePath) in the subtree of `value` at `prefix`, each
 * from the folder of the file (or `--set`) that wrote it. Returns a new value; absolute stays absolute.
 */
export function resolvePathFields(
  schema: Parameters<typeof walkSchema>[0],
  value: unknown,
  prefix: readonly PathSegment[],
  origins: ReadonlyMap<string, ValueOrigin>,
  fallbackDir: string,
): unknown {
  const { paths } = walkSchema(schema, value, prefix);
  if (paths.length === 0) return value;
  const copy = structuredClone(value);
  for (const found of paths) {
    const dir = originOf(origins, found.segments)?.dir ?? fallbackDir;
    const relative = found.segments.slice(prefix.length);
    const key = relative[relative.length - 1]!;
    let cursor = copy as Record<string | number, unknown>;
    for (const segment of relative.slice(0, -1)) cursor = cursor[segment] as Record<string | number, unknown>;
    cursor[key] = resolveRecipePath(found.value, dir);
  }
  return copy;
}

/**
 * Read a recipe with its parents and `--set` overrides applied. Top-level path fields
 * (output_dir) come back absolute; sections' path fields are resolved by validateRecipe, which
 * knows their schemas; `plugins:` entries by recipePluginRequests.
 *
 * @example
 * const raw = readRecipe('recipes/clip-shapes-lora.yaml', ['train.lr=2e-4']);
 */
export function readRecipe(file: string, overrides: readonly string[] = [], options: ReadRecipeOptions = {}): RawRecipe {
  const absolute = path.resolve(file);
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const merged = readOne(absolute, [], path.dirname(absolute));
  let value = merged.value;
  for (const text of overrides) {
    const override = parseOverride(text);
    value = applyOverride(value, override);
    dropOriginsBelow(merged.origins, override.segments);
    merged.origins.set(formatPath(override.segments), { file: `--set ${text}`, dir: cwd });
  }
  value = resolvePathFields(RecipeShapeSchema, value, [], merged.origins, path.dirname(absolute)) as Record<string, unknown>;
  return { file: absolute, baseDir: path.dirname(absolute), value, origins: merged.origins };
}
