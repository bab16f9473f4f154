// JSON Schema of recipes for editors (YAML language server, VS Code): the top-level shape with
// each plugin-selected section as a choice among the loaded providers' own schemas. It accepts
// and refuses what validateRecipe does: `type`/`method` belongs to every choice, and mappings are
// strict unless a plugin declared them loose (as validateRecipe treats them, schema-walk.ts).
import { z } from 'zod';
import type { ProviderResolver } from '../contracts/trainer';
import { RECIPE_SECTIONS, RecipeShapeSchema, type SectionSpec } from './sections';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

// zod leaves `additionalProperties` out for plain z.object in input mode (extra keys are stripped
// there); validateRecipe refuses them, so the editor must too. Loose objects say `{}` and stay open.
function strictify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictify);
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node))
    out[key] = key === 'default' || key === 'const' || key === 'examples' ? value : strictify(value);
  if (out.type === 'object' && isObject(out.properties) && !('additionalProperties' in out)) out.additionalProperties = false;
  return out;
}

function inputSchema(schema: z.ZodType): Json {
  const { $schema: _drop, ...json } = strictify(z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' })) as Json;
  return json;
}

/** One provider's section: its own schema with the selecting key (`type: <id>`) added and required. */
function providerOption(spec: SectionSpec, id: string, description: string, schema: z.ZodType): Json {
  const json = inputSchema(schema);
  const selector = { const: id, description };
  if (json.type === 'object' && isObject(json.properties)) {
    return {
      ...json,
      properties: { [spec.key]: selector, ...json.properties },
      required: [spec.key, ...((json.required as string[] | undefined) ?? [])],
    };
  }
  return { allOf: [{ type: 'object', properties: { [spec.key]: selector }, required: [spec.key] }, json] };
}

// A recipe that extends another may leave out `type` and set only some keys: accept any key some
// provider of the kind knows (a typo is still refused), with that provider's value schema.
function partialOption(spec: SectionSpec, options: readonly Json[]): Json {
  const byKey = new Map<string, Map<string, unknown>>();
  for (const option of options) {
    for (const [key, value] of Object.entries((option.properties as Json | undefined) ?? {})) {
      if (key === spec.key) continue;
      const variants = byKey.get(key) ?? new Map<string, unknown>();
      variants.set(JSON.stringify(value), value);
      byKey.set(key, variants);
    }
  }
  const properties = Object.fromEntries(
    [...byKey].map(([key, variants]) => [key, variants.size === 1 ? [...variants.values()][0] : { anyOf: [...variants.values()] }]),
  );
  return { type: 'object', not: { required: [spec.key] }, properties, additionalProperties: false };
}

/** Build the JSON Schema for recipes using the providers loaded in `resolver`. */
export function recipeJsonSchema(resolver: ProviderResolver): Record<string, unknown> {
  const shape = inputSchema(RecipeShapeSchema) as Json & { properties: Json };
  const properties: Json = { ...shape.properties };
  // Without `extends`, every section must name its provider (validateRecipe requires it).
  const selectorRequired: Json = {};
  for (const spec of RECIPE_SECTIONS) {
    const options = resolver
      .list(spec.kind)
      .map((provider) => providerOption(spec, provider.id, provider.description, provider.configSchema as z.ZodType));
    const description = (properties[spec.path[0]!] as Json | undefined)?.description;
    const choice: Json = options.length > 0 ? { anyOf: [...options, partialOption(spec, options)] } : { type: 'object' };
    const required = { type: 'object', required: [spec.key] };
    if (spec.path.length === 1) {
      properties[spec.path[0]!] = { ...choice, description };
      selectorRequired[spec.path[0]!] = required;
    } else if (spec.path[1] === '*') {
      properties[spec.path[0]!] = { type: 'array', items: choice, description };
      selectorRequired[spec.path[0]!] = { type: 'array', items: required };
    } else {
      const parent = properties[spec.path[0]!] as Json & { properties: Json };
      parent.properties[spec.path[1]!] = { ...choice, description: (parent.properties[spec.path[1]!] as Json | undefined)?.description };
      const inner = (selectorRequired[spec.path[0]!] ??= { type: 'object', properties: {} }) as { properties: Json };
      inner.properties[spec.path[1]!] = required;
    }
  }
  // Through JSON so that no `undefined` (a section without a description) reaches a validator.
  return JSON.parse(
    JSON.stringify({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      ...shape,
      title: 'mmft recipe',
      properties,
      if: { required: ['extends'] },
      else: { properties: selectorRequired },
    }),
  ) as Record<string, unknown>;
}
