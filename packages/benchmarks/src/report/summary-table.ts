// The one table every output shares (terminal, JSON readers, markdown): per experiment mmft's
// throughput, PyTorch's, ratio_vs_torch, median step time with its spread, peak RSS, loss after N
// steps, and mmft's achieved GFLOP/s from the counted FLOPs.
import type { ExperimentResult, SideResult } from '../suite/result';
import { formatBytes, formatNumber, formatRatio } from './format';

const gflops = (side: SideResult | undefined) => (side?.flops !== undefined ? side.flops / (side.timing.medianMs / 1000) / 1e9 : undefined);

/** Header + one row per experiment. */
export function summaryRows(experiments: readonly ExperimentResult[]): string[][] {
  const threadsOf = (side: SideResult) => String((side.engine as { threads?: unknown }).threads ?? '?');
  const rows = [
    [
      'experiment',
      'mmft',
      'torch (fastest setting)',
      'torch by threads',
      'ratio_vs_torch',
      'mmft median ms (IQR)',
      'torch median ms (IQR)',
      'mmft peak RSS',
      'torch peak RSS',
      'loss mmft / torch',
      'mmft GFLOP/s',
    ],
  ];
  for (const e of experiments) {
    const unit = e.mmft?.unit ?? e.torch?.unit ?? '';
    const time = (s: SideResult | undefined) => (s ? `${formatNumber(s.timing.medianMs)} (±${s.timing.iqrPercent.toFixed(0)}%)` : '-');
    const loss =
      e.mmft?.loss !== undefined || e.torch?.loss !== undefined
        ? `${formatNumber(e.mmft?.loss, 4)} / ${formatNumber(e.torch?.loss, 4)}`
        : '-';
    rows.push([
      e.name,
      e.mmft ? `${formatNumber(e.mmft.throughput)} ${unit}` : e.errors.some((x) => x.startsWith('mmft')) ? 'unavailable' : '-',
      e.torch ? `${formatNumber(e.torch.throughput)} ${unit} (${threadsOf(e.torch)} thr)` : '-',
      (e.torchRuns ?? []).map((r) => `${threadsOf(r)} thr: ${formatNumber(r.throughput)}`).join(', ') || '-',
      formatRatio(e.ratioVsTorch),
      time(e.mmft),
      time(e.torch),
      formatBytes(e.mmft?.peakRssBytes),
      formatBytes(e.torch?.peakRssBytes),
      loss,
      formatNumber(gflops(e.mmft)),
    ]);
  }
  return rows;
}

/** Achieved GFLOP/s of a side (counted FLOPs / median time). */
export { gflops as achievedGflops };
