// Runs a benchmark child (node or python3) and returns the JSON of its `RESULT <json>` line; an
// `ERROR <json>` line, a non-zero exit or no result becomes an MmftError with the child's words.
import { spawn } from 'node:child_process';
import { MmftError } from '@mmft/core';

/**
 * Spawn `command args` with `env`, wait, parse the result line.
 *
 * @example
 * const result = await runChild(process.execPath, [childScript, file], process.env);
 */
export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', (cause) => reject(new MmftError('E_IO', `cannot start ${command}: ${cause.message}`, { cause })));
    child.on('close', (code) => {
      const lines = stdout.split('\n');
      const result = lines.find((l) => l.startsWith('RESULT '));
      const error = lines.find((l) => l.startsWith('ERROR '));
      if (result && code === 0) return resolve(JSON.parse(result.slice(7)) as Record<string, unknown>);
      const reported = error ? (JSON.parse(error.slice(6)) as { message: string }).message : undefined;
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new MmftError('E_BACKEND', reported ?? `${command} exited with ${code} and no result${tail ? `: ${tail}` : ''}`));
    });
  });
}
