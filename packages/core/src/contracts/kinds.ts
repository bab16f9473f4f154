// Maps each plugin kind to its provider type, so `resolve('metric', id)` is typed. Empty here:
// each contract file adds its kind by module augmentation (as vitest and tRPC let plugins extend
// their types), so this file imports nothing and no contract imports it back in a cycle.
//
// A contract file adds its kind with:
//   declare module './kinds' { interface ProviderKindMap { metric: MetricProvider } }
// and one row in KIND_SPECS (kind-specs.ts); docs/architecture.md "Adding a plugin kind".

export interface ProviderKindMap {}

/** A plugin kind ("metric", "peft"...): a key of `ProviderKindMap`. */
export type PluginKind = keyof ProviderKindMap & string;
export type ProviderOf<K extends PluginKind> = ProviderKindMap[K];
export type AnyProvider = ProviderKindMap[PluginKind];
