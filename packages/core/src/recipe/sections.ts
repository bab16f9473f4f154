// The recipe's top-level shape and which plugin kind each section selects. A section names its
// provider with `type` (PEFT sections with `method`, as PEFT users say "peft method"); the rest of
// the section is validated by that provider's own schema.
import { z } from 'zod';
import { KIND_SPECS, type KindSpec } from '../contracts/kind-specs';
import type { PluginKind } from '../contracts/kinds';
import { recipePath } from './paths';
import type { PathSegment } from './source-map';

/** Descriptions of recipe keys that group sections (`data: { train, eval }`). */
const GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = { data: 'datasets by split' };

/** A section selected by one discriminator key; other keys belong to the provider's schema. */
const section = (key: 'type' | 'method', what: string) =>
  z.looseObject({ [key]: z.string().describe(`id of the ${what} plugin provider, e.g. as listed by \`mmft plugins\``) });

// Plugin-selected sections of the recipe shape, built from the kinds table in its order.
function pluginSections(specs: readonly KindSpec[]): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  const groups: Record<string, Record<string, z.ZodType>> = {};
  for (const kind of specs) {
    for (const spec of kind.sections) {
      const [first, second] = spec.path;
      const selected = section(spec.key, kind.label);
      if (second === undefined) shape[first] = selected.optional().describe(spec.description);
      else if (second === '*') shape[first] = z.array(selected).optional().describe(spec.description);
      else {
        if (!groups[first]) {
          groups[first] = {};
          shape[first] = z.undefined(); // placeholder keeps the group at its first section's place
        }
        groups[first]![second] = selected.optional().describe(spec.description);
      }
    }
  }
  for (const [name, fields] of Object.entries(groups))
    shape[name] = z
      .strictObject(fields)
      .optional()
      .describe(GROUP_DESCRIPTIONS[name] ?? name);
  return shape;
}

/** Top-level recipe keys. Unknown keys are errors (a typo must not silently do nothing). */
export const RecipeShapeSchema = z.strictObject({
  extends: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .describe('recipe file(s) this one builds on, relative to this file'),
  name: z.string().optional().describe('a name for the run, used in reports'),
  description: z.string().optional().describe('free text shown in reports'),
  plugins: z
    .array(z.string())
    .optional()
    .describe('plugin packages (npm names, or explicit ./paths relative to the file that lists them) this recipe needs'),
  seed: z.number().int().optional().describe('seed for initialisation, shuffling and dropout'),
  output_dir: recipePath(z.string()).optional().describe('where checkpoints and reports go, relative to the recipe file that sets it'),
  ...pluginSections(KIND_SPECS),
  card: z
    .strictObject({
      license: z
        .string()
        .optional()
        .describe(
          'licence id the model card states (Hugging Face / SPDX id, e.g. apache-2.0); default: the licence all data manifests agree on',
        ),
      language: z.array(z.string()).optional().describe('ISO 639 codes of the languages the model was trained on, for the card metadata'),
      tags: z.array(z.string()).optional().describe('extra card tags besides mmft, the architecture and the PEFT method'),
    })
    .optional()
    .describe('model card metadata (README.md in every saved model or adapter folder; docs/trust.md)'),
  trust: z
    .strictObject({
      incompatible_licenses: z
        .array(z.tuple([z.string(), z.string()]))
        .optional()
        .describe('pairs of licence ids that must not be mixed in one training run: a warning names the data files holding each'),
    })
    .optional()
    .describe('data checks a run makes (docs/trust.md)'),
});

/** Where a plugin-selected section lives; `'*'` stands for every index of a list. */
export interface SectionSpec {
  readonly path: readonly (string | '*')[];
  readonly kind: PluginKind;
  readonly key: 'type' | 'method';
  /** Provider id used when the section is absent (see `sectionOrDefault`). */
  readonly default?: string;
}

/** Every plugin-selected section of a recipe, from the kinds table (contracts/kind-specs.ts). */
export const RECIPE_SECTIONS: readonly SectionSpec[] = KIND_SPECS.flatMap((kind) =>
  kind.sections.map((spec) => ({
    path: spec.path,
    kind: kind.kind,
    key: spec.key,
    ...(spec.default === undefined ? {} : { default: spec.default }),
  })),
);

/**
 * The section at a one-segment `spec.path`, or `{ [key]: default }` when the recipe leaves it out
 * and the kind has a default (an absent `objective:` is the contrastive objective).
 *
 * @example
 * const objective = sectionOrDefault(recipe.value, RECIPE_SECTIONS.find((s) => s.kind === 'objective')!);
 */
export function sectionOrDefault(recipe: Record<string, unknown>, spec: SectionSpec): Record<string, unknown> | undefined {
  const found = findSections(recipe, spec)[0]?.[1];
  if (found !== undefined || spec.default === undefined) return found;
  return { [spec.key]: spec.default };
}

/** Every concrete occurrence of a section spec in a recipe value: [path, section object]. */
export function findSections(recipe: Record<string, unknown>, spec: SectionSpec): Array<[PathSegment[], Record<string, unknown>]> {
  let found: Array<[PathSegment[], unknown]> = [[[], recipe]];
  for (const segment of spec.path) {
    const next: Array<[PathSegment[], unknown]> = [];
    for (const [at, value] of found) {
      if (typeof value !== 'object' || value === null) continue;
      if (segment === '*') {
        if (Array.isArray(value)) value.forEach((item, index) => next.push([[...at, index], item]));
      } else if (!Array.isArray(value) && (value as Record<string, unknown>)[segment] !== undefined) {
        next.push([[...at, segment], (value as Record<string, unknown>)[segment]]);
      }
    }
    found = next;
  }
  return found.filter(
    (entry): entry is [PathSegment[], Record<string, unknown>] =>
      typeof entry[1] === 'object' && entry[1] !== null && !Array.isArray(entry[1]),
  );
}
