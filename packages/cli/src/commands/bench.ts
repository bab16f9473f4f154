// `mmft bench`: the benchmark suite of packages/benchmarks — experiments as recipe files, each in
// its own child process, optionally with the PyTorch peer side by side — printed as a table and
// written as JSON and markdown + SVG reports. `--list` validates and lists the experiments only.
import * as os from 'node:os';
import * as path from 'node:path';
import { Command, Option } from 'commander';
import { MmftError } from '@mmft/core';
import { loadExperiments, runBench, SUITES, type SuiteName } from '@mmft/benchmarks';
import type { CliContext } from '../context';
import { formatTable } from '../format/table';

interface BenchCliOptions {
  suite: string;
  json?: string;
  compare?: string;
  peer: string;
  python: string;
  threads?: string[];
  only?: string[];
  docs?: string;
  experiments?: string;
  list?: boolean;
}

/**
 * The `bench` command.
 *
 * @example
 * mmft bench --suite quick --peer torch --json bench.json --docs docs
 * mmft bench --compare bench.json          # new ÷ old throughput per experiment
 * mmft bench --list
 */
export function benchCommand(ctx: CliContext): Command {
  return new Command('bench')
    .description('run the benchmark suite (training, inference, data, metrics), optionally side by side with PyTorch')
    .addOption(new Option('--suite <name>', 'which experiments to run').choices([...SUITES]).default('quick'))
    .option('--only <names...>', 'run only these experiments (file names without .yaml)')
    .option('--json <file>', 'write the results as JSON')
    .option('--compare <old.json>', 'print the throughput ratio new ÷ old per experiment')
    .addOption(new Option('--peer <peer>', 'run the PyTorch peer side by side').choices(['torch', 'none']).default('none'))
    .option('--python <path>', 'python with torch for --peer torch', '/usr/bin/python3')
    .option(
      '--threads <n...>',
      `thread settings of the PyTorch peer, each run; the fastest counts (default ${os.availableParallelism()} 1)`,
    )
    .option('--docs <dir>', 'regenerate benchmarks.md/.svg (and results.md/.svg for the PEFT group) in this folder')
    .option('--experiments <dir>', 'folder of experiment files (default: the suite shipped with @mmft/benchmarks)')
    .option('--list', 'validate and list the experiments of the suite, run nothing')
    .action(async (options: BenchCliOptions) => {
      const threads = options.threads?.map(Number);
      const bad = options.threads?.find((t) => !(Number.isInteger(Number(t)) && Number(t) > 0));
      if (bad !== undefined) throw new MmftError('E_INPUT', `mmft bench: --threads takes positive integers, got "${bad}"`);
      const registry = await ctx.createRegistry();
      const resolvePath = (p: string | undefined) => (p === undefined ? undefined : path.resolve(ctx.cwd, p));
      const suite = options.suite as SuiteName;
      const experimentsDir = resolvePath(options.experiments);
      if (options.list) {
        const experiments = loadExperiments(registry, { dir: experimentsDir, suite: options.only ? undefined : suite, only: options.only });
        ctx.print(
          formatTable(
            experiments.map((e) => ({
              experiment: e.name,
              kind: e.bench.kind,
              suites: e.bench.suites.join(','),
              peer: e.bench.peer,
              title: e.bench.title,
            })),
            ['experiment', 'kind', 'suites', 'peer', 'title'],
          ),
        );
        return;
      }
      await runBench(registry, {
        suite,
        only: options.only,
        peer: options.peer as 'torch' | 'none',
        python: options.python,
        threads,
        json: resolvePath(options.json),
        compare: resolvePath(options.compare),
        docsDir: resolvePath(options.docs),
        experimentsDir,
        print: (line) => ctx.print(line),
      });
    });
}
