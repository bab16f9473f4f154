// `mmft bench --compare OLD.json`: the throughput of each experiment now ÷ then, so regressions
// (ratio < 1) are visible; experiments only in one run are listed as such.
import { MmftError } from '@mmft/core';
import type { SuiteReport } from '../suite/result';
import { formatNumber, formatRatio } from './format';

/**
 * Rows: experiment, old, new, new/old for mmft (and the peer when both runs have it).
 *
 * @example
 * textTable(compareRows(old, report));
 */
export function compareRows(old: SuiteReport, now: SuiteReport): string[][] {
  if (old.format !== 'mmft-bench')
    throw new MmftError('E_INPUT', `--compare: not an mmft bench JSON file (format "${String(old.format)}")`, {
      hint: 'pass a file written by mmft bench --json',
    });
  const rows = [['experiment', 'old mmft', 'new mmft', 'new / old', 'old ratio_vs_torch', 'new ratio_vs_torch']];
  const names = [...new Set([...now.experiments.map((e) => e.name), ...old.experiments.map((e) => e.name)])];
  for (const name of names) {
    const a = old.experiments.find((e) => e.name === name);
    const b = now.experiments.find((e) => e.name === name);
    const change = a?.mmft && b?.mmft ? b.mmft.throughput / a.mmft.throughput : undefined;
    rows.push([
      name,
      a?.mmft ? formatNumber(a.mmft.throughput) : a ? '-' : '(not run)',
      b?.mmft ? formatNumber(b.mmft.throughput) : b ? '-' : '(not run)',
      change === undefined ? '-' : `${formatRatio(change)}${change < 0.9 ? '  REGRESSION' : ''}`,
      formatRatio(a?.ratioVsTorch),
      formatRatio(b?.ratioVsTorch),
    ]);
  }
  return rows;
}
