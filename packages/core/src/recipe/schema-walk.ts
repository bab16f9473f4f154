// Walks a recipe value alongside the zod schema that validates it, for the two checks zod does
// not do by itself: keys a non-strict `z.object` would silently drop (a typo must not do nothing),
// and string fields marked as paths (paths.ts), which resolve from the file that wrote them.
import type { z } from 'zod';
import { isPlainObject } from './merge';
import { isRecipePath } from './paths';
import type { PathSegment } from './source-map';

/** A key the schema does not know, with the keys it does know there. */
export interface UnknownKey {
  readonly segments: readonly PathSegment[];
  readonly known: readonly string[];
}

/** A string value at a field marked with recipePath(). */
export interface PathValue {
  readonly segments: readonly PathSegment[];
  readonly value: string;
}

export interface SchemaWalk {
  readonly unknownKeys: UnknownKey[];
  readonly paths: PathValue[];
}

type Def = { type: string } & Record<string, unknown>;
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

// Wrappers whose inner schema sees the same value.
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional', 'success']);

/**
 * Walk `value` with `schema`. Strip-mode objects (plain `z.object`) are treated as strict; objects
 * declared loose (`z.looseObject`, `.passthrough()`) keep unknown keys on purpose and are not
 * checked. A union is followed into the first option that accepts the value (else zod reports it).
 *
 * @example
 * walkSchema(z.object({ domain: z.string() }), { domian: 'B' }).unknownKeys // [{ segments: ['domian'], known: ['domain'] }]
 */
export function walkSchema(schema: z.ZodType, value: unknown, prefix: readonly PathSegment[] = []): SchemaWalk {
  const result: SchemaWalk = { unknownKeys: [], paths: [] };
  visit(schema, value, [...prefix], result, 0);
  return result;
}

function visit(schema: z.ZodType, value: unknown, at: PathSegment[], out: SchemaWalk, depth: number): void {
  if (depth > 64 || value === undefined) return;
  if (isRecipePath(schema)) {
    if (typeof value === 'string') out.paths.push({ segments: at, value });
    else if (Array.isArray(value))
      value.forEach((item, i) => typeof item === 'string' && out.paths.push({ segments: [...at, i], value: item }));
    return;
  }
  const def = defOf(schema);
  if (WRAPPERS.has(def.type)) return visit(def.innerType as z.ZodType, value, at, out, depth + 1);
  switch (def.type) {
    case 'object': {
      if (!isPlainObject(value)) return;
      const shape = def.shape as Record<string, z.ZodType>;
      const catchall = def.catchall as z.ZodType | undefined;
      const strict = catchall === undefined || defOf(catchall).type === 'never';
      for (const [key, item] of Object.entries(value)) {
        if (shape[key]) visit(shape[key]!, item, [...at, key], out, depth + 1);
        else if (strict) out.unknownKeys.push({ segments: [...at, key], known: Object.keys(shape) });
        else if (catchall) visit(catchall, item, [...at, key], out, depth + 1);
      }
      return;
    }
    case 'array':
      if (Array.isArray(value)) value.forEach((item, i) => visit(def.element as z.ZodType, item, [...at, i], out, depth + 1));
      return;
    case 'tuple':
      if (Array.isArray(value)) {
        const items = def.items as z.ZodType[];
        value.forEach((item, i) => {
          const itemSchema = items[i] ?? (def.rest as z.ZodType | null);
          if (itemSchema) visit(itemSchema, item, [...at, i], out, depth + 1);
        });
      }
      return;
    case 'record':
      if (isPlainObject(value))
        for (const [key, item] of Object.entries(value)) visit(def.valueType as z.ZodType, item, [...at, key], out, depth + 1);
      return;
    case 'union': {
      const option = (def.options as z.ZodType[]).find((o) => o.safeParse(value).success);
      if (option) visit(option, value, at, out, depth + 1);
      return;
    }
    case 'pipe': {
      const input = def.in as z.ZodType;
      return visit(defOf(input).type === 'transform' ? (def.out as z.ZodType) : input, value, at, out, depth + 1);
    }
    case 'lazy':
      return visit((def.getter as () => z.ZodType)(), value, at, out, depth + 1);
    default:
      return;
  }
}
