// scripts/fewshot-plot.mjs on two hand-written sweeps (the eval.json `mmft eval recipe --shots`
// writes): the markdown table's cells are the files' scores, the SVG has a panel per metric and a
// dot per score of each bridge, and a bad argument or file fails naming it.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const SCRIPT = path.resolve(__dirname, '../../scripts/fewshot-plot.mjs');
let tmp: string;

const sweep = (modelType: string, rows: Array<[number, Record<string, number>]>) =>
  JSON.stringify({
    recipe: 'r.yaml',
    modelType,
    examples: 4,
    shots: rows.map(([shots, metrics]) => ({ shots, metrics, predictions: {} })),
  });

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-fewshot-plot-'));
  fs.writeFileSync(
    path.join(tmp, 'a.json'),
    sweep('idefics', [
      [0, { 'caption.cider': 12.5, 'vqa.accuracy': 20 }],
      [2, { 'caption.cider': 30, 'vqa.accuracy': 25 }],
    ]),
  );
  fs.writeFileSync(path.join(tmp, 'b.json'), sweep('llava', [[0, { 'caption.cider': 40 }]]));
  fs.writeFileSync(path.join(tmp, 'bad.json'), JSON.stringify({ recipe: 'r.yaml', clean: {} }));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { cwd: tmp, encoding: 'utf8' });

test('the table on stdout and one SVG with a panel per metric and a line per bridge', () => {
  const r = run('--out', 'figs/f.svg', '--title', 'few-shot', 'IDEFICS=a.json', 'LLaVA=b.json');
  expect(r.stderr).toBe('wrote figs/f.svg\n');
  expect(r.status).toBe(0);
  expect(r.stdout.trim().split('\n')).toEqual([
    '| bridge | caption.cider@0 | caption.cider@2 | vqa.accuracy@0 | vqa.accuracy@2 |',
    '|---|---:|---:|---:|---:|',
    '| IDEFICS | 12.50 | 30.00 | 20.00 | 25.00 |',
    '| LLaVA | 40.00 | - | - | - |',
  ]);
  const svg = fs.readFileSync(path.join(tmp, 'figs/f.svg'), 'utf8');
  expect([...svg.matchAll(/font-weight="bold">([^<]+)</g)].map((m) => m[1])).toEqual(['few-shot', 'caption.cider', 'vqa.accuracy']);
  expect([...svg.matchAll(/data-series="([^"]+)" data-x="(\d+)" data-y="([\d.]+)"/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`)).toEqual([
    'IDEFICS:0:12.5',
    'IDEFICS:2:30',
    'LLaVA:0:40',
    'IDEFICS:0:20',
    'IDEFICS:2:25',
  ]);
  const only = run('--out', 'g.svg', '--metrics', 'vqa.accuracy', 'IDEFICS=a.json');
  expect(only.stdout.split('\n')[0]).toBe('| bridge | vqa.accuracy@0 | vqa.accuracy@2 |');
});

test('NAME=a,b averages the sweeps of one model (one per seed) score by score', () => {
  fs.writeFileSync(
    path.join(tmp, 'a2.json'),
    sweep('idefics', [
      [0, { 'caption.cider': 7.5, 'vqa.accuracy': 30 }],
      [2, { 'caption.cider': 40, 'vqa.accuracy': 35 }],
    ]),
  );
  const r = run('--out', 'm.svg', 'IDEFICS=a.json,a2.json');
  expect(r.status).toBe(0);
  // (12.5 + 7.5) / 2, (30 + 40) / 2, (20 + 30) / 2, (25 + 35) / 2
  expect(r.stdout.trim().split('\n')[2]).toBe('| IDEFICS | 10.00 | 35.00 | 25.00 | 30.00 |');
  const odd = run('--out', 'm.svg', 'X=a.json,b.json');
  expect(odd.status).toBe(2);
  expect(odd.stderr).toContain('averaged files must sweep the same shots');
});

test('missing --out, a file without shots, an unknown metric and a repeated name fail with exit status 2', () => {
  const cases: Array<[string[], string]> = [
    [['A=a.json'], '--out is required'],
    [['--out', 'x.svg', 'A=bad.json'], 'bad.json: no "shots" list'],
    [['--out', 'x.svg', '--metrics', 'caption.spice', 'A=a.json'], '--metrics caption.spice: no run reports it'],
    [['--out', 'x.svg', 'A=a.json', 'A=b.json'], 'the name "A" is given twice'],
    [['--out', 'x.svg', 'a.json'], 'unexpected argument "a.json"'],
  ];
  for (const [args, message] of cases) {
    const r = run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
  }
  expect(fs.existsSync(path.join(tmp, 'x.svg'))).toBe(false);
});
