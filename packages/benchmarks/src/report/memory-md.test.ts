// The memory tables from a hand-made SuiteReport: every ratio checked against numbers worked out by
// hand (peak ÷ full, checkpointing cost, mmft ÷ torch), goals judged met or not, rows whose reference
// or mmft side is missing say "not measured", and docs get the section only when memory rows ran.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { AppliedMemory, ExperimentResult, SideResult, SuiteReport } from '../suite/result';
import { memoryRows, memorySection, memoryTableRows, memoryVerdicts } from './memory-md';
import { writeDocs } from './write-docs';

const MiB = 2 ** 20;
const side = (s: 'mmft' | 'torch', throughput: number, rssMiB: number, memory: AppliedMemory, tensorsMiB?: number): SideResult => ({
  side: s,
  throughput,
  unit: 'samples/s',
  peakRssBytes: rssMiB * MiB,
  peakTensorBytes: tensorsMiB === undefined ? undefined : tensorsMiB * MiB,
  timing: { medianMs: 1000, minMs: 1, maxMs: 2, iqrPercent: 5, samples: 4 },
  engine: { threads: 1 },
  memory,
});
const off: AppliedMemory = { checkpointing: 'off', frozenDtype: 'f32' };
const ckpt: AppliedMemory = { checkpointing: 'every block', frozenDtype: 'f32', checkpointedStacks: 2 };
const table = 'small CLIP, batch 32';

const experiments: ExperimentResult[] = [
  {
    name: 'clip-small-full',
    title: 'full',
    kind: 'train',
    mmft: side('mmft', 20, 800, off, 400),
    torch: side('torch', 25, 600, off),
    errors: [],
    memory: { table, full: 'clip-small-full' },
  },
  {
    name: 'clip-small-lora',
    title: 'LoRA',
    kind: 'train',
    mmft: side('mmft', 30, 700, off, 300),
    torch: side('torch', 40, 500, off),
    errors: [],
    memory: { table, full: 'clip-small-full' },
  },
  {
    name: 'clip-small-lora-ckpt',
    title: 'LoRA + ckpt',
    kind: 'train',
    mmft: side('mmft', 24, 360, ckpt, 100),
    torch: side('torch', 30, 330, ckpt),
    errors: [],
    memory: { table, full: 'clip-small-full', without_checkpointing: 'clip-small-lora', peak_goal: 0.5 },
  },
  {
    name: 'llama-ckpt',
    title: 'LM LoRA + ckpt',
    kind: 'train',
    torch: side('torch', 900, 300, ckpt),
    errors: ['mmft: no block stack'],
    memory: { table: 'small Llama, sequence 256', full: 'llama-full', without_checkpointing: 'llama-lora', peak_goal: 0.35 },
  },
  { name: 'other', title: 'not a memory row', kind: 'train', mmft: side('mmft', 1, 1, off), errors: [] },
];

const report: SuiteReport = {
  format: 'mmft-bench',
  version: 1,
  suite: 'full',
  machine: { cpu: 'c', cores: 2, memoryBytes: 2 ** 34, node: 'v20', platform: 'linux x64', load: [1, 1, 1], date: '2026-01-01T00:00:00Z' },
  ceilings: [],
  experiments,
};

describe('memory tables', () => {
  test('ratios: peak ÷ full (RSS both sides, mmft tensors), checkpointing cost, mmft ÷ torch', () => {
    const rows = memoryRows(report);
    expect(rows.map((r) => r.name)).toEqual(['clip-small-full', 'clip-small-lora', 'clip-small-lora-ckpt', 'llama-ckpt']);
    const r = rows[2]!;
    expect(r.vsFull.mmftRss).toBeCloseTo(360 / 800, 12); // 0.45
    expect(r.vsFull.mmftTensors).toBeCloseTo(100 / 400, 12); // 0.25
    expect(r.vsFull.torchRss).toBeCloseTo(330 / 600, 12); // 0.55
    expect(r.checkpointCost.mmft).toBeCloseTo(1 - 24 / 30, 12); // 20 %
    expect(r.checkpointCost.torch).toBeCloseTo(1 - 30 / 40, 12); // 25 %
    expect(r.mmftOverTorch).toBeCloseTo(360 / 330, 12);
    expect(rows[3]).toMatchObject({ mmftUnavailable: true, checkpointing: 'every block', vsFull: {}, checkpointCost: {} });
    expect(rows[3]!.vsFull.torchRss).toBeUndefined(); // its full row did not run
  });

  test('within a table: full, then without checkpointing, with it, with 16-bit weights; whatever the run order', () => {
    const bf16 = { ...experiments[2]!, name: 'clip-bf16', mmft: side('mmft', 20, 350, { ...ckpt, frozenDtype: 'bf16' }, 90) };
    const shuffled = { ...report, experiments: [experiments[3]!, bf16, experiments[2]!, experiments[1]!, experiments[0]!] };
    expect(memoryRows(shuffled).map((r) => r.name)).toEqual([
      'llama-ckpt',
      'clip-small-full',
      'clip-small-lora',
      'clip-small-lora-ckpt',
      'clip-bf16',
    ]);
  });

  test('table cells and verdicts', () => {
    const rows = memoryRows(report);
    const cells = memoryTableRows(rows);
    expect(cells[3]).toEqual([
      table,
      'LoRA + ckpt',
      'every block',
      'f32',
      '360.0 MiB / 330.0 MiB',
      '1.09×',
      '100.0 MiB',
      '0.45× / 0.25× / 0.55×',
      '24.0 samples/s / 30.0',
      '20% / 25%',
    ]);
    expect(cells[1]![7]).toBe('-'); // the full row against itself
    expect(cells[4]![4]).toBe('unavailable / 300.0 MiB');
    expect(memoryVerdicts(rows)).toEqual([
      "full: mmft peak RSS ÷ PyTorch's 1.33, goal ≤ 1: NOT met",
      "LoRA: mmft peak RSS ÷ PyTorch's 1.40, goal ≤ 1: NOT met",
      "LoRA + ckpt: mmft peak RSS ÷ full fine-tune's 0.45 (peak tensor bytes 0.25×), goal ≤ 0.5: met",
      'LoRA + ckpt: mmft throughput cost of checkpointing 20% (PyTorch 25%), goal ≤ 30%: met',
      "LoRA + ckpt: mmft peak RSS ÷ PyTorch's 1.09, goal ≤ 1: NOT met",
      'LM LoRA + ckpt: peak ÷ full fine-tune peak (goal ≤ 0.35): not measured (mmft unavailable)',
      'LM LoRA + ckpt: throughput cost of checkpointing (goal ≤ 30%): not measured',
    ]);
  });

  test('docs get a Memory section only when memory rows ran', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-mem-'));
    writeDocs(report, dir);
    const md = fs.readFileSync(path.join(dir, 'benchmarks.md'), 'utf8');
    expect(md).toContain('### Memory');
    expect(md).toContain('| small CLIP, batch 32 | LoRA + ckpt | every block | f32 | 360.0 MiB / 330.0 MiB |');
    expect(memorySection({ ...report, experiments: experiments.slice(4) })).toEqual([]);
  });
});
