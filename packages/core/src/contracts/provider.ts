// What every provider (one capability of a plugin, e.g. the "lora" PEFT method) has in common:
// an id, a description and the zod schema of its recipe section (docs/conventions.md §7).
import type { z } from 'zod';
import type { PluginKind } from './kinds';

export { PLUGIN_KINDS } from './kind-specs';
export type { PluginKind } from './kinds';

/**
 * Fields shared by all providers. `Config` is what the schema parses to (zod's output), `Input`
 * what a recipe may write (zod's input: fields with defaults may be left out).
 *
 * @example
 * const provider: ProviderBase = { kind: 'metric', id: 'vqa', description: 'VQA accuracy', configSchema: z.object({}) };
 */
export interface ProviderBase<Config = unknown, Input = unknown> {
  readonly kind: PluginKind;
  /** Lowercase kebab-case, unique per kind across all loaded plugins. */
  readonly id: string;
  readonly description: string;
  /** Schema of this provider's recipe section; every field should carry `.describe(...)`. */
  readonly configSchema: z.ZodType<Config, Input>;
}
