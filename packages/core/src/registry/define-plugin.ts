// The manifest boilerplate every plugin's index.ts would otherwise repeat: meta from its
// package.json, the providers, and a `register` that puts each under its kind's token. The result
// is the same pure object docs/conventions.md §5 describes (nothing registers on import), as ESLint's and
// unified's plugins are plain objects.
import type { AnyProvider } from '../contracts/kinds';
import type { MmftPlugin } from '../contracts/plugin';
import { registerProviders } from './register-providers';

export interface PluginDefinition {
  /** The npm package name; read it from package.json so the two cannot drift. */
  readonly name: string;
  /** The package version, from package.json. */
  readonly version: string;
  readonly description?: string;
  readonly provides: readonly AnyProvider[];
}

/**
 * Build a plugin manifest whose `register` registers exactly `provides`.
 *
 * @example
 * const pkg = require('../package.json') as { name: string; version: string };
 * export default definePlugin({ name: pkg.name, version: pkg.version, description: 'LoRA', provides: [loraMethod] });
 */
export function definePlugin(definition: PluginDefinition): MmftPlugin {
  const { provides, ...meta } = definition;
  return { meta, provides, register: (container) => registerProviders(container, provides) };
}
