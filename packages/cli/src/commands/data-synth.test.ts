import { describe, expect, test } from '@jest/globals';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { Command } from 'commander';
import { validateFiles } from '@mmft/data-jsonl';
import { createCliContext } from '../context';
import { dataSynthCommand } from './data-synth';

/** Run `mmft data synth ...` through the factory, as `mmft data` attaches it. */
async function run(argv: string[], cwd: string): Promise<{ stdout: string; error?: Error }> {
  const stdout = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
  const ctx = createCliContext({ stdout, stderr: new PassThrough(), isTTY: false, cwd, builtins: [] });
  const quiet = { writeErr: () => undefined, writeOut: () => undefined };
  const data = new Command('data').exitOverride().addCommand(dataSynthCommand(ctx).exitOverride().configureOutput(quiet));
  const program = new Command('mmft').exitOverride().configureOutput(quiet).addCommand(data);
  let error: Error | undefined;
  await program.parseAsync(['data', 'synth', ...argv], { from: 'user' }).catch((e: Error) => (error = e));
  return { stdout: text, error };
}

type Rec = { id: string; image: string; conversations: { from: string; value: string }[]; provenance: Record<string, unknown> };
const read = (file: string): Rec[] => JSON.parse(fs.readFileSync(file, 'utf8')) as Rec[];

describe('mmft data synth', () => {
  test('shapes scenes: a dataset folder of LLaVA JSON + images, the same for the same seed', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cli-synth-'));
    const args = ['--n', '3', '--size', '32', '--domain', 'B', '--lang', 'both', '--templates', 'count,refusal'];
    const first = await run(['--out', 'a', ...args], cwd);
    expect(first.error).toBeUndefined();
    expect(first.stdout).toContain('wrote 12 conversations about 3 images');
    expect(fs.readdirSync(path.join(cwd, 'a')).sort()).toEqual(['.mmft-folder.json', 'images', 'llava.json', 'llava.json.manifest.json']);
    const records = read(path.join(cwd, 'a', 'llava.json'));
    expect(records.map((r) => `${r.provenance.template}/${r.provenance.lang}`).slice(0, 4)).toEqual([
      'count/en',
      'count/zh',
      'refusal/en',
      'refusal/zh',
    ]);
    expect(records[0]!.provenance).toEqual({ source: 'shapes-B-000000', template: 'count', seed: 0, lang: 'en' });
    expect(records.every((r) => fs.existsSync(path.join(cwd, 'a', r.image)))).toBe(true);
    // what synth writes is data `mmft data validate` accepts: instruction records, images decoded
    const report = await validateFiles([path.join(cwd, 'a', 'llava.json')], { cwd });
    expect([report.errors, report.files[0]!.task, report.files[0]!.records]).toEqual([0, 'instruction', 12]);
    expect((await run(['--out', 'b', ...args], cwd)).error).toBeUndefined();
    expect(fs.readFileSync(path.join(cwd, 'b', 'llava.json'), 'utf8')).toBe(fs.readFileSync(path.join(cwd, 'a', 'llava.json'), 'utf8'));
    // a folder mmft wrote is replaced in place
    expect((await run(['--out', 'a', ...args, '--seed', '4'], cwd)).error).toBeUndefined();
    expect(read(path.join(cwd, 'a', 'llava.json'))[0]!.provenance.seed).toBe(4);
  });

  test('caption/VQA files: one JSON file, image paths relative to it, duplicates counted', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cli-synth-'));
    fs.mkdirSync(path.join(cwd, 'data', 'images'), { recursive: true });
    fs.writeFileSync(path.join(cwd, 'data', 'images', 'x.png'), Buffer.from('not read by synth'));
    const line = (r: unknown) => `${JSON.stringify(r)}\n`;
    fs.writeFileSync(path.join(cwd, 'data', 'vqa.jsonl'), line({ image: 'images/x.png', question: 'How many?', answer: '2' }).repeat(2));
    const { stdout, error } = await run(['data/vqa.jsonl', '--out', 'out/synth.json', '--templates', 'vqa'], cwd);
    expect(error).toBeUndefined();
    expect(stdout).toContain('duplicates dropped: 1');
    const records = read(path.join(cwd, 'out', 'synth.json'));
    expect(records).toHaveLength(1);
    expect(records[0]!.image).toBe('../data/images/x.png');
    expect(records[0]!.provenance).toEqual({ source: '../data/vqa.jsonl:1', template: 'vqa', seed: 0, lang: 'en' });
    expect((await run(['data/vqa.jsonl', '--out', 'out/synth.json'], cwd)).error?.message).toMatch(/exists/);
    expect((await run(['data/vqa.jsonl', '--out', 'out/synth.json', '--force'], cwd)).error).toBeUndefined();
  });

  test('bad flags name the flag and the valid values', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cli-synth-'));
    expect((await run(['--out', 'o', '--templates', 'count,gossip'], cwd)).error?.message).toBe(
      '--templates: unknown template "gossip" for shapes scenes',
    );
    expect((await run(['x.jsonl', '--out', 'o.json', '--templates', 'compare'], cwd)).error?.message).toBe(
      '--templates: unknown template "compare" for caption/VQA files',
    );
    expect((await run(['x.jsonl', '--out', 'o.json', '--n', '5'], cwd)).error?.message).toMatch(/^--n only apply to shapes scenes/);
    expect((await run(['--out', 'o', '--domain', 'C'], cwd)).error?.message).toContain('--domain:');
  });
});
