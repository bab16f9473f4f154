// The memory tables of a suite run (rows with a bench.memory block): per row the peak RSS of both
// sides, mmft's peak tensor bytes, throughput, and the ratios the memory goals are stated in —
// peak ÷ the full fine-tune's peak, the throughput cost of checkpointing (1 − with ÷ without) and
// mmft's peak ÷ PyTorch's — with a verdict per goal. Both sides of every ratio come from one run.
import type { ExperimentResult, SideResult, SuiteReport } from '../suite/result';
import { formatBytes, formatNumber, formatRatio, markdownTable } from './format';
import { NO_PEER } from './qlora-md';

/** Most throughput checkpointing may cost (1 − with ÷ without); the memory goals' "≤ 30 %". */
export const CHECKPOINT_COST_GOAL = 0.3;

/** One row of a memory table, with its ratios (undefined where a side or a reference row is missing). */
export interface MemoryRow {
  readonly table: string;
  readonly name: string;
  readonly title: string;
  readonly checkpointing: string;
  readonly frozenDtype: string;
  readonly mmft?: SideResult;
  readonly torch?: SideResult;
  readonly mmftUnavailable: boolean;
  /** Peak ÷ the full fine-tune's peak: mmft RSS, mmft tensor bytes, torch RSS. */
  readonly vsFull: { readonly mmftRss?: number; readonly mmftTensors?: number; readonly torchRss?: number };
  /** 1 − throughput ÷ the same run's throughput without checkpointing. */
  readonly checkpointCost: { readonly mmft?: number; readonly torch?: number };
  /** mmft peak RSS ÷ PyTorch peak RSS. */
  readonly mmftOverTorch?: number;
  readonly peakGoal?: number;
  readonly full?: string;
  readonly withoutCheckpointing?: string;
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : undefined;
const cost = (a: SideResult | undefined, b: SideResult | undefined) => {
  const r = ratio(a?.throughput, b?.throughput);
  return r === undefined ? undefined : 1 - r;
};

/**
 * The memory rows of `report`, tables in the order their first row ran; within a table the full
 * fine-tune first, then without checkpointing, with it, and with 16-bit frozen weights as well.
 *
 * @example
 * const rows = memoryRows(report); // rows[0].vsFull.mmftRss
 */
export function memoryRows(report: SuiteReport): MemoryRow[] {
  const byName = new Map(report.experiments.map((e) => [e.name, e] as const));
  const rows = report.experiments
    .filter((e): e is ExperimentResult & { memory: NonNullable<ExperimentResult['memory']> } => e.memory !== undefined)
    .map((e): MemoryRow => {
      const role = e.memory;
      const full = role.full !== undefined ? byName.get(role.full) : undefined;
      const without = role.without_checkpointing !== undefined ? byName.get(role.without_checkpointing) : undefined;
      const applied = e.mmft?.memory ?? e.torch?.memory;
      return {
        table: role.table,
        name: e.name,
        title: e.title,
        checkpointing: applied?.checkpointing ?? '-',
        frozenDtype: applied?.quantization
          ? `${applied.quantization.quantType}${applied.quantization.doubleQuant ? ' + double quant' : ''} (4-bit)`
          : (applied?.frozenDtype ?? '-'),
        mmft: e.mmft,
        torch: e.torch,
        mmftUnavailable: e.mmft === undefined && e.errors.some((x) => x.startsWith('mmft')),
        vsFull: {
          mmftRss: ratio(e.mmft?.peakRssBytes, full?.mmft?.peakRssBytes),
          mmftTensors: ratio(e.mmft?.peakTensorBytes, full?.mmft?.peakTensorBytes),
          torchRss: ratio(e.torch?.peakRssBytes, full?.torch?.peakRssBytes),
        },
        checkpointCost: { mmft: cost(e.mmft, without?.mmft), torch: cost(e.torch, without?.torch) },
        mmftOverTorch: ratio(e.mmft?.peakRssBytes, e.torch?.peakRssBytes),
        peakGoal: role.peak_goal,
        full: role.full,
        withoutCheckpointing: role.without_checkpointing,
      };
    });
  // Within a table: the full fine-tune, then rows without checkpointing, with it, with 16-bit weights too.
  const rank = (r: MemoryRow) => (r.name === r.full ? 0 : 1) * 4 + (r.checkpointing === 'off' ? 0 : 2) + (r.frozenDtype === 'f32' ? 0 : 1);
  const order = [...new Set(rows.map((r) => r.table))];
  return order.flatMap((table) => rows.filter((r) => r.table === table).sort((a, b) => rank(a) - rank(b)));
}

const percent = (x: number | undefined) => (x === undefined ? '-' : `${(100 * x).toFixed(0)}%`);
const pair = (a: string, b: string) => (a === '-' && b === '-' ? '-' : `${a} / ${b}`);

/** Header + one row per memory row (terminal and markdown). */
export function memoryTableRows(rows: readonly MemoryRow[]): string[][] {
  const out = [
    [
      'table',
      'row',
      'checkpointing',
      'frozen weights',
      'peak RSS mmft / torch',
      'mmft ÷ torch peak',
      'mmft peak tensors',
      'peak ÷ full: mmft RSS / mmft tensors / torch RSS',
      'throughput mmft / torch',
      'checkpointing cost mmft / torch',
    ],
  ];
  for (const r of rows) {
    const unit = r.mmft?.unit ?? r.torch?.unit ?? '';
    const mmftRss = r.mmftUnavailable ? 'unavailable' : formatBytes(r.mmft?.peakRssBytes);
    const vsFull = [r.vsFull.mmftRss, r.vsFull.mmftTensors, r.vsFull.torchRss];
    out.push([
      r.table,
      r.title,
      r.checkpointing,
      r.frozenDtype,
      pair(mmftRss, r.torch === undefined && r.mmft?.memory?.quantization ? NO_PEER : formatBytes(r.torch?.peakRssBytes)),
      formatRatio(r.mmftOverTorch),
      formatBytes(r.mmft?.peakTensorBytes),
      r.full === undefined || r.full === r.name || vsFull.every((x) => x === undefined)
        ? '-'
        : vsFull.map((x) => formatRatio(x)).join(' / '),
      pair(r.mmft ? `${formatNumber(r.mmft.throughput)} ${unit}` : '-', r.torch ? formatNumber(r.torch.throughput) : '-'),
      r.withoutCheckpointing === undefined ? '-' : pair(percent(r.checkpointCost.mmft), percent(r.checkpointCost.torch)),
    ]);
  }
  return out;
}

/** One line per goal the rows state: peak ÷ full, checkpointing cost, mmft ≤ torch; met or not, or why not measured. */
export function memoryVerdicts(rows: readonly MemoryRow[]): string[] {
  const lines: string[] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
  for (const r of rows) {
    const where = r.title;
    if (r.peakGoal !== undefined) {
      const x = r.vsFull.mmftRss;
      lines.push(
        x === undefined
          ? `${where}: peak ÷ full fine-tune peak (goal ≤ ${r.peakGoal}): not measured (${r.mmftUnavailable ? 'mmft unavailable' : `no ${r.full ?? 'full'} row in this run`})`
          : `${where}: mmft peak RSS ÷ full fine-tune's ${x.toFixed(2)} (peak tensor bytes ${formatRatio(r.vsFull.mmftTensors)}), goal ≤ ${r.peakGoal}: ${verdict(x <= r.peakGoal)}`,
      );
    }
    if (r.withoutCheckpointing !== undefined) {
      const c = r.checkpointCost.mmft;
      lines.push(
        c === undefined
          ? `${where}: throughput cost of checkpointing (goal ≤ ${percent(CHECKPOINT_COST_GOAL)}): not measured`
          : `${where}: mmft throughput cost of checkpointing ${percent(c)} (PyTorch ${percent(r.checkpointCost.torch)}), goal ≤ ${percent(CHECKPOINT_COST_GOAL)}: ${verdict(c <= CHECKPOINT_COST_GOAL)}`,
      );
    }
    if (r.mmftOverTorch !== undefined) {
      lines.push(`${where}: mmft peak RSS ÷ PyTorch's ${r.mmftOverTorch.toFixed(2)}, goal ≤ 1: ${verdict(r.mmftOverTorch <= 1)}`);
    }
  }
  return lines;
}

/**
 * The markdown section of the memory tables, or nothing when the run had no memory rows.
 *
 * @example
 * lines.push(...memorySection(report));
 */
export function memorySection(report: SuiteReport): string[] {
  const rows = memoryRows(report);
  if (rows.length === 0) return [];
  return [
    '### Memory',
    '',
    markdownTable(memoryTableRows(rows)),
    '',
    "Peak RSS: the child process's getrusage maxrss (both sides). mmft peak tensors: tf.profile peakBytes of one step (weights, optimizer state and activations); PyTorch has no CPU allocator peak, so its side is RSS only. Checkpointing cost: 1 − throughput with ÷ without checkpointing.",
    '',
    ...memoryVerdicts(rows).map((v) => `- ${v}`),
    '',
  ];
}
