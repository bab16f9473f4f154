// --json of `mmft eval`: the checks and the write shared by the prediction-file subcommands
// (./eval.ts) and `mmft eval recipe` (./eval-recipe.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOutputFile, MmftError, writeFileAtomic } from '@mmft/core';
import type { CliContext } from '../context';

/** Refuses --json OUT when OUT is one of the inputs (checked before anything is read or scored). */
export function checkJsonTarget(ctx: CliContext, file: string | undefined, inputs: Record<string, string | undefined>): void {
  if (!file) return;
  const named = Object.entries(inputs).filter((e): e is [string, string] => e[1] !== undefined);
  checkOutputFile(
    path.resolve(ctx.cwd, file),
    '--json',
    named.map(([role, p]) => ({ path: path.resolve(ctx.cwd, p), role })),
  );
}

/** Writes `value` as indented JSON to --json FILE (nothing without --json). */
export async function writeJson(ctx: CliContext, file: string | undefined, value: unknown): Promise<void> {
  if (!file) return;
  const full = path.resolve(ctx.cwd, file);
  if (fs.statSync(full, { throwIfNoEntry: false })?.isDirectory())
    throw new MmftError('E_INPUT', `--json ${file} is a folder`, { hint: 'give a file name, e.g. --json scores.json' });
  await writeFileAtomic(full, [new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`)]);
  ctx.print(`wrote ${file}`);
}
