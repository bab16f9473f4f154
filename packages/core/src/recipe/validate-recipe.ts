// Validates a recipe: its top-level shape, then each plugin-selected section with the schema of
// the provider it names. All problems are reported at once, each with path, value and file:line.
import type { z } from 'zod';
import type { PluginKind } from '../contracts/provider';
import type { ProviderResolver } from '../contracts/trainer';
import { isMmftError, MmftError } from '../errors';
import type { RawRecipe } from './read-recipe';
import { findSections, RECIPE_SECTIONS, RecipeShapeSchema } from './sections';
import { formatPath, type PathSegment } from './source-map';

/** A recipe whose every section passed its provider's schema (defaults filled in). */
export interface ValidatedRecipe extends RawRecipe {
  /** `[path, kind, provider id]` of every plugin-selected section, in recipe order. */
  readonly selections: ReadonlyArray<{ readonly path: string; readonly kind: PluginKind; readonly id: string }>;
}

function where(raw: RawRecipe, segments: readonly PathSegment[]): string {
  for (let n = segments.length; n >= 0; n--) {
    const origin = raw.origins.get(formatPath(segments.slice(0, n)));
    if (origin) return origin.line === undefined ? origin.file : `${origin.file}:${origin.line}`;
  }
  return raw.file;
}

function describeIssues(raw: RawRecipe, prefix: readonly PathSegment[], issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const full = [...prefix, ...(issue.path as PathSegment[])];
    const input = (issue as { input?: unknown }).input;
    const got = input === undefined ? '' : `, got ${JSON.stringify(input)}`;
    const keys = issue.code === 'unrecognized_keys' ? `: ${issue.keys.join(', ')}` : '';
    // zod says "Invalid input: expected number, received string"; users read "expected number, got "8x"".
    const what = issue.code === 'invalid_type' ? (input === undefined ? `required ${issue.expected} is missing` : `expected ${issue.expected}`) : issue.message;
    return `${formatPath(full) || '(recipe)'}: ${what}${keys}${got} (${where(raw, full)})`;
  });
}

/**
 * Validate a raw recipe against the loaded providers; throws one E_RECIPE listing every problem.
 *
 * @example
 * const recipe = validateRecipe(readRecipe('recipe.yaml'), registry);
 */
export function validateRecipe(raw: RawRecipe, resolver: ProviderResolver): ValidatedRecipe {
  const problems: string[] = [];
  const shape = RecipeShapeSchema.safeParse(raw.value, { reportInput: true });
  if (!shape.success) problems.push(...describeIssues(raw, [], shape.error.issues));
  const value = structuredClone(raw.value);
  const selections: Array<{ path: string; kind: PluginKind; id: string }> = [];
  for (const spec of RECIPE_SECTIONS) {
    for (const [segments, section] of findSections(value, spec)) {
      const id = section[spec.key];
      if (typeof id !== 'string') continue; // reported by the shape check
      let schema: z.ZodType;
      try {
        schema = resolver.resolve(spec.kind, id).configSchema as z.ZodType;
      } catch (error) {
        if (!isMmftError(error)) throw error;
        problems.push(`${formatPath([...segments, spec.key])}: ${error.message} (${where(raw, [...segments, spec.key])})`);
        continue;
      }
      const { [spec.key]: _id, ...settings } = section;
      const parsed = schema.safeParse(settings, { reportInput: true });
      if (!parsed.success) {
        problems.push(...describeIssues(raw, segments, parsed.error.issues));
        continue;
      }
      replaceAt(value, segments, { [spec.key]: id, ...(parsed.data as Record<string, unknown>) });
      selections.push({ path: formatPath(segments), kind: spec.kind, id });
    }
  }
  if (problems.length > 0) {
    // Report in file order, as a reader scans the recipe.
    const lineOf = (text: string) => Number(/:(\d+)\)$/.exec(text)?.[1] ?? Number.MAX_SAFE_INTEGER);
    problems.sort((a, b) => lineOf(a) - lineOf(b));
    throw new MmftError('E_RECIPE', `recipe ${raw.file} is invalid:\n  ${problems.join('\n  ')}`);
  }
  return { ...raw, value, selections };
}

function replaceAt(root: Record<string, unknown>, segments: readonly PathSegment[], replacement: unknown): void {
  let cursor = root as Record<string | number, unknown>;
  segments.slice(0, -1).forEach((segment) => (cursor = cursor[segment] as Record<string | number, unknown>));
  cursor[segments[segments.length - 1]!] = replacement;
}
