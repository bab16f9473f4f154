// Reports from a hand-made SuiteReport: the summary table carries ratio_vs_torch, --compare flags
// a regression, docs regeneration keeps the hand-written introduction, the PEFT verdict is right.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { SideResult, SuiteReport } from '../suite/result';
import { compareRows } from './compare';
import { summaryRows } from './summary-table';
import { barChart } from './svg';
import { GENERATED_MARKER, writeDocs } from './write-docs';

const side = (s: 'mmft' | 'torch', throughput: number, rss: number, threads = 1): SideResult => ({
  side: s,
  throughput,
  unit: 'samples/s',
  peakRssBytes: rss,
  loss: 3.4,
  steps: 8,
  trainableParams: 10,
  totalParams: 100,
  flops: 16e9,
  timing: { medianMs: 32000 / throughput, minMs: 1, maxMs: 2, iqrPercent: 5, samples: 6 },
  engine: { threads },
});

const report = (fullSpeed: number): SuiteReport => ({
  format: 'mmft-bench',
  version: 1,
  suite: 'quick',
  machine: {
    cpu: 'test cpu',
    cores: 2,
    memoryBytes: 2 ** 34,
    node: 'v20',
    platform: 'linux x64',
    load: [1, 1, 1],
    date: '2026-01-01T00:00:00Z',
  },
  ceilings: [
    { engine: 'tfjs wasm (threads 1)', size: 512, gflops: 29 },
    { engine: 'torch 1.13 (threads 2), OpenBLAS threads 2', size: 512, gflops: 150 },
  ],
  experiments: [
    {
      name: 'clip-small-full',
      title: 'full',
      kind: 'train',
      group: 'peft',
      mmft: side('mmft', fullSpeed, 900 * 2 ** 20),
      torch: side('torch', 40, 600 * 2 ** 20, 2),
      torchRuns: [side('torch', 40, 1, 2), side('torch', 30, 1, 1)],
      ratioVsTorch: fullSpeed / 40,
      errors: [],
    },
    { name: 'clip-small-lora', title: 'lora', kind: 'train', group: 'peft', mmft: side('mmft', 30, 800 * 2 ** 20), errors: [] },
    { name: 'clip-small-prompt', title: 'prompt', kind: 'train', group: 'peft', errors: ['mmft: no prompt injection point'] },
  ],
});

describe('reports', () => {
  test('the summary row has throughputs, every torch setting and ratio_vs_torch', () => {
    const [header, full] = summaryRows(report(20).experiments);
    expect(header).toContain('ratio_vs_torch');
    expect(full).toEqual(
      expect.arrayContaining(['clip-small-full', '20.0 samples/s', '40.0 samples/s (2 thr)', '2 thr: 40.0, 1 thr: 30.0', '0.50×']),
    );
  });

  test('--compare prints new ÷ old and flags a regression', () => {
    const rows = compareRows(report(20), report(10));
    expect(rows.find((r) => r[0] === 'clip-small-full')).toEqual([
      'clip-small-full',
      '20.0',
      '10.0',
      '0.50×  REGRESSION',
      '0.50×',
      '0.25×',
    ]);
    expect(() => compareRows({ format: 'other' } as unknown as SuiteReport, report(1))).toThrow(/not an mmft bench JSON/);
  });

  test('docs are regenerated below the marker; the introduction is kept; results.md has the verdict', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-docs-'));
    fs.writeFileSync(path.join(dir, 'benchmarks.md'), `# Intro by hand\n\n${GENERATED_MARKER}\n\nold numbers\n`);
    const written = writeDocs(report(20), dir);
    expect(written.map((f) => path.basename(f)).sort()).toEqual(['benchmarks.md', 'benchmarks.svg', 'results.md', 'results.svg']);
    const md = fs.readFileSync(path.join(dir, 'benchmarks.md'), 'utf8');
    expect(md.startsWith('# Intro by hand\n')).toBe(true);
    expect(md).not.toContain('old numbers');
    expect(md).toContain('| clip-small-full |');
    const results = fs.readFileSync(path.join(dir, 'results.md'), 'utf8');
    expect(results).toContain("LoRA peak RSS 800.0 MiB vs full fine-tune 900.0 MiB: below full fine-tune's (-11.1%)");
    expect(results).toMatch(/\| prompt \| unavailable \|.*no prompt injection point/);
  });

  test('the SVG chart has one bar per value and escapes labels', () => {
    const svg = barChart(
      't',
      ['a', 'b'],
      [
        { label: 'x<y', values: [1, 2] },
        { label: 'z', values: [3, undefined] },
      ],
    );
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('x&lt;y');
    expect(svg.match(/<rect x="300" y="\d+" width="[\d.]+" height="12"/g)).toHaveLength(3);
  });
});
