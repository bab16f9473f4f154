// JSON Schema of recipes for editors (YAML language server, VS Code): the top-level shape with
// each plugin-selected section as a choice among the loaded providers' own schemas.
import { z } from 'zod';
import type { ProviderResolver } from '../contracts/trainer';
import { RECIPE_SECTIONS, RecipeShapeSchema } from './sections';

/** Build the JSON Schema for recipes using the providers loaded in `resolver`. */
export function recipeJsonSchema(resolver: ProviderResolver): Record<string, unknown> {
  const choice = (spec: (typeof RECIPE_SECTIONS)[number]) => {
    const options = resolver.list(spec.kind).map((provider) =>
      z.toJSONSchema(
        z.object({ [spec.key]: z.literal(provider.id).describe(provider.description) }).and(provider.configSchema as z.ZodType),
        { unrepresentable: 'any', io: 'input' },
      ),
    );
    return options.length > 0 ? { anyOf: options } : { type: 'object' };
  };
  const properties: Record<string, unknown> = {};
  for (const spec of RECIPE_SECTIONS) {
    const schema = choice(spec);
    if (spec.path.length === 1) properties[spec.path[0]!] = schema;
    else if (spec.path[1] === '*') properties[spec.path[0]!] = { type: 'array', items: schema };
    else {
      const parent = (properties[spec.path[0]!] ??= { type: 'object', properties: {} }) as { properties: Record<string, unknown> };
      parent.properties[spec.path[1]!] = schema;
    }
  }
  const shape = z.toJSONSchema(RecipeShapeSchema, { unrepresentable: 'any' }) as { properties: Record<string, unknown> };
  return { ...shape, title: 'mmft recipe', properties: { ...shape.properties, ...properties } };
}
