// writeFolder and recoverFolder: the completion marker, the swap, and what a kill at each point of
// the swap leaves behind (simulated by making the hidden folders a dead writer would leave).
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FOLDER_MARKER, readFolderMarker } from './folder-marker';
import { recoverFolder } from './folder-recover';
import { writeFileDurable, writeFolder } from './folder-write';

// No process has this pid (Linux caps pids at 2^22): folders tagged with it are a dead writer's.
const DEAD = 99999999;
const bytes = (s: string) => new TextEncoder().encode(s);
const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-folder-'));
const hidden = (dir: string) =>
  fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('.'))
    .sort();

/** A folder as a dead writer left it; `complete` adds the marker written last. */
function leftover(parent: string, name: string, role: 'tmp' | 'old', tag: string, content: string, written?: string): string {
  const dir = path.join(parent, `.${name}.${role}-${DEAD}-${tag}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'step.txt'), content);
  if (written)
    fs.writeFileSync(
      path.join(dir, FOLDER_MARKER),
      JSON.stringify({ format: 'mmft-folder', version: 1, kind: 'checkpoint', entries: ['step.txt'], written }),
    );
  return dir;
}

describe('writeFolder', () => {
  test('writes the marker last, replaces the previous folder and leaves no hidden sibling', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'model');
    await writeFolder(dir, (staged) => writeFileDurable(path.join(staged, 'a.txt'), bytes('1')), { kind: 'model' });
    expect(readFolderMarker(dir)).toMatchObject({ format: 'mmft-folder', kind: 'model', entries: ['a.txt'] });
    await writeFolder(dir, (staged) => writeFileDurable(path.join(staged, 'b.txt'), bytes('2')), { kind: 'model' });
    expect(fs.readdirSync(dir).sort()).toEqual([FOLDER_MARKER, 'b.txt']);
    expect(fs.readdirSync(parent)).toEqual(['model']);
  });

  test('a failing fill keeps the previous folder and removes the staged one', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'model');
    await writeFolder(dir, (staged) => writeFileDurable(path.join(staged, 'a.txt'), bytes('1')), { kind: 'model' });
    await expect(
      writeFolder(
        dir,
        async () => {
          throw new Error('disk full');
        },
        { kind: 'model' },
      ),
    ).rejects.toThrow(`could not write ${dir}: disk full`);
    expect(fs.readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('1');
    expect(fs.readdirSync(parent)).toEqual(['model']);
  });

  test('cleans stale siblings of a dead writer before writing, and says so', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'checkpoint-last');
    fs.mkdirSync(dir);
    leftover(parent, 'checkpoint-last', 'tmp', 'aa11', 'half');
    leftover(parent, 'checkpoint-last', 'old', 'bb22', 'older', '2024-01-01T00:00:00.000Z');
    const seen: string[][] = [];
    await writeFolder(dir, (staged) => writeFileDurable(path.join(staged, 'step.txt'), bytes('3')), {
      kind: 'checkpoint',
      onRecover: (r) => seen.push([...r.removed]),
    });
    expect(fs.readdirSync(parent)).toEqual(['checkpoint-last']);
    expect(seen[0]).toHaveLength(2);
  });
});

describe('recoverFolder', () => {
  test('a kill between the two renames: the complete new copy becomes the folder again', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'checkpoint-last');
    leftover(parent, 'checkpoint-last', 'old', 'cc33', 'step 4', '2024-01-01T00:00:00.000Z');
    const fresh = leftover(parent, 'checkpoint-last', 'tmp', 'cc33', 'step 6', '2024-01-01T00:01:00.000Z');
    const r = await recoverFolder(dir);
    expect(r.restoredFrom).toBe(fresh);
    expect(r.restoredRole).toBe('tmp');
    expect(fs.readFileSync(path.join(dir, 'step.txt'), 'utf8')).toBe('step 6');
    expect(hidden(parent)).toEqual([]);
  });

  test('a half-written copy (no marker) is never restored: the previous folder is', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'checkpoint-last');
    const previous = leftover(parent, 'checkpoint-last', 'old', 'dd44', 'step 4'); // an .old from before markers existed
    leftover(parent, 'checkpoint-last', 'tmp', 'ee55', 'torn');
    const r = await recoverFolder(dir);
    expect(r.restoredFrom).toBe(previous);
    expect(fs.readFileSync(path.join(dir, 'step.txt'), 'utf8')).toBe('step 4');
    expect(hidden(parent)).toEqual([]);
  });

  test('folders of a live writer are left alone; nothing to restore leaves the folder missing', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'checkpoint-last');
    const live = path.join(parent, `.checkpoint-last.tmp-${process.ppid}-ff66`);
    fs.mkdirSync(live);
    leftover(parent, 'checkpoint-last', 'tmp', 'ab12', 'torn');
    const r = await recoverFolder(dir);
    expect(r.restoredFrom).toBeUndefined();
    expect(fs.existsSync(dir)).toBe(false);
    expect(hidden(parent)).toEqual([path.basename(live)]);
  });
});
