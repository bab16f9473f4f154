// What every command receives: output streams, TTY detection, a factory for the plugin
// registry of one run (built-in plugins plus those a recipe or --plugin names) and Ctrl-C wiring
// for long runs.
import * as os from 'node:os';
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
  /**
   * Run `task` with SIGINT/SIGTERM wired to its AbortSignal: the first signal prints `notice` and
   * aborts it (a trainer finishes its step, saves and returns), a second exits at once. Outside
   * such a task the signals keep their default effect.
   */
  interruptible<T>(task: (signal: AbortSignal) => Promise<T>, notice: string): Promise<{ value: T; interrupted?: Interruption }>;
}

/** The signal that stopped an interruptible task and the exit code it calls for (128 + n). */
export interface Interruption {
  readonly signal: NodeJS.Signals;
  readonly exitCode: number;
}

/** Where signals are heard: the process, or an EventEmitter in tests. */
export interface SignalSource {
  on(event: NodeJS.Signals, listener: () => void): unknown;
  off(event: NodeJS.Signals, listener: () => void): unknown;
}

const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

export interface CliContextOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  isTTY?: boolean;
  cwd?: string;
  /** Override the built-in plugin list (tests). */
  builtins?: readonly string[];
  /** Where SIGINT/SIGTERM come from and how a second one exits (tests); default the process. */
  signals?: SignalSource;
  exit?: (code: number) => void;
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
        await loadPluginInto(registry, request.specifier, {
          searchFrom,
          baseDir: path.resolve(request.baseDir ?? baseDir),
          origin: request.origin,
          projectRoot,
          notice,
        });
      }
      return registry;
    },
    async interruptible(task, notice) {
      const source = options.signals ?? process;
      const exit = options.exit ?? ((code: number) => process.exit(code));
      const controller = new AbortController();
      let interrupted: Interruption | undefined;
      const listeners = INTERRUPTS.map((signal) => {
        const listener = () => {
          const exitCode = 128 + (os.constants.signals[signal] ?? 2);
          if (interrupted) {
            stderr.write(`${signal} again: exiting at once without saving\n`);
            exit(exitCode);
            return;
          }
          interrupted = { signal, exitCode };
          stderr.write(
            `${signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : `${signal} received`}: ${notice}; press Ctrl-C again to exit at once\n`,
          );
          controller.abort();
        };
        source.on(signal, listener);
        return [signal, listener] as const;
      });
      try {
        const value = await task(controller.signal);
        return { value, interrupted };
      } finally {
        for (const [signal, listener] of listeners) source.off(signal, listener);
      }
    },
  };
}
