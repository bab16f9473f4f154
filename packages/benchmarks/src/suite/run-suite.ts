// Runs a suite: every experiment in its own Node child (dist/child/main.js), and — when the peer
// is on and the experiment asks for it — the PyTorch peer in its own python3 child right before or
// after it (the order alternates between experiments, so drift on a shared machine favours
// neither side). Also measures each engine's GEMM ceiling. Returns the SuiteReport.
import * as os from 'node:os';
import * as path from 'node:path';
import type { ProviderResolver } from '@mmft/core';
import { runTorchPeer, torchAvailable, torchGemmCeiling, type PeerOptions } from '../peer/torch-peer';
import type { SuiteName } from './bench-config';
import { loadExperiments, type Experiment } from './experiment';
import { machineInfo } from './machine';
import type { ExperimentResult, GemmCeiling, SideResult, SuiteReport } from './result';
import { runChild } from './spawn';

const CHILD = path.resolve(__dirname, '..', 'child', 'main.js');
const GEMM_CHILD = path.resolve(__dirname, '..', 'child', 'gemm.js');

/** Options of one suite run. */
export interface SuiteOptions {
  readonly suite: SuiteName;
  /** Run only these experiments (names without .yaml). */
  readonly only?: readonly string[];
  readonly peer: 'torch' | 'none';
  readonly python?: string;
  /**
   * Thread settings of the PyTorch peer, each run side by side (default: all cores — the fair
   * setting of docs/facts.md §3 — and 1, the thread count of mmft's wasm engine). ratio_vs_torch uses the fastest.
   */
  readonly threads?: readonly number[];
  readonly experimentsDir?: string;
  /** Progress lines. */
  readonly log?: (line: string) => void;
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function mmftSide(experiment: Experiment): Promise<SideResult> {
  return (await runChild(process.execPath, [CHILD, experiment.file], process.env)) as unknown as SideResult;
}

/**
 * Run the experiments of `options.suite` and collect the results.
 *
 * @example
 * const report = await runSuite(await benchRegistry(), { suite: 'quick', peer: 'torch' });
 */
export async function runSuite(resolver: ProviderResolver, options: SuiteOptions): Promise<SuiteReport> {
  const log = options.log ?? (() => undefined);
  const experiments = loadExperiments(resolver, { dir: options.experimentsDir, suite: options.suite, only: options.only });
  const settings = [...new Set(options.threads ?? [os.availableParallelism(), 1])];
  const peer: PeerOptions = { python: options.python ?? '/usr/bin/python3', threads: settings[0]! };
  const peerOn = options.peer === 'torch' && (await torchAvailable(peer.python));
  if (options.peer === 'torch' && !peerOn)
    log(`torch peer: ${peer.python} cannot import torch; run packages/benchmarks/scripts/install-torch-peer.sh (never in CI)`);
  const ceilings: GemmCeiling[] = [];
  let torchConfig: string | undefined;
  try {
    ceilings.push(...((await runChild(process.execPath, [GEMM_CHILD], process.env)).ceilings as GemmCeiling[]));
    if (peerOn) ceilings.push(...(await torchGemmCeiling(peer)));
  } catch (error) {
    log(`GEMM ceiling: ${messageOf(error)}`);
  }
  const results: ExperimentResult[] = [];
  for (const [index, experiment] of experiments.entries()) {
    const { bench } = experiment;
    const errors: string[] = [];
    let mmft = undefined as SideResult | undefined;
    const torchRuns: SideResult[] = [];
    const runMmft = async () => {
      log(`${experiment.name}: mmft (load ${os.loadavg()[0]!.toFixed(2)})`);
      mmft = await mmftSide(experiment).catch((error: unknown) => (errors.push(`mmft: ${messageOf(error)}`), undefined));
    };
    const runTorch = async () => {
      if (!peerOn || bench.peer !== 'torch') return;
      for (const threads of settings) {
        log(`${experiment.name}: torch, ${threads} thread(s) (load ${os.loadavg()[0]!.toFixed(2)})`);
        const peerResult = await runTorchPeer(experiment, { ...peer, threads }).catch(
          (error: unknown) => (errors.push(`torch (${threads} threads): ${messageOf(error)}`), undefined),
        );
        if (peerResult) torchRuns.push(peerResult.result);
        torchConfig ??= peerResult?.torchConfig;
      }
    };
    for (const run of index % 2 === 0 ? [runMmft, runTorch] : [runTorch, runMmft]) await run();
    // Both sides do the same GEMMs: the count from the shapes applies to the peer too.
    const flops = mmft?.flops;
    const peerRuns = torchRuns.map((r) => (flops !== undefined ? { ...r, flops } : r));
    const torch = peerRuns.reduce<SideResult | undefined>((a, b) => (a === undefined || b.throughput > a.throughput ? b : a), undefined);
    const ratio = mmft && torch ? mmft.throughput / torch.throughput : undefined;
    results.push({
      name: experiment.name,
      title: bench.title,
      kind: bench.kind,
      group: bench.group,
      mmft,
      torch,
      torchRuns: peerRuns,
      ratioVsTorch: ratio,
      errors,
      memory: bench.memory,
    });
    log(
      `${experiment.name}: ${mmft ? `${mmft.throughput.toFixed(1)} ${mmft.unit}` : 'failed'}${torch ? `, torch ${torch.throughput.toFixed(1)}` : ''}${ratio ? `, ratio ${ratio.toFixed(2)}` : ''}`,
    );
  }
  return { format: 'mmft-bench', version: 1, suite: options.suite, machine: machineInfo(), ceilings, torchConfig, experiments: results };
}
