// The one rule every command that writes a folder (or a file) applies before touching it: a missing
// or empty folder is fine; a folder mmft wrote as the same kind (its completion marker says so, and
// it holds nothing else) may be replaced; anything else is refused unless the user forces it; an
// input of the command (base model, adapter, data) and any folder holding one is always refused.
// LLaMA-Factory refuses a non-empty output_dir unless overwrite_output_dir, for the same reason.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '../errors';
import { FOLDER_MARKER, readFolderMarker } from './folder-marker';

/** An input the output must never replace. */
export interface ProtectedPath {
  readonly path: string;
  /** How the user named it: "--base", "--adapter", "model.checkpoint", "--predictions". */
  readonly role: string;
}

/** Options of `checkOutputFolder`. */
export interface OutputFolderOptions {
  /** The kind this command writes, as in the completion marker: "model", "dataset", "run"... */
  readonly kind: string;
  /** How the user named the folder, for messages: "--out", "--output" (absent for API calls). */
  readonly flag?: string;
  readonly force?: boolean;
  /** What the user passes to force it (default "--force"). */
  readonly forceFlag?: string;
  readonly protect?: readonly ProtectedPath[];
  /** Another reliable sign, for folders mmft writes without a marker (a run folder's fixed entries). */
  readonly replaceable?: (dir: string, entries: readonly string[]) => boolean;
  /** What the folder holds, when the caller can tell better ("an earlier run (checkpoint-last at step 12)"). */
  readonly describe?: (dir: string, entries: readonly string[]) => string | undefined;
  /** Another way out, named in the hint ("--resume <dir>/checkpoint-last to continue it"). */
  readonly alternative?: string;
}

/** The outcome when the folder may be written. */
export interface OutputFolderCheck {
  readonly dir: string;
  readonly state: 'missing' | 'empty' | 'replaceable' | 'forced';
  /** What is in the folder now (what will be replaced). */
  readonly entries: readonly string[];
}

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** True when `inner` is `outer` or lies inside it (symbolic links resolved). */
export function isSameOrInside(inner: string, outer: string): boolean {
  const rel = path.relative(real(outer), real(inner));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** "a, b, c and 4 more". */
export function listEntries(entries: readonly string[], max = 5): string {
  const shown = entries.slice(0, max).join(', ');
  return entries.length > max ? `${shown} and ${entries.length - max} more` : shown;
}

/**
 * Checks that `dir` may be written by a command that replaces it; throws an `E_INPUT` error that
 * names the folder, lists what would be replaced and the flag to use otherwise.
 *
 * @example
 * checkOutputFolder(out, { kind: 'model', flag: '--out', force: o.force, protect: [{ path: base, role: '--base' }] });
 */
export function checkOutputFolder(dir: string, options: OutputFolderOptions): OutputFolderCheck {
  const full = path.resolve(dir);
  const named = options.flag ? `${options.flag} ${dir}` : dir;
  const force = options.forceFlag ?? '--force';
  for (const p of options.protect ?? []) {
    if (isSameOrInside(p.path, full)) {
      const what = real(p.path) === real(full) ? `is the ${p.role} folder` : `contains ${p.role} ${p.path}`;
      throw new MmftError('E_INPUT', `${named} ${what}; writing there would destroy an input of this command`, {
        hint: `choose another folder (${force} does not override this)`,
      });
    }
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(full);
  } catch {
    return { dir: full, state: 'missing', entries: [] };
  }
  if (!stat.isDirectory()) throw new MmftError('E_INPUT', `${named} is a file, not a folder`, { hint: 'choose another folder' });
  const entries = fs.readdirSync(full).sort();
  if (entries.length === 0) return { dir: full, state: 'empty', entries };
  const marker = readFolderMarker(full);
  const foreign = marker ? entries.filter((e) => e !== FOLDER_MARKER && !marker.entries.includes(e)) : entries;
  if (marker?.kind === options.kind && foreign.length === 0) return { dir: full, state: 'replaceable', entries };
  if (!marker && options.replaceable?.(full, entries)) return { dir: full, state: 'replaceable', entries };
  if (options.force) return { dir: full, state: 'forced', entries };
  const holds =
    options.describe?.(full, entries) ??
    (marker?.kind === options.kind
      ? `a ${marker.kind} folder mmft wrote plus entries it did not write (${listEntries(foreign)})`
      : marker
        ? `a ${marker.kind} folder, not a ${options.kind} folder`
        : `entries that mmft did not write as a ${options.kind} folder`);
  const visible = entries.filter((e) => e !== FOLDER_MARKER);
  throw new MmftError(
    'E_INPUT',
    `${named} is not empty: it holds ${holds}; writing there would replace ${listEntries(visible.length > 0 ? visible : entries)}`,
    {
      hint: `pass ${force} to replace it${options.alternative ? `, ${options.alternative}` : ''}, or choose another folder`,
    },
  );
}

/**
 * Refuses an output file that is one of the command's inputs (same path, link or hard link).
 *
 * @example
 * checkOutputFile(o.json, '--json', [{ path: o.predictions, role: '--predictions' }]);
 */
export function checkOutputFile(file: string, flag: string, inputs: readonly ProtectedPath[]): void {
  const out = path.resolve(file);
  const outStat = fs.statSync(out, { throwIfNoEntry: false });
  for (const input of inputs) {
    const inStat = fs.statSync(path.resolve(input.path), { throwIfNoEntry: false });
    const same =
      real(out) === real(input.path) ||
      (outStat !== undefined && inStat !== undefined && outStat.dev === inStat.dev && outStat.ino === inStat.ino);
    if (same) {
      throw new MmftError('E_INPUT', `${flag} ${file} would overwrite the input ${input.role} ${input.path}`, {
        hint: `write ${flag} to another file`,
      });
    }
  }
}
