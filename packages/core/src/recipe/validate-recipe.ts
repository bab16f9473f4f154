// Validates a recipe: its top-level shape, then each plugin-selected section with the schema of
// the provider it names. Every section is strict, whatever its schema says (a misspelt key must
// not silently do nothing); path fields are resolved from the file that wrote them. All problems
// are reported at once, each with path, value and file:line (or the --set flag).
import type { z } from 'zod';
import type { PluginKind } from '../contracts/provider';
import type { ProviderResolver } from '../contracts/trainer';
import { isMmftError, MmftError } from '../errors';
import { editDistance } from '../registry/names';
import { resolvePathFields, type RawRecipe } from './read-recipe';
import { walkSchema, type UnknownKey } from './schema-walk';
import { findSections, RECIPE_SECTIONS, RecipeShapeSchema } from './sections';
import { formatOrigin, formatPath, originOf, type PathSegment } from './source-map';

/** A recipe whose every section passed its provider's schema (defaults filled in). */
export interface ValidatedRecipe extends RawRecipe {
  /** `[path, kind, provider id]` of every plugin-selected section, in recipe order. */
  readonly selections: ReadonlyArray<{ readonly path: string; readonly kind: PluginKind; readonly id: string }>;
}

function where(raw: RawRecipe, segments: readonly PathSegment[]): string {
  return formatOrigin(originOf(raw.origins, segments), raw.file);
}

/** The valid key a typo most likely meant: a small edit away, scaled to the key's length. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const limit = key.length <= 3 ? 1 : key.length <= 8 ? 2 : 3;
  let best: { name: string; distance: number } | undefined;
  for (const name of known) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, name);
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function describeUnknown(raw: RawRecipe, unknown: UnknownKey): string {
  const key = String(unknown.segments[unknown.segments.length - 1]);
  const close = closestKey(key, unknown.known);
  const shown =
    unknown.known.length > 12
      ? `${unknown.known.slice(0, 12).join(', ')} and ${unknown.known.length - 12} more (mmft schema lists them)`
      : unknown.known.join(', ');
  const advice =
    close !== undefined ? `did you mean "${close}"?` : unknown.known.length > 0 ? `valid keys: ${shown}` : 'no keys are allowed here';
  return `${formatPath(unknown.segments)}: unknown key; ${advice} (${where(raw, unknown.segments)})`;
}

// Long values (a whole section) make the message unreadable; the file:line says where to look.
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeIssues(
  raw: RawRecipe,
  prefix: readonly PathSegment[],
  issues: readonly z.core.$ZodIssue[],
  reported: ReadonlySet<string>,
): string[] {
  return issues.flatMap((issue) => {
    const full = [...prefix, ...(issue.path as PathSegment[])];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys
        .map((key) => [...full, key])
        .filter((segments) => !reported.has(formatPath(segments)))
        .map((segments) => `${formatPath(segments)}: unknown key (${where(raw, segments)})`);
    }
    const input = (issue as { input?: unknown }).input;
    const got = input === undefined ? '' : `, got ${shortJson(input)}`;
    // zod says "Invalid input: expected number, received string"; users read "expected number, got "8x"".
    const what =
      issue.code === 'invalid_type'
        ? input === undefined
          ? `required ${issue.expected} is missing`
          : `expected ${issue.expected}`
        : issue.message;
    return [`${formatPath(full) || '(recipe)'}: ${what}${got} (${where(raw, full)})`];
  });
}

/**
 * Problems of `value` (at `prefix`) under `schema`: unknown keys first-hand, then zod's issues.
 * `selector` is the section's discriminator key (type/method), valid beside the schema's own keys.
 */
function check(
  raw: RawRecipe,
  schema: z.ZodType,
  value: unknown,
  prefix: readonly PathSegment[],
  selector?: string,
): { problems: string[]; data?: unknown } {
  const unknown = walkSchema(schema, value, prefix).unknownKeys.map((u) =>
    selector !== undefined && u.segments.length === prefix.length + 1 ? { ...u, known: [selector, ...u.known] } : u,
  );
  const problems = unknown.map((u) => describeUnknown(raw, u));
  const parsed = schema.safeParse(value, { reportInput: true });
  if (!parsed.success)
    problems.push(...describeIssues(raw, prefix, parsed.error.issues, new Set(unknown.map((u) => formatPath(u.segments)))));
  return parsed.success ? { problems, data: parsed.data } : { problems };
}

/**
 * Validate a raw recipe against the loaded providers; throws one E_RECIPE listing every problem.
 *
 * @example
 * const recipe = validateRecipe(readRecipe('recipe.yaml'), registry);
 */
export function validateRecipe(raw: RawRecipe, resolver: ProviderResolver): ValidatedRecipe {
  const problems = check(raw, RecipeShapeSchema, raw.value, []).problems;
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
      const result = check(raw, schema, settings, segments, spec.key);
      problems.push(...result.problems);
      if (result.problems.length > 0) continue;
      const resolved = resolvePathFields(schema, result.data, segments, raw.origins, raw.baseDir) as Record<string, unknown>;
      replaceAt(value, segments, { [spec.key]: id, ...resolved });
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
