// Checks that a loaded module's default export is a valid plugin manifest, with messages that
// say which package is wrong and how to fix it (docs/conventions.md §6).
import type { MmftPlugin } from '../contracts/plugin';
import { PLUGIN_KINDS } from '../contracts/kind-specs';
import { MmftError } from '../errors';
import { isKebabId } from './names';

function fail(source: string, problem: string): never {
  throw new MmftError('E_PLUGIN_INVALID', `plugin ${source}: ${problem}`, {
    hint: 'a plugin default-exports { meta: { name, version }, provides: [...], register(container) }',
  });
}

/** Returns the value typed as a plugin, or throws naming the first problem found. */
export function validateManifest(value: unknown, source: string): MmftPlugin {
  if (typeof value !== 'object' || value === null)
    fail(source, `default export is ${value === null ? 'null' : typeof value}, not a plugin object`);
  const candidate = value as Partial<MmftPlugin>;
  const meta = candidate.meta;
  if (!meta || typeof meta.name !== 'string' || meta.name.length === 0) fail(source, 'meta.name must be the package name');
  if (typeof meta.version !== 'string' || meta.version.length === 0) fail(source, 'meta.version must be a version string');
  if (typeof candidate.register !== 'function') fail(source, 'register must be a function (container) => void');
  if (!Array.isArray(candidate.provides)) fail(source, 'provides must be an array of providers');
  // A plugin that provides nothing would load (and run its code) for no visible effect.
  if (candidate.provides.length === 0) fail(source, 'provides nothing; list its providers in provides');
  const seen = new Set<string>();
  for (const [index, provider] of candidate.provides.entries()) {
    const where = `provides[${index}]`;
    if (typeof provider !== 'object' || provider === null) fail(source, `${where} is not an object`);
    if (!PLUGIN_KINDS.includes(provider.kind)) {
      fail(source, `${where}.kind "${String(provider.kind)}" is unknown; kinds: ${PLUGIN_KINDS.join(', ')}`);
    }
    if (typeof provider.id !== 'string' || !isKebabId(provider.id)) {
      fail(source, `${where}.id "${String(provider.id)}" must be lowercase kebab-case (e.g. "peft-lora", "clip")`);
    }
    if (!provider.configSchema || typeof (provider.configSchema as { safeParse?: unknown }).safeParse !== 'function') {
      fail(source, `${where} (${provider.kind} "${provider.id}") has no zod configSchema`);
    }
    const key = `${provider.kind}:${provider.id}`;
    if (seen.has(key)) fail(source, `${where} repeats ${provider.kind} "${provider.id}"`);
    seen.add(key);
  }
  return candidate as MmftPlugin;
}
