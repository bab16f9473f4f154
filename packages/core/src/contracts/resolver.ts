// How code that runs a recipe (trainer, objective, recipe validation, the CLI) finds the
// providers it names: by kind and id, with the registry (registry/plugin-registry.ts) behind it.
import type { PluginKind, ProviderOf } from './kinds';

/** Resolves providers by kind and id; an unknown id fails with the list of available ones. */
export interface ProviderResolver {
  resolve<K extends PluginKind>(kind: K, id: string): ProviderOf<K>;
  list<K extends PluginKind>(kind: K): ReadonlyArray<ProviderOf<K>>;
}
