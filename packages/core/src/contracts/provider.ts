// What every provider (one capability of a plugin, e.g. the "lora" PEFT method) has in common:
// an id, a description and the zod schema of its recipe section (STYLE.md §7).
import type { z } from 'zod';

/** The kinds of capability a plugin can provide. Each has one injection token (tokens.ts). */
export const PLUGIN_KINDS = ['architecture', 'backend', 'dataset', 'loss', 'metric', 'peft', 'trainer', 'exporter'] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/**
 * Fields shared by all providers.
 *
 * @example
 * const provider: ProviderBase = { kind: 'metric', id: 'vqa', description: 'VQA accuracy', configSchema: z.object({}) };
 */
export interface ProviderBase<Config = unknown> {
  readonly kind: PluginKind;
  /** Lowercase kebab-case, unique per kind across all loaded plugins. */
  readonly id: string;
  readonly description: string;
  /** Schema of this provider's recipe section; every field should carry `.describe(...)`. */
  readonly configSchema: z.ZodType<Config>;
}
