// The ONNX Runtime table from a hand-made run: each -ort row is paired with its tfjs sibling and that
// sibling's peer, the three ratios are the throughput quotients, thread settings are listed, and a
// run without onnxruntime rows adds nothing to the generated page.
import { describe, expect, test } from '@jest/globals';
import type { ExperimentResult, SideResult, SuiteReport } from '../suite/result';
import { benchmarksMarkdown } from './benchmarks-md';
import { onnxComparisons, onnxRows, onnxRuntimeSection } from './onnx-md';

const side = (
  s: 'mmft' | 'torch',
  throughput: number,
  engine: Record<string, unknown>,
  unit: SideResult['unit'] = 'tokens/s',
): SideResult => ({
  side: s,
  throughput,
  unit,
  peakRssBytes: 100 * 2 ** 20,
  timing: { medianMs: 1000 / throughput, minMs: 1, maxMs: 2, iqrPercent: 5, samples: 6 },
  engine,
});

const ort = (throughput: number, unit: SideResult['unit'] = 'tokens/s') =>
  side(
    'mmft',
    throughput,
    {
      name: 'onnxruntime-node',
      threads: 1,
      threadRuns: [
        { threads: 2, throughput: throughput / 2 },
        { threads: 1, throughput },
      ],
    },
    unit,
  );

const experiments: ExperimentResult[] = [
  {
    name: 'llama-small-decode-b1',
    title: 'tfjs',
    kind: 'decode',
    mmft: side('mmft', 40, { name: 'wasm', threads: 1 }),
    torch: side('torch', 160, { threads: 1 }),
    torchRuns: [side('torch', 150, { threads: 2 }), side('torch', 160, { threads: 1 })],
    ratioVsTorch: 0.25,
    errors: [],
  },
  { name: 'llama-small-decode-b1-ort', title: 'ort', kind: 'decode', mmft: ort(640), torchRuns: [], errors: [] },
  // No sibling in this run: the row still shows, without ratios.
  { name: 'clip-small-embed-text-ort', title: 'ort', kind: 'embed-text', mmft: ort(1100, 'texts/s'), errors: [] },
  { name: 'clip-small-embed', title: 'tfjs', kind: 'embed', mmft: side('mmft', 300, { name: 'wasm' }, 'images/s'), errors: [] },
];

const report = (rows: ExperimentResult[]): SuiteReport => ({
  format: 'mmft-bench',
  version: 1,
  suite: 'full',
  machine: {
    cpu: 'cpu',
    cores: 2,
    memoryBytes: 2 ** 33,
    node: 'v20',
    platform: 'linux x64',
    load: [1, 1, 1],
    date: '2026-01-01T00:00:00Z',
  },
  ceilings: [],
  experiments: rows,
});

describe('ONNX Runtime table', () => {
  test('pairs each -ort row with its tfjs sibling and that sibling’s peer', () => {
    const [llama, clip] = onnxComparisons(experiments);
    expect(onnxComparisons(experiments)).toHaveLength(2);
    expect(llama).toMatchObject({ name: 'llama-small-decode-b1', unit: 'tokens/s' });
    expect(llama!.ortVsTfjs).toBeCloseTo(640 / 40, 12);
    expect(llama!.ortVsTorch).toBeCloseTo(640 / 160, 12);
    expect(llama!.tfjsVsTorch).toBeCloseTo(40 / 160, 12);
    expect(clip).toMatchObject({ name: 'clip-small-embed-text', tfjs: undefined, torch: undefined, ortVsTfjs: undefined });
  });

  test('rows show each engine’s thread settings and the ratios', () => {
    const rows = onnxRows(onnxComparisons(experiments));
    expect(rows[0]).toContain('ORT ÷ tfjs');
    expect(rows[1]).toEqual([
      'llama-small-decode-b1',
      '640 tokens/s (2 thr: 320, 1 thr: 640)',
      '40.0 tokens/s',
      '160 tokens/s (2 thr: 150, 1 thr: 160)',
      '16.00×',
      '4.00×',
      '0.25×',
      '1.56 / 25.0 / 6.25',
      '100.0 MiB / 100.0 MiB / 100.0 MiB',
    ]);
    expect(rows[2]!.slice(2, 5)).toEqual(['-', '-', '-']);
  });

  test('the generated page has the section only when a run has onnxruntime rows', () => {
    expect(benchmarksMarkdown(report(experiments), 'b.svg')).toContain('### ONNX Runtime');
    expect(onnxRuntimeSection(report(experiments.filter((e) => !e.name.endsWith('-ort'))))).toEqual([]);
    expect(benchmarksMarkdown(report(experiments.filter((e) => !e.name.endsWith('-ort'))), 'b.svg')).not.toContain('### ONNX Runtime');
  });
});
