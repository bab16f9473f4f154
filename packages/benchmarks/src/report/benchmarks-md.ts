// The generated part of docs/benchmarks.md: machine, GEMM ceilings, the summary table with
// ratio_vs_torch, FLOPs per step with achieved GFLOP/s and fraction of each ceiling, per-kernel
// tf.profile tables of one training step (and torch's top ops), errors, torch.__config__.
import type { SuiteReport } from '../suite/result';
import { formatBytes, formatNumber, markdownTable } from './format';
import { memorySection } from './memory-md';
import { onnxRuntimeSection } from './onnx-md';
import { qloraSection } from './qlora-md';
import { achievedGflops, summaryRows } from './summary-table';

const best = (report: SuiteReport, prefix: string) =>
  Math.max(0, ...report.ceilings.filter((c) => c.engine.startsWith(prefix)).map((c) => c.gflops));

function flopsSection(report: SuiteReport, svgName: string): string[] {
  const tfjsCeiling = best(report, 'tfjs');
  const hwCeiling = best(report, 'torch');
  const rows = [
    [
      'experiment',
      'GFLOP per step (counted)',
      'mmft GFLOP/s',
      'torch GFLOP/s',
      'mmft ÷ its own GEMM ceiling (tf.matMul)',
      'mmft ÷ hardware ceiling (OpenBLAS)',
    ],
  ];
  for (const e of report.experiments.filter((x) => x.kind !== 'data' && x.kind !== 'metrics')) {
    const flops = e.mmft?.flops ?? e.torch?.flops;
    const m = achievedGflops(e.mmft);
    const pct = (c: number) => (m !== undefined && c > 0 ? `${((100 * m) / c).toFixed(1)}%` : '-');
    rows.push([
      e.name,
      formatNumber(flops !== undefined ? flops / 1e9 : undefined),
      formatNumber(m),
      formatNumber(achievedGflops(e.torch)),
      pct(tfjsCeiling),
      pct(hwCeiling),
    ]);
  }
  return [
    '### FLOPs and the GEMM ceiling',
    '',
    markdownTable([
      ['engine', 'size', 'GFLOP/s'],
      ...report.ceilings.map((c) => [c.engine, `${c.size}×${c.size}`, formatNumber(c.gflops)]),
    ]),
    '',
    markdownTable(rows),
    '',
    `![throughput](${svgName})`,
    '',
  ];
}

function profileSection(report: SuiteReport): string[] {
  const out = ['### Kernel profiles of one training step', ''];
  for (const e of report.experiments) {
    for (const side of [e.mmft, e.torch]) {
      if (!side?.profile) continue;
      const what = side.side === 'mmft' ? 'tfjs kernels (tf.profile)' : 'torch ops (autograd profiler, self CPU time)';
      out.push(`<details><summary>${e.name} — ${side.side}: ${what}</summary>`, '');
      out.push(
        markdownTable([
          ['kernel', 'calls', 'ms', '% of step kernels'],
          ...side.profile.slice(0, 15).map((k) => [k.name, String(k.calls), k.ms.toFixed(1), k.percent.toFixed(1)]),
        ]),
      );
      out.push('', '</details>', '');
    }
  }
  return out;
}

/**
 * Markdown of one suite run (the part below the hand-written introduction).
 *
 * @example
 * const md = benchmarksMarkdown(report, 'benchmarks.svg');
 */
export function benchmarksMarkdown(report: SuiteReport, svgName: string): string {
  const m = report.machine;
  const lines = [
    `Suite \`${report.suite}\`, ${m.date.slice(0, 16).replace('T', ' ')} UTC — ${m.cores} × ${m.cpu}, ${formatBytes(m.memoryBytes)}, Node ${m.node}, ${m.platform}; load average at the end ${m.load.join(' / ')} (the machine is shared: medians and spreads, not best runs).`,
    '',
    markdownTable(summaryRows(report.experiments)),
    '',
    'ratio_vs_torch = mmft throughput ÷ PyTorch throughput (samples/s, images/s or tokens/s), measured side by side in this run (above 1: mmft is faster). IQR: interquartile range of the timed steps relative to the median.',
    '',
    ...memorySection(report),
    ...qloraSection(report),
    ...onnxRuntimeSection(report),
    ...flopsSection(report, svgName),
    ...profileSection(report),
  ];
  const engines = report.experiments.map((e) => e.mmft?.engine).find((x) => x !== undefined);
  const torchEngine = report.experiments.map((e) => e.torch?.engine).find((x) => x !== undefined);
  lines.push(
    '### Engines',
    '',
    `- mmft: \`${JSON.stringify(engines ?? {})}\``,
    `- torch: \`${JSON.stringify(torchEngine ?? 'not run')}\``,
    '',
  );
  const errors = report.experiments.flatMap((e) => e.errors.map((x) => `- ${e.name}: ${x.split('\n')[0]}`));
  if (errors.length > 0) lines.push('### Not measured', '', ...errors, '');
  if (report.torchConfig)
    lines.push('<details><summary>torch.__config__.show()</summary>', '', '```', report.torchConfig.trim(), '```', '', '</details>', '');
  return lines.join('\n');
}
