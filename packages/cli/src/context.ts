// What every command receives: output streams, TTY detection and a factory for the plugin
// registry of one run (built-in plugins plus those a recipe or --plugin names).
import * as path from 'node:path';
import { findProjectRoot, loadPluginInto, PluginRegistry, type PluginRequest } from '@mmft/core';
import { BUILTIN_PLUGINS } from './builtin-plugins';

export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** True when stdout is a terminal: progress bars and colours; else plain lines. */
  readonly isTTY: boolean;
  readonly cwd: string;
  /**
   * A fresh registry (child container) with the built-in plugins and `extra` loaded.
   * `baseDir` is where explicit ./paths (unless a request names its own) and recipe-local
   * packages resolve from; a request's `origin` is named in its load errors.
   */
  createRegistry(extra?: readonly (string | PluginRequest)[], baseDir?: string): Promise<PluginRegistry>;
  /** Print a line to stdout. */
  print(line?: string): void;
}

export interface CliContextOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  isTTY?: boolean;
  cwd?: string;
  /** Override the built-in plugin list (tests). */
  builtins?: readonly string[];
}

/** Build a context; tests pass their own streams and cwd. */
export function createCliContext(options: CliContextOptions = {}): CliContext {
  const stdout = options.stdout ?? process.stdout;
  const cwd = options.cwd ?? process.cwd();
  const stderr = options.stderr ?? process.stderr;
  const builtins = options.builtins ?? BUILTIN_PLUGINS;
  return {
    stdout,
    stderr,
    isTTY: options.isTTY ?? Boolean((stdout as NodeJS.WriteStream).isTTY),
    cwd,
    print: (line = '') => void stdout.write(`${line}\n`),
    async createRegistry(extra = [], baseDir = cwd) {
      const registry = new PluginRegistry();
      const searchFrom = [baseDir, cwd, __dirname];
      // Local code from outside the recipe's project runs with the user's rights: say where it is.
      const projectRoot = findProjectRoot(baseDir);
      const notice = (message: string) => void stderr.write(`note: ${message}\n`);
      for (const entry of [...builtins, ...extra]) {
        const request = typeof entry === 'string' ? { specifier: entry } : entry;
        await loadPluginInto(registry, request.specifier, { searchFrom, baseDir: path.resolve(request.baseDir ?? baseDir), origin: request.origin, projectRoot, notice });
      }
      return registry;
    },
  };
}
