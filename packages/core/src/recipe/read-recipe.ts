// Reads a recipe file: follows `extends:` (relative to the extending file; cycles refused),
// deep-merges parents under children, applies `--set` overrides, and keeps the origin of every
// value for error messages. Plugin-specific validation happens later (validate-recipe.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '../errors';
import { deepMerge } from './merge';
import { applyOverride, parseOverride } from './overrides';
import { formatPath, parseRecipeText, type ValueOrigin } from './source-map';

/** A recipe after extends and overrides, before plugin validation. */
export interface RawRecipe {
  readonly file: string;
  /** Folder of the top recipe file: relative paths in sections resolve from here. */
  readonly baseDir: string;
  readonly value: Record<string, unknown>;
  readonly origins: ReadonlyMap<string, ValueOrigin>;
}

function readOne(file: string, chain: readonly string[]): { value: Record<string, unknown>; origins: Map<string, ValueOrigin> } {
  if (chain.includes(file)) {
    throw new MmftError('E_RECIPE', `recipe extends itself in a cycle: ${[...chain, file].join(' → ')}`);
  }
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (cause) {
    const from = chain.length > 0 ? ` (extended by ${chain[chain.length - 1]})` : '';
    throw new MmftError('E_RECIPE', `cannot read recipe ${file}${from}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  const parsed = parseRecipeText(text, path.basename(file));
  const parents = parsed.value.extends;
  if (parents === undefined) return parsed;
  const list = typeof parents === 'string' ? [parents] : Array.isArray(parents) ? parents : null;
  if (!list || list.some((p) => typeof p !== 'string')) {
    throw new MmftError('E_RECIPE', `${path.basename(file)}: extends must be a path or a list of paths`);
  }
  let value: Record<string, unknown> = {};
  const origins = new Map<string, ValueOrigin>();
  for (const parent of list as string[]) {
    const base = readOne(path.resolve(path.dirname(file), parent), [...chain, file]);
    value = deepMerge(value, base.value);
    for (const [key, origin] of base.origins) origins.set(key, origin);
  }
  const { extends: _ignored, ...own } = parsed.value;
  for (const [key, origin] of parsed.origins) if (key !== 'extends') origins.set(key, origin);
  return { value: deepMerge(value, own), origins };
}

/**
 * Read a recipe with its parents and `--set` overrides applied.
 *
 * @example
 * const raw = readRecipe('recipes/clip-shapes-lora.yaml', ['train.lr=2e-4']);
 */
export function readRecipe(file: string, overrides: readonly string[] = []): RawRecipe {
  const absolute = path.resolve(file);
  const merged = readOne(absolute, []);
  let value = merged.value;
  for (const text of overrides) {
    const override = parseOverride(text);
    value = applyOverride(value, override);
    merged.origins.set(formatPath(override.segments), { file: `--set ${text}` });
  }
  return { file: absolute, baseDir: path.dirname(absolute), value, origins: merged.origins };
}
