// `mmft worker --queue redis://…`: runs the shards that queued commands (`mmft eval recipe
// --queue`, `mmft embed --queue`, `mmft generate --queue`) put on the queue, on this machine, until
// stopped (queue/worker.ts). Start as many as there are machines or accelerators; each keeps the
// models it loaded for the next shard of the same run.
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context';
import { runWorker } from '../queue/worker';

interface WorkerCliOptions {
  queue: string;
  concurrency: number;
  maxJobs?: number;
  idleExit?: number;
}

const whole = (flag: string, min: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${flag} takes a whole number ≥ ${min}, got "${value}"`);
  return n;
};

/**
 * The `worker` command.
 *
 * @example
 * program.addCommand(workerCommand(ctx)); // mmft worker --queue redis://127.0.0.1:6379
 */
export function workerCommand(ctx: CliContext): Command {
  return new Command('worker')
    .description('run queued shards (eval, embed, generate) from a Redis job queue until stopped')
    .exitOverride()
    .configureOutput({ writeOut: (t) => void ctx.stdout.write(t), writeErr: (t) => void ctx.stderr.write(t) })
    .requiredOption('--queue <url>', 'the Redis server of the queue, redis://HOST:PORT[/DB]')
    .option(
      '--concurrency <n>',
      'shards run at once in this process (more than 1 only overlaps loading and I/O)',
      whole('--concurrency', 1),
      1,
    )
    .option('--max-jobs <n>', 'stop after finishing this many shards', whole('--max-jobs', 1))
    .option('--idle-exit <seconds>', 'stop after this many seconds without a shard to run', whole('--idle-exit', 1))
    .action(async (o: WorkerCliOptions) => {
      // The first Ctrl-C / SIGTERM hands the running shard back to the queue (no attempt used) and stops.
      const { interrupted } = await ctx.interruptible(
        (signal) => runWorker(ctx, { queue: o.queue, concurrency: o.concurrency, maxJobs: o.maxJobs, idleExit: o.idleExit, signal }),
        'stopping: the shard in progress goes back to the queue for another worker',
      );
      if (interrupted) throw new CommanderError(interrupted.exitCode, 'mmft.interrupted', `stopped by ${interrupted.signal}`);
    });
}
