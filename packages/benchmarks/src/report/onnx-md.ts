// The ONNX Runtime table of docs/benchmarks.md: each `runtime: onnxruntime` row (named
// `<experiment>-ort`) beside its tfjs sibling `<experiment>` of the same run and that sibling's
// PyTorch peer — three engines on one model shape, with the ratios between them.
import type { ExperimentResult, SideResult, SuiteReport } from '../suite/result';
import { formatBytes, formatNumber, formatRatio, markdownTable } from './format';

/** Suffix of an onnxruntime row's experiment name; the rest names its tfjs sibling. */
export const ONNX_ROW_SUFFIX = '-ort';

/** One shape measured on onnxruntime-node, tfjs and (when the peer ran) PyTorch. */
export interface OnnxComparison {
  readonly name: string;
  readonly unit: string;
  readonly ort: SideResult;
  readonly tfjs?: SideResult;
  readonly torch?: SideResult;
  readonly torchRuns: readonly SideResult[];
  /** onnxruntime ÷ tfjs, onnxruntime ÷ PyTorch, tfjs ÷ PyTorch (throughputs), when both sides ran. */
  readonly ortVsTfjs?: number;
  readonly ortVsTorch?: number;
  readonly tfjsVsTorch?: number;
}

const isOrt = (side: SideResult | undefined): side is SideResult =>
  (side?.engine as { name?: unknown } | undefined)?.name === 'onnxruntime-node';
const ratio = (a: SideResult | undefined, b: SideResult | undefined) => (a && b ? a.throughput / b.throughput : undefined);

/**
 * The onnxruntime rows of a run paired with their siblings, in run order.
 *
 * @example
 * onnxComparisons(report)[0]; // { name: 'clip-small-embed', ort, tfjs, torch, ortVsTfjs: 1.9, ... }
 */
export function onnxComparisons(experiments: readonly ExperimentResult[]): OnnxComparison[] {
  const out: OnnxComparison[] = [];
  for (const row of experiments) {
    if (!isOrt(row.mmft)) continue;
    const name = row.name.endsWith(ONNX_ROW_SUFFIX) ? row.name.slice(0, -ONNX_ROW_SUFFIX.length) : row.name;
    const sibling = experiments.find((e) => e.name === name && e !== row);
    const tfjs = sibling?.mmft && !isOrt(sibling.mmft) ? sibling.mmft : undefined;
    // The peer of the sibling, or of the onnxruntime row itself when it ran one.
    const torch = sibling?.torch ?? row.torch;
    out.push({
      name,
      unit: row.mmft.unit,
      ort: row.mmft,
      tfjs,
      torch,
      torchRuns: (sibling?.torch ? sibling.torchRuns : row.torchRuns) ?? [],
      ortVsTfjs: ratio(row.mmft, tfjs),
      ortVsTorch: ratio(row.mmft, torch),
      tfjsVsTorch: ratio(tfjs, torch),
    });
  }
  return out;
}

const threadsOf = (side: SideResult) => String((side.engine as { threads?: unknown }).threads ?? '?');

/** Throughput at each thread setting of an onnxruntime side ("2 thr: 282, 1 thr: 375"). */
function ortByThreads(side: SideResult): string {
  const runs = (side.engine as { threadRuns?: Array<{ threads: number; throughput: number }> }).threadRuns ?? [];
  return runs.map((r) => `${r.threads} thr: ${formatNumber(r.throughput)}`).join(', ') || '-';
}

/** Header + one row per comparison. */
export function onnxRows(comparisons: readonly OnnxComparison[]): string[][] {
  const rows = [
    [
      'experiment',
      'onnxruntime-node (by intra-op threads)',
      'tfjs wasm + native kernels',
      'PyTorch (by threads)',
      'ORT ÷ tfjs',
      'ORT ÷ PyTorch',
      'tfjs ÷ PyTorch',
      'median ms ORT / tfjs / PyTorch',
      'peak RSS ORT / tfjs / PyTorch',
    ],
  ];
  for (const c of comparisons) {
    const ms = (s: SideResult | undefined) => formatNumber(s?.timing.medianMs);
    const torchBy = c.torchRuns.map((r) => `${threadsOf(r)} thr: ${formatNumber(r.throughput)}`).join(', ');
    rows.push([
      c.name,
      `${formatNumber(c.ort.throughput)} ${c.unit} (${ortByThreads(c.ort)})`,
      c.tfjs ? `${formatNumber(c.tfjs.throughput)} ${c.unit}` : '-',
      c.torch ? `${formatNumber(c.torch.throughput)} ${c.unit}${torchBy ? ` (${torchBy})` : ''}` : '-',
      formatRatio(c.ortVsTfjs),
      formatRatio(c.ortVsTorch),
      formatRatio(c.tfjsVsTorch),
      `${ms(c.ort)} / ${ms(c.tfjs)} / ${ms(c.torch)}`,
      `${formatBytes(c.ort.peakRssBytes)} / ${formatBytes(c.tfjs?.peakRssBytes)} / ${formatBytes(c.torch?.peakRssBytes)}`,
    ]);
  }
  return rows;
}

/** The generated "ONNX Runtime" table of a run, or nothing when the run had no onnxruntime row. */
export function onnxRuntimeSection(report: SuiteReport): string[] {
  const comparisons = onnxComparisons(report.experiments);
  if (comparisons.length === 0) return [];
  return [
    '### ONNX Runtime',
    '',
    markdownTable(onnxRows(comparisons)),
    '',
    'Each `-ort` experiment exported with @mmft/exporter-onnx and run by onnxruntime-node (CPU execution provider) beside its tfjs row and that row’s PyTorch peer; each engine counts its fastest thread setting.',
    '',
  ];
}
