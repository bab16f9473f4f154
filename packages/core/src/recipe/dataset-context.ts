// The DatasetContext every caller that opens a recipe's dataset hands the provider: besides the
// base folder it can open nested dataset sections (a `mix` provider's sources) exactly as the
// recipe's own `data.*` sections are opened by validate-recipe.ts: provider by `type`, strict schema,
// path fields resolved. Nested sections are only seen here, so their paths resolve from `baseDir`.
import type { z } from 'zod';
import type { Dataset, DatasetContext } from '../contracts/dataset';
import type { ProviderResolver } from '../contracts/resolver';
import { parseConfig } from '../config';
import { isMmftError, MmftError } from '../errors';
import { resolvePathFields } from './read-recipe';
import { walkSchema } from './schema-walk';
import { formatPath } from './source-map';
import { closestKey } from './validate-recipe';

/**
 * A dataset context whose `open` resolves nested sections through `resolver`.
 *
 * @example
 * const dataset = await registry.resolve('dataset', type).open(settings, datasetContext(registry, recipe.baseDir, 'data.eval'));
 */
export function datasetContext(resolver: ProviderResolver, baseDir: string, where?: string): DatasetContext {
  return {
    baseDir,
    ...(where === undefined ? {} : { where }),
    open: (section, at) => openSection(resolver, datasetContext(resolver, baseDir, at), section, at),
  };
}

async function openSection(
  resolver: ProviderResolver,
  context: DatasetContext,
  section: Record<string, unknown>,
  where: string,
): Promise<Dataset> {
  const { type, ...settings } = section;
  if (typeof type !== 'string' || type.length === 0) {
    throw new MmftError('E_RECIPE', `${where}.type: required dataset provider id is missing`, {
      hint: 'name the provider of this dataset, e.g. type: jsonl (mmft plugins lists them)',
    });
  }
  let provider;
  try {
    provider = resolver.resolve('dataset', type);
  } catch (error) {
    if (!isMmftError(error)) throw error;
    throw new MmftError('E_RECIPE', `${where}.type: ${error.message}`, { cause: error, hint: error.hint });
  }
  const schema = provider.configSchema as z.ZodType;
  // The same strictness as the recipe's own sections: a misspelt key must not silently do nothing.
  const unknown = walkSchema(schema, settings, []).unknownKeys;
  if (unknown.length > 0) {
    const problems = unknown.map((u) => {
      const key = String(u.segments[u.segments.length - 1]);
      const close = closestKey(key, ['type', ...u.known]);
      return `${where}.${formatPath(u.segments)}: unknown key${close === undefined ? `; valid keys: type, ${u.known.join(', ')}` : `; did you mean "${close}"?`}`;
    });
    throw new MmftError('E_RECIPE', problems.join('\n  '), { hint: `mmft schema lists the fields of dataset "${type}"` });
  }
  const parsed = parseConfig(provider, settings, `${where} (dataset "${type}")`);
  const resolved = resolvePathFields(schema, parsed, [], new Map(), context.baseDir);
  return provider.open(resolved, context);
}
