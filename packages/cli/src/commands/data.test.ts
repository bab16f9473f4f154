import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { Command } from 'commander';
import { isMmftError } from '@mmft/core';
import { createCliContext } from '../context';
import { dataCommand } from './data';

const IMAGES = path.resolve(__dirname, '../../../plugins/data-jsonl/fixtures/images');

/** Run `mmft data ...` through the factory, as the program attaches it; errors are returned. */
async function run(argv: string[], cwd: string): Promise<{ stdout: string; error?: Error }> {
  const stdout = new PassThrough();
  stdout.setEncoding('utf8');
  const chunks: string[] = [];
  stdout.on('data', (c: string) => chunks.push(c));
  const ctx = createCliContext({ stdout, stderr: new PassThrough(), isTTY: false, cwd, builtins: [] });
  const program = new Command('mmft')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .addCommand(dataCommand(ctx).exitOverride());
  let error: Error | undefined;
  await program.parseAsync(['data', ...argv], { from: 'user' }).catch((e: Error) => (error = e));
  return { stdout: chunks.join(''), error };
}

function workdir(files: Record<string, unknown[]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-cli-data-'));
  fs.cpSync(IMAGES, path.join(dir, 'images'), { recursive: true });
  for (const [name, records] of Object.entries(files)) {
    fs.writeFileSync(path.join(dir, name), records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n');
  }
  return dir;
}

const red = { image: 'images/red.png', caption: 'a red square' };
const green = { image: 'images/green.png', caption: 'a green square' };

describe('mmft data validate', () => {
  test('a clean file passes with a summary table', async () => {
    const cwd = workdir({ 'ok.jsonl': [red, green] });
    const { stdout, error } = await run(['validate', 'ok.jsonl'], cwd);
    expect(error).toBeUndefined();
    expect(stdout).toMatch(/ok\.jsonl\s+caption\s+2\s+2\s+0/);
    expect(stdout).toContain('OK: 0 errors, 0 warnings');
  });

  test('errors are listed as file:line with their code and fail the command', async () => {
    const cwd = workdir({
      'bad.jsonl': [red, '{"image": ', { image: 'images/corrupt.png', caption: 'x' }, { image: '../../etc/passwd', caption: 'x' }],
    });
    const { stdout, error } = await run(['validate', 'bad.jsonl'], cwd);
    expect(stdout).toContain('bad.jsonl:2: error [invalid-json] invalid JSON');
    expect(stdout).toContain('bad.jsonl:3: error [image-corrupt]');
    expect(stdout).toContain('bad.jsonl:4: error [image-outside-root]');
    expect(stdout).toMatch(/image-corrupt\s+error\s+1/);
    expect(isMmftError(error) && error.code).toBe('E_DATA');
    expect(error?.message).toBe('validation failed: 3 errors in bad.jsonl');
  });

  test('--json prints one JSON document; --fix writes the cleaned file and rejects', async () => {
    const cwd = workdir({ 'in.jsonl': [red, { image: 'images/nope.png', caption: 'x' }, red] });
    const { stdout, error } = await run(['validate', 'in.jsonl', '--json', '--fix', 'clean.jsonl'], cwd);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ errors: 1, warnings: 1, byCode: { 'image-missing': 1, duplicate: 1 }, fix: { kept: 1, dropped: 2 } });
    expect(error?.message).toContain('validation failed: 1 error');
    expect(fs.readFileSync(path.join(cwd, 'clean.jsonl'), 'utf8')).toBe(`${JSON.stringify(red)}\n`);
    expect(fs.readFileSync(path.join(cwd, 'clean.jsonl.rejects.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });

  test('personal data is flagged by file:line; --fix --redact-pii writes a redacted copy; a changed manifest fails unless accepted', async () => {
    const cwd = workdir({
      'pii.jsonl': [red, { image: 'images/green.png', caption: '联系我：zhang.san@example.cn，手机 13912345678' }],
    });
    const flagged = await run(['validate', 'pii.jsonl'], cwd);
    expect(flagged.error).toBeUndefined();
    expect(flagged.stdout).toContain(
      'pii.jsonl:2: warning [personal-data] field "caption" holds an e-mail address (z***@example.cn), a phone number (139****5678)',
    );
    expect(flagged.stdout).toMatch(/personal-data\s+warning\s+1/);
    expect(flagged.stdout).toContain('personal data: 1 line(s) with email 1, phone 1; 0 image(s)');

    const fixed = await run(['validate', 'pii.jsonl', '--fix', 'clean.jsonl', '--redact-pii', '--json'], cwd);
    expect(fixed.error).toBeUndefined();
    expect(JSON.parse(fixed.stdout)).toMatchObject({ privacy: { lines: 1 }, fix: { kept: 2, redacted: { lines: 1, imageCopies: 0 } } });
    expect(fs.readFileSync(path.join(cwd, 'clean.jsonl'), 'utf8').split('\n')[1]).toBe(
      JSON.stringify({ image: 'images/green.png', caption: '联系我：[EMAIL]，手机 [PHONE]' }),
    );
    expect(fs.existsSync(path.join(cwd, 'clean.jsonl.manifest.json'))).toBe(true);
    expect((await run(['validate', '--redact-pii', 'pii.jsonl'], cwd)).error?.message).toContain('no --fix OUT was given');

    fs.appendFileSync(path.join(cwd, 'clean.jsonl'), JSON.stringify(red) + '\n');
    const changed = await run(['validate', 'clean.jsonl'], cwd);
    expect(changed.stdout).toMatch(
      /clean\.jsonl: error \[data-changed\] clean\.jsonl no longer matches clean\.jsonl\.manifest\.json: .*records: 2 → 3/,
    );
    expect(isMmftError(changed.error) && changed.error.code).toBe('E_DATA');
    const accepted = await run(['validate', 'clean.jsonl', '--accept-data-change'], cwd);
    expect(accepted.error).toBeUndefined();
    expect(accepted.stdout).toContain('warning [data-changed-accepted]');
  });

  test('--splits finds an image in two splits', async () => {
    const cwd = workdir({ 'train.jsonl': [red, green], 'val.jsonl': [{ image: 'images/red.png', caption: 'other' }] });
    const { stdout, error } = await run(['validate', '--splits', 'train.jsonl,val.jsonl'], cwd);
    expect(stdout).toContain('val.jsonl:1: error [leakage] the same image content is used by train.jsonl:1');
    expect(error).toBeDefined();
  });

  test('several files given as arguments are validated one by one; --splits checks leakage; not both at once', async () => {
    const cwd = workdir({ 'a.jsonl': [red, green], 'b.jsonl': [{ image: 'images/red.png', caption: 'other' }] });
    const plain = await run(['validate', 'a.jsonl', 'b.jsonl'], cwd);
    expect(plain.error).toBeUndefined();
    expect(plain.stdout).not.toContain('leakage');
    const both = await run(['validate', 'a.jsonl', '--splits', 'b.jsonl'], cwd);
    expect(both.error?.message).toContain('either as arguments');
  });

  test('--fix into another folder rewrites image paths; a folder the images would leave is refused', async () => {
    const cwd = workdir({});
    fs.mkdirSync(path.join(cwd, 'data'));
    fs.renameSync(path.join(cwd, 'images'), path.join(cwd, 'data', 'images'));
    fs.writeFileSync(path.join(cwd, 'data', 'in.jsonl'), `${JSON.stringify(red)}\n`);
    expect((await run(['validate', 'data/in.jsonl', '--fix', 'clean.jsonl'], cwd)).error).toBeUndefined();
    expect(JSON.parse(fs.readFileSync(path.join(cwd, 'clean.jsonl'), 'utf8')).image).toBe('data/images/red.png');
    expect((await run(['validate', 'clean.jsonl'], cwd)).error).toBeUndefined();
    fs.mkdirSync(path.join(cwd, 'out'));
    const refused = await run(['validate', 'data/in.jsonl', '--fix', 'out/clean.jsonl'], cwd);
    expect(isMmftError(refused.error) && refused.error.code).toBe('E_INPUT');
    expect(refused.error?.message).toContain('image paths would leave');
    expect(fs.existsSync(path.join(cwd, 'out', 'clean.jsonl'))).toBe(false);
  });

  test('--task is checked against the known tasks', async () => {
    const cwd = workdir({ 'ok.jsonl': [red] });
    const { error } = await run(['validate', 'ok.jsonl', '--task', 'captions'], cwd);
    expect(error?.message).toContain('Allowed choices are instruction, vqa, text, retrieval, caption');
  });
});

describe('mmft data split and stats', () => {
  test('split writes three files; stats reads them', async () => {
    const cwd = workdir({
      'all.jsonl': [
        red,
        green,
        { image: 'images/blue.png', caption: 'b' },
        { image: 'images/yellow.jpg', caption: 'y' },
        { image: 'images/red.png', caption: 'r2' },
      ],
    });
    const split = await run(['split', 'all.jsonl', '--ratios', '0.5,0.25,0.25', '--seed', '3'], cwd);
    expect(split.error).toBeUndefined();
    expect(split.stdout).toMatch(/^train\s+\d+ records\s+\d+ images/m);
    const counts = [...split.stdout.matchAll(/(\d+) records/g)].map((m) => Number(m[1]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
    const stats = await run(['stats', 'all.jsonl', '--json'], cwd);
    expect(JSON.parse(stats.stdout)[0]).toMatchObject({ records: 5, images: { distinct: 4, formats: { png: 3, jpeg: 1 } } });
    const text = await run(['stats', 'all.jsonl'], cwd);
    expect(text.stdout).toContain('all.jsonl: image formats: png 3, jpeg 1');
  });

  test('split --out-dir: outputs validate as written; a folder the images would leave needs --root', async () => {
    const four = [red, green, { image: 'images/blue.png', caption: 'b' }, { image: 'images/yellow.jpg', caption: 'y' }];
    const cwd = workdir({ 'all.jsonl': four });
    const refused = await run(['split', 'all.jsonl', '--ratios', '0.5,0.5,0', '--out-dir', 'splits'], cwd);
    expect(refused.error?.message).toContain('image paths would leave');
    expect(fs.existsSync(path.join(cwd, 'splits'))).toBe(false);
    const rooted = await run(['split', 'all.jsonl', '--ratios', '0.5,0.5,0', '--out-dir', 'splits', '--root', '.'], cwd);
    expect(rooted.error).toBeUndefined();
    const checked = await run(['validate', '--splits', 'splits/all.train.jsonl,splits/all.val.jsonl', '--root', '.'], cwd);
    expect(checked.error).toBeUndefined();
    expect(checked.stdout).toContain('OK: 0 errors');
  });

  test('split refuses a corrupt image and an empty file, as validate does', async () => {
    const cwd = workdir({ 'bad.jsonl': [red, green, { image: 'images/corrupt.png', caption: 'x' }], 'empty.jsonl': [] });
    fs.writeFileSync(path.join(cwd, 'empty.jsonl'), '');
    const bad = await run(['split', 'bad.jsonl', '--ratios', '0.5,0.5,0'], cwd);
    expect(bad.error?.message).toContain('bad.jsonl:3: image');
    const empty = await run(['split', 'empty.jsonl', '--ratios', '0.5,0.5,0'], cwd);
    expect(empty.error?.message).toContain('holds no records');
  });

  test('stats treats several files as separate files; --splits checks them as splits', async () => {
    const cwd = workdir({ 'a.jsonl': [red, green], 'b.jsonl': [{ image: 'images/red.png', caption: 'other' }] });
    const plain = await run(['stats', 'a.jsonl', 'b.jsonl'], cwd);
    expect(plain.error).toBeUndefined();
    expect(plain.stdout).not.toContain('errors');
    expect(plain.stdout).toMatch(/b\.jsonl\s+caption\s+1\s+1\s+0/);
    const splits = await run(['stats', '--splits', 'a.jsonl,b.jsonl'], cwd);
    expect(splits.stdout).toContain('b.jsonl: 1 line uses an image of an earlier split (leakage)');
  });
});
