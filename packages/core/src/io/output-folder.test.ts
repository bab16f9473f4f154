// The output-folder rule: missing/empty fine, same-kind mmft folder replaceable, anything else
// refused unless forced, inputs (and folders holding them) always refused; output files never
// replace an input.
import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFolder } from './folder-write';
import { checkOutputFile, checkOutputFolder } from './output-folder';

const tmpdir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-out-'));
const model = { kind: 'model', flag: '--out' };

describe('checkOutputFolder', () => {
  test('missing and empty folders are fine', () => {
    const parent = tmpdir();
    expect(checkOutputFolder(path.join(parent, 'new'), model).state).toBe('missing');
    fs.mkdirSync(path.join(parent, 'empty'));
    expect(checkOutputFolder(path.join(parent, 'empty'), model).state).toBe('empty');
  });

  test('a folder mmft wrote as the same kind is replaceable; another kind or extra entries are not', async () => {
    const parent = tmpdir();
    const dir = path.join(parent, 'm');
    await writeFolder(dir, async (s) => fs.writeFileSync(path.join(s, 'config.json'), '{}'), { kind: 'model' });
    expect(checkOutputFolder(dir, model).state).toBe('replaceable');
    expect(() => checkOutputFolder(dir, { kind: 'dataset', flag: '--out' })).toThrow(
      `--out ${dir} is not empty: it holds a model folder, not a dataset folder`,
    );
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    expect(() => checkOutputFolder(dir, model)).toThrow('plus entries it did not write (notes.txt)');
    expect(checkOutputFolder(dir, { ...model, force: true }).state).toBe('forced');
  });

  test('a foreign folder is refused with what would be replaced and the flag to use', () => {
    const dir = tmpdir();
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) fs.writeFileSync(path.join(dir, name), '');
    let error: { message: string; hint?: string } | undefined;
    try {
      checkOutputFolder(dir, model);
    } catch (e) {
      error = e as { message: string; hint?: string };
    }
    expect(error?.message).toBe(
      `--out ${dir} is not empty: it holds entries that mmft did not write as a model folder; writing there would replace a, b, c, d, e and 2 more`,
    );
    expect(error?.hint).toBe('pass --force to replace it, or choose another folder');
    expect(checkOutputFolder(dir, { ...model, force: true }).state).toBe('forced');
  });

  test('an input, or a folder holding one, is refused even with force', () => {
    const parent = tmpdir();
    const base = path.join(parent, 'models', 'base');
    fs.mkdirSync(base, { recursive: true });
    const protect = [{ path: base, role: '--base' }];
    expect(() => checkOutputFolder(base, { ...model, force: true, protect })).toThrow(
      `--out ${base} is the --base folder; writing there would destroy an input`,
    );
    expect(() => checkOutputFolder(path.join(parent, 'models'), { ...model, force: true, protect })).toThrow(`contains --base ${base}`);
    fs.symlinkSync(base, path.join(parent, 'link'));
    expect(() => checkOutputFolder(path.join(parent, 'link'), { ...model, force: true, protect })).toThrow('is the --base folder');
    expect(checkOutputFolder(path.join(base, 'merged'), { ...model, protect }).state).toBe('missing');
  });

  test('a caller-given sign and description (run folders)', () => {
    const dir = tmpdir();
    fs.writeFileSync(path.join(dir, 'metrics.jsonl'), '');
    const run = { kind: 'eval', flag: '--output', replaceable: (_: string, e: readonly string[]) => e.every((n) => n === 'metrics.jsonl') };
    expect(checkOutputFolder(dir, run).state).toBe('replaceable');
    fs.mkdirSync(path.join(dir, 'checkpoint-last'));
    expect(() => checkOutputFolder(dir, { ...run, describe: () => 'an earlier run', alternative: 'or --resume it' })).toThrow(
      /holds an earlier run; writing there would replace checkpoint-last, metrics\.jsonl$/,
    );
  });
});

describe('checkOutputFile', () => {
  test('the same file, a symbolic link or a hard link to an input is refused', () => {
    const dir = tmpdir();
    const input = path.join(dir, 'P.jsonl');
    fs.writeFileSync(input, '{}\n');
    fs.symlinkSync(input, path.join(dir, 'soft.jsonl'));
    fs.linkSync(input, path.join(dir, 'hard.jsonl'));
    const inputs = [{ path: input, role: '--predictions' }];
    for (const out of [input, path.join(dir, 'soft.jsonl'), path.join(dir, 'hard.jsonl')]) {
      expect(() => checkOutputFile(out, '--json', inputs)).toThrow(`--json ${out} would overwrite the input --predictions ${input}`);
    }
    expect(() => checkOutputFile(path.join(dir, 'out.json'), '--json', inputs)).not.toThrow();
  });
});
