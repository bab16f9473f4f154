import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { createCliContext } from '../context';
import { dataShapesCommand } from './data-shapes';

/** Run `mmft data shapes ...` through the factory, as `mmft data` will attach it. */
async function run(argv: string[], cwd: string): Promise<{ stdout: string; error?: Error }> {
  const stdout = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
  const ctx = createCliContext({ stdout, stderr: new PassThrough(), isTTY: false, cwd, builtins: [] });
  const quiet = { writeErr: () => undefined, writeOut: () => undefined };
  const data = new Command('data').exitOverride().addCommand(dataShapesCommand(ctx).exitOverride().configureOutput(quiet));
  const program = new Command('mmft').exitOverride().configureOutput(quiet).addCommand(data);
  let error: Error | undefined;
  await program.parseAsync(['data', 'shapes', ...argv], { from: 'user' }).catch((e: Error) => (error = e));
  return { stdout: text, error };
}

describe('mmft data shapes', () => {
  test('writes JSONL files and images with plain progress lines', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cli-shapes-'));
    const { stdout, error } = await run(
      ['--out', 'out', '--n', '20', '--domain', 'B', '--lang', 'zh', '--size', '32', '--tasks', 'caption', 'vqa'],
      cwd,
    );
    expect(error).toBeUndefined();
    expect(stdout).toContain('shapes: 2/20 images');
    expect(stdout).toContain('shapes: 20/20 images');
    expect(stdout).toMatch(/captions\.jsonl\s+20 records/);
    expect(stdout).toMatch(/vqa\.jsonl\s+60 records/);
    expect(fs.readdirSync(path.join(cwd, 'out')).sort()).toEqual(['.mmft-folder.json', 'captions.jsonl', 'images', 'vqa.jsonl']);
    const first = JSON.parse(fs.readFileSync(path.join(cwd, 'out', 'captions.jsonl'), 'utf8').split('\n')[0]!) as {
      lang: string;
      caption: string[];
    };
    expect(first.lang).toBe('zh');
    expect(first.caption[4]).toMatch(/^纹理背景上有/);
  });

  test('bad flags fail with the flag named', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cli-shapes-'));
    expect((await run(['--out', 'o', '--domain', 'C'], cwd)).error?.message).toContain('--domain: Invalid option');
    expect((await run(['--out', 'o', '--tasks', 'captions'], cwd)).error?.message).toBe(
      '--tasks: unknown task "captions"; known: caption, vqa, retrieval, instruction',
    );
    expect((await run(['--out', 'o', '--n', 'ten'], cwd)).error?.message).toContain('--n must be an integer, got "ten"');
    expect((await run(['--out', 'o', '--size', '8'], cwd)).error?.message).toContain('--size:');
  });

  test('--out: a dataset folder mmft wrote is replaced; any other non-empty folder only with --force', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cli-shapes-'));
    const small = ['--n', '4', '--size', '32', '--tasks', 'caption'];
    expect((await run(['--out', 'out', ...small], cwd)).error).toBeUndefined();
    expect((await run(['--out', 'out', ...small, '--seed', '3'], cwd)).error).toBeUndefined();
    expect(fs.readdirSync(cwd)).toEqual(['out']);
    const mine = path.join(cwd, 'mine');
    fs.mkdirSync(path.join(mine, 'photos'), { recursive: true });
    fs.writeFileSync(path.join(mine, 'captions.jsonl'), 'my own\n');
    const refused = await run(['--out', 'mine', ...small], cwd);
    expect(refused.error?.message).toBe(
      `--out ${mine} is not empty: it holds entries that mmft did not write as a dataset folder; writing there would replace captions.jsonl, photos`,
    );
    expect(fs.readFileSync(path.join(mine, 'captions.jsonl'), 'utf8')).toBe('my own\n');
    expect((await run(['--out', 'mine', ...small, '--force'], cwd)).error).toBeUndefined();
    expect(fs.readdirSync(mine).sort()).toEqual(['.mmft-folder.json', 'captions.jsonl', 'images']);
  });
});
