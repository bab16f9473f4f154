// Side-effect-free probing: is each engine's package installed where Node would find it, and is
// it the tfjs version this process runs? `mmft env` prints this; select() then loads in order.
import * as path from 'node:path';
import { version_core } from '@tensorflow/tfjs-core';
import type { BackendProbe } from '@mmft/core';
import { ENGINE_NAMES, type EngineName } from './config';
import { ENGINES, type ResolvedPackage } from './engines';

/** A probe plus, when installed, where the package lies (kept out of the public BackendProbe). */
export interface EngineProbe extends BackendProbe {
  readonly name: EngineName;
  readonly resolved?: ResolvedPackage;
}

/**
 * Where to look for engine packages: beside this plugin (its own dependencies and peers) and the
 * working directory (a user's project that installed tfjs-node next to the mmft CLI).
 */
export function defaultSearchPaths(): string[] {
  return [__dirname, process.cwd()];
}

/** Resolve `packageName` from the first search path that has it; undefined when none does. */
export function resolvePackage(packageName: string, searchPaths: readonly string[]): ResolvedPackage | undefined {
  for (const from of searchPaths) {
    let manifestPath: string;
    try {
      manifestPath = require.resolve(`${packageName}/package.json`, { paths: [from] });
    } catch {
      continue; // not reachable from here; try the next search path
    }
    const manifest = require(manifestPath) as { version?: string };
    const entry = require.resolve(packageName, { paths: [from] });
    return { root: path.dirname(manifestPath), entry, version: manifest.version ?? 'unknown' };
  }
  return undefined;
}

/** Probe one engine without loading it. */
export function probeEngine(name: EngineName, searchPaths: readonly string[] = defaultSearchPaths()): EngineProbe {
  const spec = ENGINES[name];
  const resolved = resolvePackage(spec.packageName, searchPaths);
  if (!resolved) {
    return { name, available: false, reason: `not installed (npm install ${spec.packageName}@${version_core} to use it)` };
  }
  // A second tfjs-core version would keep its own kernel registry: the engine would register
  // kernels the running tfjs never sees. Refuse rather than half-work.
  if (resolved.version !== version_core) {
    return {
      name,
      available: false,
      reason: `installed ${spec.packageName}@${resolved.version}, but tfjs-core is ${version_core}: install ${spec.packageName}@${version_core}`,
      resolved,
    };
  }
  return { name, available: true, reason: `installed (${spec.packageName}@${resolved.version})`, resolved };
}

/**
 * Probe every engine: those in `prefer` first, in that order, then the rest marked as skipped.
 *
 * @example
 * probeEngines(['wasm', 'cpu']).map((p) => `${p.name}: ${p.reason}`);
 */
export function probeEngines(prefer: readonly EngineName[], searchPaths: readonly string[] = defaultSearchPaths()): EngineProbe[] {
  const preferred = prefer.map((name) => probeEngine(name, searchPaths));
  const skipped = ENGINE_NAMES.filter((name) => !prefer.includes(name)).map((name): EngineProbe => {
    const probe = probeEngine(name, searchPaths);
    return { ...probe, reason: `not in prefer; ${probe.reason}` };
  });
  return [...preferred, ...skipped];
}
