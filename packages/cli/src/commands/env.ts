// `mmft env`: what this machine and install give mmft — Node, platform, CPUs, the tfjs version,
// each tensor engine probed with why it is or is not usable, the one selected, its kernel
// overrides and which of them run on the native addon. The backend comes from the registry
// ('backend', 'tfjs'), as a training run gets it.
import * as os from 'node:os';
import { Command } from 'commander';
import { version_core } from '@tensorflow/tfjs-core';
import { MmftError, type BackendSelection } from '@mmft/core';
import { nativeKernelUse, type NativeKernelUse } from '@mmft/backend-tfjs';
import type { CliContext } from '../context';
import { formatTable } from '../format/table';

/** Everything `mmft env --json` prints. */
export interface EnvReport {
  readonly node: string;
  readonly platform: string;
  readonly arch: string;
  readonly cpus: { readonly count: number; readonly model: string };
  readonly tfjs: { readonly core: string };
  readonly backend: BackendSelection;
  /**
   * The optional native addon (@mmft/native-kernels): whether it is built here (`available`) and
   * whether the selected engine runs any kernel on it (`inUse`, `kernels`; `reason` when not).
   */
  readonly native: NativeKernelUse;
}

function printReport(ctx: CliContext, report: EnvReport): void {
  const { backend } = report;
  const caps = backend.capabilities;
  ctx.print(`node        ${report.node}`);
  ctx.print(`platform    ${report.platform} ${report.arch}, ${report.cpus.count} CPUs (${report.cpus.model})`);
  ctx.print(`tfjs-core   ${report.tfjs.core}`);
  ctx.print('');
  ctx.print(
    formatTable(
      backend.probes.map((p) => ({ engine: p.name, available: p.available ? 'yes' : 'no', reason: p.reason })),
      ['engine', 'available', 'reason'],
    ),
  );
  ctx.print('');
  ctx.print(`selected    ${backend.name} (tfjs backend "${caps.engine}"): ${backend.reason}`);
  ctx.print(`threads     ${caps.threads}${caps.gpu ? ', GPU' : ''}${caps.float16 ? ', float16' : ''}`);
  ctx.print(`overrides   ${caps.kernelOverrides.length > 0 ? caps.kernelOverrides.join(', ') : 'none'}`);
  const { native } = report;
  ctx.print(
    `native      ${native.inUse ? `C++ kernels (${native.kernels.join(', ')}) on ${native.isa}, ${native.threads} threads (@mmft/native-kernels)` : `not in use: ${native.reason}`}`,
  );
}

/**
 * The `env` command.
 *
 * @example
 * mmft env            # table
 * mmft env --json     # EnvReport as JSON
 * mmft env --prefer wasm cpu
 */
export function envCommand(ctx: CliContext): Command {
  return new Command('env')
    .description('show Node, platform, tfjs and which tensor engine mmft selects, and why')
    .option('--prefer <engine...>', 'engines to try, in order (default: tfjs-node-gpu tfjs-node wasm cpu)')
    .option('--no-overrides', "do not install mmft's kernel overrides")
    .option('--json', 'print JSON')
    .action(async (options: { prefer?: string[]; overrides: boolean; json?: boolean }) => {
      const registry = await ctx.createRegistry();
      const provider = registry.resolve('backend', 'tfjs');
      const parsed = provider.configSchema.safeParse({
        ...(options.prefer ? { prefer: options.prefer } : {}),
        overrides: options.overrides,
      });
      if (!parsed.success) {
        const issues = parsed.error.issues.map(
          (issue) => `--${issue.path[0] === 'prefer' ? 'prefer' : String(issue.path[0] ?? '')}: ${issue.message}`,
        );
        throw new MmftError('E_INPUT', `mmft env: ${issues.join('; ')}`, { hint: 'engines: tfjs-node-gpu, tfjs-node, wasm, cpu' });
      }
      const cpus = os.cpus();
      const backend = await provider.select(parsed.data);
      const report: EnvReport = {
        node: process.version,
        platform: process.platform,
        arch: process.arch,
        cpus: { count: os.availableParallelism(), model: cpus[0]?.model.trim() ?? 'unknown' },
        tfjs: { core: version_core },
        backend,
        // Built is not used: only the engine selected above, with its overrides, decides.
        native: nativeKernelUse(backend.capabilities.engine, backend.capabilities.kernelOverrides),
      };
      if (options.json) ctx.print(JSON.stringify(report, null, 2));
      else printReport(ctx, report);
    });
}
