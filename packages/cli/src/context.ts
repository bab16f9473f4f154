// What every command receives: output streams, TTY detection and a factory for the plugin
// registry of one run (built-in plugins plus those a recipe or --plugin names).
import * as path from 'node:path';
import { loadPluginExport, PluginRegistry } from '@mmft/core';
import { BUILTIN_PLUGINS } from './builtin-plugins';

export interface CliContext {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  /** True when stdout is a terminal: progress bars and colours; else plain lines. */
  readonly isTTY: boolean;
  readonly cwd: string;
  /**
   * A fresh registry (child container) with the built-in plugins and `extra` loaded.
   * `baseDir` is where explicit ./paths and recipe-local packages resolve from.
   */
  createRegistry(extra?: readonly string[], baseDir?: string): Promise<PluginRegistry>;
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
  const builtins = options.builtins ?? BUILTIN_PLUGINS;
  return {
    stdout,
    stderr: options.stderr ?? process.stderr,
    isTTY: options.isTTY ?? Boolean((stdout as NodeJS.WriteStream).isTTY),
    cwd,
    print: (line = '') => void stdout.write(`${line}\n`),
    async createRegistry(extra = [], baseDir = cwd) {
      const registry = new PluginRegistry();
      const searchFrom = [baseDir, cwd, __dirname];
      for (const specifier of [...builtins, ...extra]) {
        const { value } = await loadPluginExport(specifier, { searchFrom, baseDir: path.resolve(baseDir) });
        registry.use(value, specifier);
      }
      return registry;
    },
  };
}
