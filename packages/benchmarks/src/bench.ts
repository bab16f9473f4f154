// What `mmft bench` does, as one function the CLI calls: run the suite (suite/run-suite.ts), print
// the summary table, compare with an older JSON, write the JSON and the docs reports.
import * as fs from 'node:fs';
import { MmftError, type ProviderResolver } from '@mmft/core';
import { compareRows } from './report/compare';
import { textTable } from './report/format';
import { memoryRows, memoryTableRows, memoryVerdicts } from './report/memory-md';
import { kernelRows, kernelTableRows, kernelVerdicts, qloraGroups, qloraTableRows, qloraVerdicts } from './report/qlora-md';
import { summaryRows } from './report/summary-table';
import { writeDocs } from './report/write-docs';
import type { SuiteName } from './suite/bench-config';
import type { SuiteReport } from './suite/result';
import { runSuite } from './suite/run-suite';

/** Options of `mmft bench`. */
export interface BenchOptions {
  readonly suite: SuiteName;
  readonly only?: readonly string[];
  readonly peer: 'torch' | 'none';
  readonly python?: string;
  readonly threads?: readonly number[];
  /** Write the SuiteReport JSON here. */
  readonly json?: string;
  /** Print new ÷ old throughput against this earlier JSON. */
  readonly compare?: string;
  /** Write benchmarks.md/.svg (and results.md/.svg) here; undefined: no reports. */
  readonly docsDir?: string;
  readonly experimentsDir?: string;
  readonly print: (line: string) => void;
}

/**
 * Run a suite end to end.
 *
 * @example
 * await runBench(await benchRegistry(), { suite: 'quick', peer: 'torch', json: 'bench.json', docsDir: 'docs', print: console.log });
 */
export async function runBench(resolver: ProviderResolver, options: BenchOptions): Promise<SuiteReport> {
  // Read the old report first: a bad --compare file should fail before minutes of benchmarking.
  let old: SuiteReport | undefined;
  if (options.compare) {
    try {
      old = JSON.parse(fs.readFileSync(options.compare, 'utf8')) as SuiteReport;
    } catch (cause) {
      throw new MmftError('E_INPUT', `--compare ${options.compare}: cannot read it as JSON (${(cause as Error).message})`, { cause });
    }
  }
  const report = await runSuite(resolver, { ...options, log: (line) => options.print(line) });
  options.print('');
  options.print(textTable(summaryRows(report.experiments)));
  for (const e of report.experiments) for (const error of e.errors) options.print(`${e.name}: ${error.split('\n')[0]}`);
  const memory = memoryRows(report);
  if (memory.length > 0) {
    options.print('');
    options.print(textTable(memoryTableRows(memory)));
    for (const line of memoryVerdicts(memory)) options.print(line);
  }
  const qlora = qloraGroups(report);
  if (qlora.length > 0) {
    options.print('');
    options.print(textTable(qloraTableRows(qlora)));
    for (const line of qloraVerdicts(qlora)) options.print(line);
  }
  const kernels = kernelRows(report);
  if (kernels.length > 0) {
    options.print('');
    options.print(textTable(kernelTableRows(kernels)));
    for (const line of kernelVerdicts(kernels)) options.print(line);
  }
  if (old) {
    options.print('');
    options.print(textTable(compareRows(old, report)));
  }
  if (options.json) {
    fs.writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    options.print(`wrote ${options.json}`);
  }
  if (options.docsDir) for (const file of writeDocs(report, options.docsDir)) options.print(`wrote ${file}`);
  return report;
}
