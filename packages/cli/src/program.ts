// Builds the `mmft` commander program and runs it with one error policy: every failure exits
// non-zero with a one-line cause (plus hint); `--verbose` adds the stack and the cause chain.
import { Command, CommanderError } from 'commander';
import { isMmftError } from '@mmft/core';
import { COMMANDS } from './commands';
import type { CliContext } from './context';

const VERSION: string = (require('../package.json') as { version: string }).version;

/** The program with every command attached; output goes to the context's streams. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('mmft')
    .description('Fine-tune vision-language models from Node: recipes, plugins, PEFT, evaluation.')
    .version(VERSION)
    .option('--verbose', 'print stack traces and error causes')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void ctx.stdout.write(text),
      writeErr: (text) => void ctx.stderr.write(text),
    });
  for (const make of COMMANDS) program.addCommand(make(ctx).exitOverride());
  return program;
}

function describeError(error: unknown, verbose: boolean): string {
  if (!verbose) {
    if (isMmftError(error)) return `error: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`;
    return `error: ${error instanceof Error ? error.message : String(error)}`;
  }
  const lines: string[] = [];
  let current: unknown = error;
  while (current !== undefined) {
    lines.push(current instanceof Error ? (current.stack ?? current.message) : String(current));
    current = current instanceof Error ? current.cause : undefined;
    if (current !== undefined) lines.push('caused by:');
  }
  if (isMmftError(error) && error.hint) lines.push(`hint: ${error.hint}`);
  return lines.join('\n');
}

/** Run `mmft` with `argv` (without node and script); resolves to the exit code. */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed help/version/usage errors
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0
        ? 0
        : error.exitCode || 1;
    }
    ctx.stderr.write(`${describeError(error, argv.includes('--verbose'))}\n`);
    return 1;
  }
}
