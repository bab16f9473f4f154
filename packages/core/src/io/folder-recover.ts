// Repairs what a killed folder write leaves: writeFolder swaps with two renames (target -> .old,
// .tmp -> target), so a kill between them leaves no target, only hidden siblings. The newest
// complete sibling becomes the target again (a .tmp counts only with its completion marker, an
// .old is a former target and so complete), and stale siblings of dead writers are removed.
import * as fs from 'node:fs';
import { readFolderMarker, stagedInUse, stagedSiblings, type StagedSibling } from './folder-marker';

/** What `recoverFolder` did. */
export interface FolderRecovery {
  /** The hidden sibling renamed back to the target, when the target was missing. */
  readonly restoredFrom?: string;
  /** Whether that sibling was the interrupted new copy (tmp) or the previous one (old). */
  readonly restoredRole?: 'tmp' | 'old';
  /** Stale hidden siblings deleted. */
  readonly removed: readonly string[];
}

function completedAt(sibling: StagedSibling): number | undefined {
  const marker = readFolderMarker(sibling.path);
  if (marker) return Date.parse(marker.written);
  if (sibling.role === 'tmp') return undefined; // no sentinel: the write stopped half way
  try {
    return fs.statSync(sibling.path).mtimeMs; // an .old written before markers existed
  } catch {
    return undefined;
  }
}

/**
 * Restores `dir` from its newest complete hidden copy when it is missing, then deletes stale
 * `.<name>.tmp-*` / `.<name>.old-*` siblings left by writers that no longer run.
 *
 * @example
 * const { restoredFrom } = await recoverFolder('runs/x/checkpoint-last');
 * if (restoredFrom) console.log(`checkpoint-last restored from ${restoredFrom}`);
 */
export async function recoverFolder(dir: string): Promise<FolderRecovery> {
  const stale = stagedSiblings(dir).filter((s) => !stagedInUse(s));
  let restored: StagedSibling | undefined;
  if (!fs.existsSync(dir)) {
    const complete = stale
      .map((s) => ({ s, at: completedAt(s) }))
      .filter((c): c is { s: StagedSibling; at: number } => c.at !== undefined && Number.isFinite(c.at))
      .sort((a, b) => b.at - a.at || (a.s.role === 'tmp' ? -1 : 1));
    restored = complete[0]?.s;
    if (restored) await fs.promises.rename(restored.path, dir);
  }
  const removed: string[] = [];
  for (const s of stale) {
    if (s === restored) continue;
    await fs.promises.rm(s.path, { recursive: true, force: true });
    removed.push(s.path);
  }
  return { restoredFrom: restored?.path, restoredRole: restored?.role, removed };
}
