// The QLoRA and kernel tables from a hand-made SuiteReport: QLoRA ÷ LoRA-f32 peak RSS, peak tensors and
// step time, the stored bits per parameter, and 4-bit ÷ f32 GFLOP/s, each checked against numbers worked
// out by hand; goals judged at their boundaries; missing rows say why; the QLoRA row shows no peer in
// both tables; docs get the section only when such rows ran.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from '@jest/globals';
import type { AppliedMemory, AppliedQuantization, ExperimentResult, KernelComparison, SideResult, SuiteReport } from '../suite/result';
import { memoryRows, memoryTableRows } from './memory-md';
import { kernelRows, kernelTableRows, kernelVerdicts, NO_PEER, qloraGroups, qloraSection, qloraTableRows, qloraVerdicts } from './qlora-md';
import { writeDocs } from './write-docs';

const MiB = 2 ** 20;
const timing = (medianMs: number) => ({ medianMs, minMs: medianMs, maxMs: medianMs, iqrPercent: 4, samples: 3 });
const side = (s: 'mmft' | 'torch', medianMs: number, rssMiB: number, memory: AppliedMemory, tensorsMiB?: number): SideResult => ({
  side: s,
  throughput: (2 * 128 * 1000) / medianMs,
  unit: 'tokens/s',
  timing: timing(medianMs),
  peakRssBytes: rssMiB * MiB,
  peakTensorBytes: tensorsMiB === undefined ? undefined : tensorsMiB * MiB,
  engine: { threads: 1 },
  totalParams: 101_000_000,
  trainableParams: 9_500_000,
  memory,
});
const ckpt: AppliedMemory = { checkpointing: 'every block', frozenDtype: 'f32', checkpointedStacks: 1 };
const quantization: AppliedQuantization = {
  quantType: 'nf4',
  blockSize: 64,
  doubleQuant: true,
  quantizedWeights: 56,
  quantizedParams: 92_798_976,
  bytesSaved: 318_992_896,
  bitsPerParameter: 4.126953125,
  residentBitsPerParameter: 4.5003,
  skipped: ['lm_head'],
};
const table = 'wide Llama, batch 2 × 128';
const role = { table, full: 'full' };

const experiments: ExperimentResult[] = [
  {
    name: 'full',
    title: 'full',
    kind: 'train',
    mmft: side('mmft', 8000, 2000, ckpt, 1800),
    torch: side('torch', 6000, 1500, ckpt),
    errors: [],
    memory: role,
  },
  {
    name: 'lora',
    title: 'LoRA-f32',
    kind: 'train',
    mmft: side('mmft', 5000, 1000, ckpt, 800),
    torch: side('torch', 4000, 900, ckpt),
    errors: [],
    memory: role,
  },
  {
    name: 'qlora',
    title: 'QLoRA',
    kind: 'train',
    mmft: side('mmft', 6000, 550, { ...ckpt, quantization }, 400),
    errors: [],
    memory: { ...role, lora_f32: 'lora' },
  },
];

const kernel = (gflops4bit: number, gflopsF32: number, m = 1024): KernelComparison => ({
  m,
  n: 1024,
  k: 1024,
  transposeWeight: true,
  quantType: 'nf4',
  blockSize: 64,
  doubleQuant: true,
  gflops4bit,
  gflopsF32,
  timingF32: timing((2 * m * 1024 * 1024) / gflopsF32 / 1e6),
  relativeError: 2.5e-7,
  how: 'test',
});
const kernelSide = (k: KernelComparison): SideResult => ({
  side: 'mmft',
  throughput: k.gflops4bit,
  unit: 'GFLOP/s',
  timing: timing((2 * k.m * k.n * k.k) / k.gflops4bit / 1e6),
  peakRssBytes: 200 * MiB,
  engine: {},
  kernel: k,
});
const kernels: ExperimentResult[] = [
  { name: 'k1', title: 'training shape', kind: 'kernel', mmft: kernelSide(kernel(35, 50)), errors: [] },
  { name: 'k2', title: 'decode', kind: 'kernel', mmft: kernelSide(kernel(3, 6, 1)), errors: [] },
  { name: 'k3', title: 'no addon', kind: 'kernel', errors: ['mmft: MmftMatMul4bit is not registered on the cpu engine\nhint'] },
];

const report = (list: ExperimentResult[]): SuiteReport => ({
  format: 'mmft-bench',
  version: 1,
  suite: 'full',
  machine: { cpu: 'c', cores: 2, memoryBytes: 2 ** 34, node: 'v20', platform: 'linux x64', load: [1, 1, 1], date: '2026-01-01T00:00:00Z' },
  ceilings: [],
  experiments: list,
});

