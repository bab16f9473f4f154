// The tensor engine for code that loads a model without the CLI (a user's script, a notebook):
// architectures call ensureBackend() before they build tensors. When no engine is chosen yet, the
// default backend plugin is loaded by package name, as the CLI loads its built-ins, and selected
// with its own defaults; an architecture never imports a backend plugin (see docs/backends.md).
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseConfig } from '../config';
import type { BackendProvider } from '../contracts/backend';
import { MmftError } from '../errors';
import { loadPluginExport } from './load-plugin';
import { validateManifest } from './validate-manifest';

/** The backend plugin selected when nothing chose an engine: the CLI's built-in one. */
export const DEFAULT_BACKEND_PLUGIN = '@mmft/backend-tfjs';

export interface EnsureBackendOptions {
  /** Backend plugin to load when no engine is chosen (package name or explicit path). */
  readonly plugin?: string;
  /** Folders to resolve the plugin from (default: the working folder, the main script's folder, core's own). */
  readonly searchFrom?: readonly string[];
}

// Two models loaded at once must not race two selections (tf.setBackend is process-global).
const PENDING = Symbol.for('@mmft/core:ensureBackend');
const holder = globalThis as unknown as Record<symbol, Promise<string> | undefined>;

function defaultSearchFrom(): string[] {
  const script = process.argv[1];
  return [process.cwd(), ...(script ? [path.dirname(path.resolve(script))] : []), __dirname];
}

async function selectDefault(options: EnsureBackendOptions): Promise<string> {
  const specifier = options.plugin ?? DEFAULT_BACKEND_PLUGIN;
  const searchFrom = options.searchFrom ?? defaultSearchFrom();
  let loaded: { value: unknown; file: string };
  try {
    loaded = await loadPluginExport(specifier, { searchFrom, baseDir: process.cwd() });
  } catch (cause) {
    throw new MmftError(
      'E_BACKEND',
      `no tensor engine is selected, and the default backend plugin ${specifier} cannot be loaded (looked from ${searchFrom.join(', ')})`,
      {
        cause,
        hint: `install ${specifier} beside your script, or choose an engine before loading a model: import '@tensorflow/tfjs-backend-cpu' (tfjs then uses it)`,
      },
    );
  }
  const plugin = validateManifest(loaded.value, specifier);
  const backend = plugin.provides.find((p): p is BackendProvider => p.kind === 'backend');
  if (!backend) {
    throw new MmftError('E_BACKEND', `the backend plugin ${specifier} (${loaded.file}) provides no backend`, {
      hint: 'pass a plugin whose provides list has a { kind: "backend" } provider',
    });
  }
  const selection = await backend.select(parseConfig(backend, {}));
  return selection.capabilities.engine;
}

/**
 * Make sure a tensor engine is active and return its tfjs name. In order: an engine already set
 * (the CLI's selection, your own `tf.setBackend`) is kept; engines registered with tfjs but not
 * yet started (`import '@tensorflow/tfjs-backend-cpu'`) start as tfjs would start them; otherwise
 * the default backend plugin is selected with its defaults, as `mmft train` does without a
 * `backend:` section (wasm first, mmft's kernels installed).
 *
 * @example
 * await ensureBackend();                 // before ClipModel.fromConfig in a script
 * const model = ClipModel.fromConfig(config, { seed: 0 });
 */
export async function ensureBackend(options: EnsureBackendOptions = {}): Promise<string> {
  const engine = tf.engine();
  if (engine.backendName) return engine.backendName;
  if (engine.backendNames().length > 0) {
    await tf.ready();
    return tf.getBackend();
  }
  holder[PENDING] ??= selectDefault(options).finally(() => {
    holder[PENDING] = undefined;
  });
  return holder[PENDING];
}

/**
 * Throws a clear error when no tfjs engine is selected or registered: tfjs would otherwise fail at
 * the first tensor with "No backend found in registry". Architectures call it before building.
 *
 * @example
 * requireEngine('LlamaForCausalLM.fromPretrained'); // E_BACKEND with the fix, or nothing
 */
export function requireEngine(caller: string): void {
  const engine = tf.engine();
  if (engine.backendName || engine.backendNames().length > 0) return;
  throw new MmftError('E_BACKEND', `${caller} needs a tensor engine, and none is selected or registered with tfjs`, {
    hint: "in a script, `await ensureBackend()` from @mmft/core first (it selects the default engine, as mmft train does), or import '@tensorflow/tfjs-backend-cpu'",
  });
}
