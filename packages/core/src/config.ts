// The one way mmft parses a config object (a recipe section, a plugin's options, an
// adapter_config.json) with its zod schema: a failure is an E_CONFIG MmftError naming where the
// config came from and each offending field, never a raw ZodError. Follows PEFT's
// `PeftConfig.from_pretrained` habit of validating on load and naming the bad key.
import type { z } from 'zod';
import type { ProviderBase } from './contracts/provider';
import { MmftError } from './errors';
import { walkSchema } from './recipe/schema-walk';
import { formatPath, type PathSegment } from './recipe/source-map';
import { closestKey } from './recipe/validate-recipe';

/** A zod schema, or a provider whose `configSchema` parses the config. */
export type ConfigSource<Out> = z.ZodType<Out, unknown> | Pick<ProviderBase<Out>, 'kind' | 'id' | 'configSchema'>;

export interface ParseConfigOptions {
  /** Advice printed after the message; the default points at `mmft schema`. */
  readonly hint?: string;
}

const isProvider = <Out>(source: ConfigSource<Out>): source is Pick<ProviderBase<Out>, 'kind' | 'id' | 'configSchema'> =>
  typeof (source as { configSchema?: unknown }).configSchema === 'object';

// Long values (a whole section) make the message unreadable; the field name says where to look.
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, value: unknown): string[] {
  const path = issue.path as PathSegment[];
  if (issue.code === 'unrecognized_keys') {
    const known = new Map(walkSchema(schema, value).unknownKeys.map((u) => [formatPath(u.segments), u.known]));
    return issue.keys.map((key) => {
      const field = formatPath([...path, key]);
      const close = closestKey(key, known.get(field) ?? []);
      return `unknown field "${field}"${close === undefined ? '' : `; did you mean "${close}"?`}`;
    });
  }
  const input = (issue as { input?: unknown }).input;
  const what =
    issue.code === 'invalid_type'
      ? input === undefined
        ? `required ${issue.expected} is missing`
        : `expected ${issue.expected}, got ${shortJson(input)}`
      : issue.message;
  return [path.length === 0 ? what : `field "${formatPath(path)}": ${what}`];
}

/**
 * Parse `raw` with a schema (or a provider's `configSchema`); `undefined` reads as `{}`, so
 * defaults apply. Throws E_CONFIG listing every problem, prefixed by `where` (by default the
 * provider as `kind "id"`).
 *
 * @example
 * const config = parseConfig(loraMethod, { r: 8 });           // defaults filled in
 * parseConfig(loraMethod, { r: 'x' });  // E_CONFIG: peft "lora": field "r": expected number, got "x"
 * parseConfig(schema, json, 'out/adapter_config.json');
 */
export function parseConfig<Out>(source: ConfigSource<Out>, raw: unknown, where?: string, options: ParseConfigOptions = {}): Out {
  const schema = (isProvider(source) ? source.configSchema : source) as z.ZodType<Out>;
  const at = where ?? (isProvider(source) ? `${source.kind} "${source.id}"` : 'config');
  const value = raw === undefined ? {} : raw;
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) => describeIssue(issue, schema, value));
  throw new MmftError('E_CONFIG', `${at}: ${problems.join('; ')}`, {
    cause: parsed.error,
    hint: options.hint ?? 'mmft schema lists the fields each provider accepts',
  });
}
