// Helpers for command tests: run `mmft` in-process and capture what it printed.
import { PassThrough } from 'node:stream';
import { createCliContext, type CliContextOptions } from './context';
import { runCli } from './program';

export { startRedis, type TestRedis } from './queue/test-redis';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Run the CLI in-process.
 *
 * @example
 * const { code, stdout } = await runCliForTest(['eval', 'vqa', '--predictions', p, '--references', r]);
 */
export async function runCliForTest(argv: readonly string[], options: CliContextOptions = {}): Promise<CliRun> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const code = await runCli(argv, createCliContext({ isTTY: false, ...options, stdout, stderr }));
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