describe('QLoRA table', () => {
  test('ratios against the LoRA-f32 row of the same run: peak RSS, peak tensors, step time; the stored bits', () => {
    const [g] = qloraGroups(report(experiments));
    expect(g!.peakRss).toBeCloseTo(550 / 1000, 12);
    expect(g!.peakTensors).toBeCloseTo(400 / 800, 12);
    expect(g!.stepTime).toBeCloseTo(6000 / 5000, 12);
    expect([g!.bits, g!.residentBits, g!.lora?.name, g!.full?.name]).toEqual([4.126953125, 4.5003, 'lora', 'full']);
  });

  test('cells: full, LoRA-f32, QLoRA; the QLoRA row has no peer', () => {
    const cells = qloraTableRows(qloraGroups(report(experiments)));
    expect(cells.length).toBe(4);
    expect(cells.slice(1).map((r) => r[1])).toEqual(['full', 'LoRA-f32', 'QLoRA']);
    expect(cells[2]!.slice(2, 8)).toEqual([
      'f32',
      '101 M (9.50 M)',
      '1000.0 MiB',
      '900.0 MiB',
      '800.0 MiB',
      '5,000 ms (±4%), 51.2 tokens/s',
    ]);
    expect(cells[3]).toEqual([
      table,
      'QLoRA',
      'nf4 + double quant, block 64: 56 Linears, 92.8 M params',
      '101 M (9.50 M)',
      '550.0 MiB',
      NO_PEER,
      '400.0 MiB',
      '6,000 ms (±4%), 42.7 tokens/s',
      '0.55× (0.50×)',
      '1.20×',
      '4.127 / 4.50',
    ]);
    expect(cells[1]![8]).toBe('-');
  });

  test('verdicts at the goals: peak ≤ 0.6, step ≤ 1.3, bits 4.127 at three decimals', () => {
    expect(qloraVerdicts(qloraGroups(report(experiments)))).toEqual([
      "QLoRA: peak RSS ÷ LoRA-f32's 0.55 (peak tensor bytes 0.50×), goal ≤ 0.6: met",
      "QLoRA: step time ÷ LoRA-f32's 1.20, goal ≤ 1.3: met",
      'QLoRA: bits per parameter of the stored base 4.1270 (resident in memory 4.500), goal 4.127: met',
    ]);
    const worse = experiments.map((e) =>
      e.name === 'qlora'
        ? { ...e, mmft: side('mmft', 6600, 610, { ...ckpt, quantization: { ...quantization, bitsPerParameter: 4.5 } }, 400) }
        : e,
    );
    expect(qloraVerdicts(qloraGroups(report(worse)))).toEqual([
      "QLoRA: peak RSS ÷ LoRA-f32's 0.61 (peak tensor bytes 0.50×), goal ≤ 0.6: NOT met",
      "QLoRA: step time ÷ LoRA-f32's 1.32, goal ≤ 1.3: NOT met",
      'QLoRA: bits per parameter of the stored base 4.5000 (resident in memory 4.500), goal 4.127: NOT met',
    ]);
  });

  test('without its LoRA-f32 row, or without mmft, the goals are not measured and say why', () => {
    expect(qloraVerdicts(qloraGroups(report([experiments[2]!])))).toEqual([
      'QLoRA: peak RSS ÷ LoRA-f32 (goal ≤ 0.6): not measured (no lora row in this run)',
      'QLoRA: step time ÷ LoRA-f32 (goal ≤ 1.3): not measured (no lora row in this run)',
      'QLoRA: bits per parameter of the stored base 4.1270 (resident in memory 4.500), goal 4.127: met',
    ]);
    const failed = { ...experiments[2]!, mmft: undefined, errors: ['mmft: out of memory'] };
    const lines = qloraVerdicts(qloraGroups(report([experiments[1]!, failed])));
    expect(lines[0]).toBe('QLoRA: peak RSS ÷ LoRA-f32 (goal ≤ 0.6): not measured (mmft unavailable)');
    expect(lines[2]).toBe('QLoRA: bits per parameter of the stored base (goal 4.127): not measured (mmft unavailable)');
  });

  test('the memory table shows the 4-bit base and no peer on the QLoRA row, after the float32 rows', () => {
    const rows = memoryRows(report(experiments));
    expect(rows.map((r) => [r.name, r.frozenDtype])).toEqual([
      ['full', 'f32'],
      ['lora', 'f32'],
      ['qlora', 'nf4 + double quant (4-bit)'],
    ]);
    expect(memoryTableRows(rows)[3]![4]).toBe(`550.0 MiB / ${NO_PEER}`);
  });
});

describe('kernel rows', () => {
  test('4-bit ÷ f32 GFLOP/s per row, judged against ≥ 0.7; a row without a result says why', () => {
    const rows = kernelRows(report([...experiments, ...kernels]));
    expect(rows.map((r) => r.ratio)).toEqual([35 / 50, 3 / 6, undefined]);
    expect(kernelVerdicts(rows)).toEqual([
      'training shape: fused 4-bit 35.0 GFLOP/s ÷ f32 50.0 = 0.70, goal ≥ 0.7: met',
      'decode: fused 4-bit 3.00 GFLOP/s ÷ f32 6.00 = 0.50, goal ≥ 0.7: NOT met',
      'no addon: 4-bit ÷ f32 GFLOP/s (goal ≥ 0.7): not measured (mmft: MmftMatMul4bit is not registered on the cpu engine)',
    ]);
    const cells = kernelTableRows(rows);
    // 2·1024³ FLOP at 35 GFLOP/s: 61.4 ms; at 50: 42.9 ms.
    expect(cells[1]).toEqual([
      'training shape',
      'm 1024, n 1024, k 1024: x·Wᵀ (forward)',
      'nf4 + double quant, block 64',
      '35.0 (61.4)',
      '50.0 (42.9)',
      '0.70×',
      '2.5e-7',
    ]);
    expect(cells[3]).toEqual(['no addon', 'unavailable', '-', '-', '-', '-', '-']);
  });

  test('docs get a QLoRA section only when QLoRA or kernel rows ran', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-bench-qlora-'));
    writeDocs(report([...experiments, ...kernels]), dir);
    const md = fs.readFileSync(path.join(dir, 'benchmarks.md'), 'utf8');
    expect(md).toContain('### QLoRA');
    expect(md).toContain(`| ${table} | QLoRA | nf4 + double quant, block 64: 56 Linears, 92.8 M params |`);
    expect(md).toContain('| training shape | m 1024, n 1024, k 1024: x·Wᵀ (forward) |');
    expect(qloraSection(report(experiments.slice(0, 2)))).toEqual([]);
    expect(qloraSection(report(kernels))[0]).toBe('### QLoRA');
  });
});
