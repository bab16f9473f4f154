// Loads plugin packages named by a recipe or the CLI — never by scanning node_modules. A package
// name resolves from the given folders (recipe folder, cwd, the CLI's own dependencies); a local
// path only when the user wrote one explicitly. Mirrors vitest/ESLint: a missing default export
// is a clear error with its cause.
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MmftError } from '../errors';

/** True for `./x`, `../x` and absolute paths: what a user writes to mean a file, not a package. */
export function isExplicitPath(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..' || path.isAbsolute(specifier);
}

const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** Where to look for a plugin and how to name it in messages. */
export interface PluginLookup {
  /** Folders to resolve package names from, in order. */
  readonly searchFrom: readonly string[];
  /** Folder explicit relative paths resolve against (the recipe's folder). */
  readonly baseDir: string;
}

/** Resolve a specifier to a file path, or throw E_PLUGIN_LOAD listing where it looked. */
export function resolvePluginPath(specifier: string, lookup: PluginLookup): string {
  if (isExplicitPath(specifier)) {
    const target = path.resolve(lookup.baseDir, specifier);
    try {
      return require.resolve(target);
    } catch (cause) {
      throw new MmftError('E_PLUGIN_LOAD', `cannot load plugin from path ${target}: no package or file there`, { cause });
    }
  }
  if (!PACKAGE_NAME.test(specifier)) {
    throw new MmftError('E_PLUGIN_LOAD', `"${specifier}" is neither an npm package name nor an explicit path (./ or /)`);
  }
  try {
    return require.resolve(specifier, { paths: [...lookup.searchFrom] });
  } catch (cause) {
    throw new MmftError('E_PLUGIN_LOAD', `cannot find plugin package "${specifier}" (looked from ${lookup.searchFrom.join(', ')})`, {
      cause,
      hint: `install it next to your recipe (npm install ${specifier}) or fix the name in the plugins list`,
    });
  }
}

/** Load the module and return its default export (CommonJS `module.exports`/`exports.default`, or ESM default). */
export async function loadPluginExport(specifier: string, lookup: PluginLookup): Promise<{ value: unknown; file: string }> {
  const file = resolvePluginPath(specifier, lookup);
  let moduleValue: unknown;
  try {
    moduleValue = require(file);
  } catch (cause) {
    if ((cause as { code?: string }).code !== 'ERR_REQUIRE_ESM') {
      throw new MmftError('E_PLUGIN_LOAD', `plugin "${specifier}" failed while loading ${file}: ${String(cause)}`, { cause });
    }
    moduleValue = await import(pathToFileURL(file).href);
  }
  const value = (moduleValue as { default?: unknown } | null)?.default ?? moduleValue;
  if (value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0)) {
    throw new MmftError('E_PLUGIN_LOAD', `plugin "${specifier}" (${file}) has no default export`, {
      hint: 'export the plugin object as the default export: `export default plugin`',
    });
  }
  return { value, file };
}
