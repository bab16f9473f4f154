// The plugin registry of one run: validates manifests, refuses duplicate ids (naming both
// packages), registers providers in a child container so two runs in one process share nothing,
// and resolves providers by kind + id. Follows PEFT's tuner mapping rules (refuse bad names and
// duplicates, say how to fix) on top of tsyringe multi-registration.
import type { DependencyContainer, InjectionToken } from 'tsyringe';
import { KIND_TOKENS, PLUGIN_KINDS } from '../contracts/kind-specs';
import type { PluginKind, ProviderOf } from '../contracts/kinds';
import type { MmftPlugin } from '../contracts/plugin';
import type { ProviderResolver } from '../contracts/resolver';
import { MmftError } from '../errors';
import type { ArchitectureProvider } from '../contracts/architecture';
import { resolveModelType, type ResolveModelTypeOptions } from './model-types';
import { closestNames, isKebabId } from './names';
import { validateManifest } from './validate-manifest';

// tsyringe needs the Reflect metadata polyfill before it loads; loading both here, lazily, means
// importing @mmft/core (in a worker, a script, a plugin) needs no special first import.
function rootContainer(): DependencyContainer {
  require('reflect-metadata');
  return (require('tsyringe') as typeof import('tsyringe')).container;
}

/** A plugin the registry accepted, with where it was loaded from. */
export interface LoadedPlugin {
  readonly plugin: MmftPlugin;
  /** Package name or explicit path the plugin was loaded from. */
  readonly source: string;
}

/**
 * Providers of one run.
 *
 * @example
 * const registry = new PluginRegistry();
 * registry.use(metricsPlugin, '@mmft/metric-caption');
 * const cider = registry.resolve('metric', 'caption');
 */
export class PluginRegistry implements ProviderResolver {
  readonly container: DependencyContainer;
  private readonly loaded: LoadedPlugin[] = [];
  private readonly owners = new Map<string, string>();

  constructor(parent?: DependencyContainer) {
    this.container = (parent ?? rootContainer()).createChildContainer();
  }

  /** Accept a plugin: validate its manifest, check ids against loaded plugins, register. */
  use(candidate: unknown, source: string): MmftPlugin {
    const plugin = validateManifest(candidate, source);
    if (this.loaded.some((l) => l.plugin.meta.name === plugin.meta.name)) return plugin;
    for (const provider of plugin.provides) {
      const key = `${provider.kind}:${provider.id}`;
      const owner = this.owners.get(key);
      if (owner !== undefined) {
        throw new MmftError(
          'E_PLUGIN_DUPLICATE',
          `${provider.kind} "${provider.id}" is provided by both ${owner} and ${plugin.meta.name}`,
          { hint: `load only one of them in the recipe's plugins list` },
        );
      }
    }
    const before = new Map(PLUGIN_KINDS.map((kind) => [kind, this.registered(kind).length]));
    try {
      plugin.register(this.container);
    } catch (cause) {
      throw new MmftError('E_PLUGIN_INVALID', `plugin ${plugin.meta.name} failed in register(): ${String(cause)}`, { cause });
    }
    this.checkRegisteredMatchesManifest(plugin, before);
    for (const provider of plugin.provides) this.owners.set(`${provider.kind}:${provider.id}`, plugin.meta.name);
    this.loaded.push({ plugin, source });
    return plugin;
  }

  /** The provider of `kind` with `id`; an unknown id lists the available ones. */
  resolve<K extends PluginKind>(kind: K, id: string): ProviderOf<K> {
    if (!PLUGIN_KINDS.includes(kind)) {
      throw new MmftError('E_UNKNOWN_ID', `unknown plugin kind "${kind}"; kinds: ${PLUGIN_KINDS.join(', ')}`);
    }
    const providers = this.list(kind);
    const found = providers.find((p) => p.id === id);
    if (found) return found;
    const ids = providers.map((p) => p.id);
    const available = ids.length > 0 ? ids.join(', ') : '(none loaded)';
    const close = isKebabId(id) ? closestNames(id, ids, 1).filter((c) => c !== id) : [];
    throw new MmftError('E_UNKNOWN_ID', `no plugin provides ${kind} "${id}"; available: ${available}`, {
      hint: close.length > 0 ? `did you mean "${close[0]}"?` : `add the plugin package that provides it to the recipe's plugins list`,
    });
  }

  /** The architecture that builds config.json `model_type`; an unknown type lists the known ones. */
  resolveModelType(modelType: string, options?: ResolveModelTypeOptions): ArchitectureProvider {
    return resolveModelType(this.list('architecture'), modelType, options);
  }

  list<K extends PluginKind>(kind: K): ReadonlyArray<ProviderOf<K>> {
    return this.registered(kind) as ReadonlyArray<ProviderOf<K>>;
  }

  /** Plugins in load order. */
  plugins(): readonly LoadedPlugin[] {
    return this.loaded;
  }

  /** Which package provides `kind:id`. */
  ownerOf(kind: PluginKind, id: string): string | undefined {
    return this.owners.get(`${kind}:${id}`);
  }

  private registered(kind: PluginKind): ReadonlyArray<ProviderOf<PluginKind>> {
    const token = KIND_TOKENS[kind] as InjectionToken<ProviderOf<PluginKind>>;
    return this.container.isRegistered(token, true) ? this.container.resolveAll(token) : [];
  }

  // A manifest that lies (declares what it never registers, or registers what it never declares)
  // would make `mmft plugins` and duplicate detection wrong: refuse it.
  private checkRegisteredMatchesManifest(plugin: MmftPlugin, before: Map<PluginKind, number>): void {
    for (const kind of PLUGIN_KINDS) {
      const added = this.registered(kind).slice(before.get(kind) ?? 0);
      const declared = plugin.provides
        .filter((p) => p.kind === kind)
        .map((p) => p.id)
        .sort();
      const actual = added.map((p) => p.id).sort();
      if (declared.join(',') !== actual.join(',')) {
        throw new MmftError(
          'E_PLUGIN_INVALID',
          `plugin ${plugin.meta.name} declares ${kind} [${declared.join(', ')}] but registered [${actual.join(', ')}]`,
          { hint: 'register exactly the providers listed in `provides` (registerProviders(container, provides))' },
        );
      }
    }
  }
}
