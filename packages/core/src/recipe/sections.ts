// The recipe's top-level shape and which plugin kind each section selects. A section names its
// provider with `type` (PEFT sections with `method`, as PEFT users say "peft method"); the rest of
// the section is validated by that provider's own schema.
import { z } from 'zod';
import type { PluginKind } from '../contracts/provider';
import { recipePath } from './paths';
import type { PathSegment } from './source-map';

/** A section selected by one discriminator key; other keys belong to the provider's schema. */
const section = (key: 'type' | 'method', what: string) =>
  z.looseObject({ [key]: z.string().describe(`id of the ${what} plugin provider, e.g. as listed by \`mmft plugins\``) });

/** Top-level recipe keys. Unknown keys are errors (a typo must not silently do nothing). */
export const RecipeShapeSchema = z.strictObject({
  extends: z.union([z.string(), z.array(z.string())]).optional().describe('recipe file(s) this one builds on, relative to this file'),
  name: z.string().optional().describe('a name for the run, used in reports'),
  description: z.string().optional().describe('free text shown in reports'),
  plugins: z
    .array(z.string())
    .optional()
    .describe('plugin packages (npm names, or explicit ./paths relative to the file that lists them) this recipe needs'),
  seed: z.number().int().optional().describe('seed for initialisation, shuffling and dropout'),
  output_dir: recipePath(z.string()).optional().describe('where checkpoints and reports go, relative to the recipe file that sets it'),
  backend: section('type', 'backend').optional().describe('tensor engine selection'),
  model: section('type', 'architecture').optional().describe('the model: architecture and checkpoint'),
  data: z
    .strictObject({
      train: section('type', 'dataset').optional().describe('training data'),
      eval: section('type', 'dataset').optional().describe('evaluation data'),
    })
    .optional()
    .describe('datasets by split'),
  peft: section('method', 'PEFT method').optional().describe('parameter-efficient method; absent means full fine-tuning'),
  loss: section('type', 'loss').optional().describe('training objective'),
  metrics: z.array(section('type', 'metric')).optional().describe('metrics computed at evaluation'),
  train: section('type', 'trainer').optional().describe('the trainer and its settings (lr, steps, schedule...)'),
  export: section('type', 'exporter').optional().describe('export after training (e.g. onnx)'),
});

/** Where a plugin-selected section lives; `'*'` stands for every index of a list. */
export interface SectionSpec {
  readonly path: readonly (string | '*')[];
  readonly kind: PluginKind;
  readonly key: 'type' | 'method';
}

export const RECIPE_SECTIONS: readonly SectionSpec[] = [
  { path: ['backend'], kind: 'backend', key: 'type' },
  { path: ['model'], kind: 'architecture', key: 'type' },
  { path: ['data', 'train'], kind: 'dataset', key: 'type' },
  { path: ['data', 'eval'], kind: 'dataset', key: 'type' },
  { path: ['peft'], kind: 'peft', key: 'method' },
  { path: ['loss'], kind: 'loss', key: 'type' },
  { path: ['metrics', '*'], kind: 'metric', key: 'type' },
  { path: ['train'], kind: 'trainer', key: 'type' },
  { path: ['export'], kind: 'exporter', key: 'type' },
];

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
  return found.filter((entry): entry is [PathSegment[], Record<string, unknown>] => typeof entry[1] === 'object' && entry[1] !== null && !Array.isArray(entry[1]));
}
