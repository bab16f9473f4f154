// Loads plugin packages named by a recipe or the CLI — never by scanning node_modules. A package
// name resolves from the given folders (recipe folder, cwd, the CLI's own dependencies); a local
// path only when the user wrote one explicitly, and only to a package folder or a JavaScript file.
// Mirrors vitest/ESLint: a missing default export is a clear error with its cause; every error
// names where the plugin was listed (recipe file:line, --plugin).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMmftError, MmftError } from '../errors';
import type { PluginRegistry } from './plugin-registry';

/** True for `./x`, `../x` and absolute paths: what a user writes to mean a file, not a package. */
export function isExplicitPath(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || specifier === '..' || path.isAbsolute(specifier);
}

const PACKAGE_NAME = /^(?:@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;
const MODULE_FILE = /\.(?:c|m)?js$/;

/** Where to look for a plugin and how to name it in messages. */
export interface PluginLookup {
  /** Folders to resolve package names from, in order. */
  readonly searchFrom: readonly string[];
  /** Folder explicit relative paths resolve against (the folder of the file that lists them). */
  readonly baseDir: string;
  /** Where the specifier was written (`recipe.yaml:4`, `--plugin`); named in every error. */
  readonly origin?: string;
  /** The recipe's project (findProjectRoot): an explicit path outside it is announced. */
  readonly projectRoot?: string;
  /** Receives notes such as "loads code from outside the project". */
  readonly notice?: (message: string) => void;
}

/** A plugin to load and where it was asked for: a recipe's `plugins:` entry, or `--plugin`. */
export interface PluginRequest {
  readonly specifier: string;
  /** `recipe.yaml:4` or `--plugin`: named in load errors. */
  readonly origin?: string;
  /** Folder an explicit relative path resolves from, when not the caller's default. */
  readonly baseDir?: string;
}

/**
 * The project a folder belongs to: the nearest folder at or above it holding `.git`, else the
 * nearest holding package.json, else the folder itself. `stop` bounds the search (tests).
 */
export function findProjectRoot(dir: string, stop?: string): string {
  let withPackage: string | undefined;
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    if (fs.existsSync(path.join(current, '.git'))) return current;
    if (withPackage === undefined && fs.existsSync(path.join(current, 'package.json'))) withPackage = current;
    if (current === path.dirname(current) || (stop !== undefined && current === path.resolve(stop))) break;
  }
  return withPackage ?? path.resolve(dir);
}

const named = (specifier: string, lookup: PluginLookup) => `plugin "${specifier}"${lookup.origin ? ` (${lookup.origin})` : ''}`;

function isInside(file: string, folder: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

// An explicit path must be a package folder or a JavaScript file: anything else (a config file,
// /etc/passwd) would only fail inside require with a confusing syntax error, after reading it.
function resolveExplicit(specifier: string, lookup: PluginLookup): string {
  const target = path.resolve(lookup.baseDir, specifier);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch (cause) {
    throw new MmftError('E_PLUGIN_LOAD', `${named(specifier, lookup)}: nothing at ${target}`, {
      cause,
      hint: 'explicit paths resolve from the folder of the recipe file that lists them',
    });
  }
  const isPackage = stat.isDirectory() && fs.existsSync(path.join(target, 'package.json'));
  if (!isPackage && !(stat.isFile() && MODULE_FILE.test(target))) {
    throw new MmftError(
      'E_PLUGIN_LOAD',
      `${named(specifier, lookup)} is ${target}, which is neither a package folder (package.json) nor a .js/.cjs/.mjs file`,
    );
  }
  let file: string;
  try {
    file = require.resolve(target);
  } catch (cause) {
    throw new MmftError(
      'E_PLUGIN_LOAD',
      `${named(specifier, lookup)}: the package at ${target} has no entry point (package.json main/exports)`,
      { cause },
    );
  }
  if (lookup.projectRoot !== undefined && !isInside(target, lookup.projectRoot)) {
    lookup.notice?.(`${named(specifier, lookup)} loads ${target}, outside the project ${lookup.projectRoot}`);
  }
  return file;
}

/** Resolve a specifier to a file path, or throw E_PLUGIN_LOAD listing where it looked. */
export function resolvePluginPath(specifier: string, lookup: PluginLookup): string {
  if (isExplicitPath(specifier)) return resolveExplicit(specifier, lookup);
  if (!PACKAGE_NAME.test(specifier)) {
    throw new MmftError('E_PLUGIN_LOAD', `${named(specifier, lookup)} is neither an npm package name nor an explicit path (./ or /)`);
  }
  try {
    return require.resolve(specifier, { paths: [...lookup.searchFrom] });
  } catch (cause) {
    throw new MmftError(
      'E_PLUGIN_LOAD',
      `cannot find plugin package "${specifier}"${lookup.origin ? ` (${lookup.origin})` : ''} (looked from ${lookup.searchFrom.join(', ')})`,
      {
        cause,
        hint: `install it next to your recipe (npm install ${specifier}) or fix the name in the plugins list`,
      },
    );
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
      throw new MmftError('E_PLUGIN_LOAD', `${named(specifier, lookup)} failed while loading ${file}: ${String(cause)}`, { cause });
    }
    moduleValue = await import(pathToFileURL(file).href);
  }
  const value = (moduleValue as { default?: unknown } | null)?.default ?? moduleValue;
  if (value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0)) {
    throw new MmftError('E_PLUGIN_LOAD', `${named(specifier, lookup)} (${file}) has no default export`, {
      hint: 'export the plugin object as the default export: `export default plugin`',
    });
  }
  return { value, file };
}

/**
 * Load a plugin and hand it to `registry`. Errors of the registry (invalid manifest, duplicate
 * ids) name where the plugin was listed too.
 *
 * @example
 * await loadPluginInto(registry, './my-plugin', { searchFrom: [dir], baseDir: dir, origin: 'recipe.yaml:3' });
 */
export async function loadPluginInto(registry: PluginRegistry, specifier: string, lookup: PluginLookup): Promise<void> {
  const { value } = await loadPluginExport(specifier, lookup);
  try {
    registry.use(value, specifier);
  } catch (error) {
    if (!isMmftError(error) || lookup.origin === undefined) throw error;
    throw new MmftError(error.code, `${error.message} (${lookup.origin})`, { cause: error.cause, hint: error.hint });
  }
}
