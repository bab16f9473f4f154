// `mmft worker`'s loop: a BullMQ Worker on the `mmft` queue that runs each job's shard with the
// handler of its kind (handlers.ts), keeps loaded models between shards (cache.ts), prints one
// line per shard, and stops after --max-jobs shards, after --idle-exit seconds without work, or on
// a signal. A shard the worker gives up on (stop, or --max-jobs reached when BullMQ already
// handed it the next job) goes back to the waiting list without using one of its attempts
// (the pattern of taskforcesh/bullmq@580e5dddec0192d72bb7ea7d5b38eb0547783ec9:docs/gitbook/patterns/manual-retrying.md:
// Job.moveToWait with the worker's token, then a WaitingError so the worker neither completes nor fails it).
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { MmftError, type MmftErrorCode } from '@mmft/core';
import type { CliContext } from '../context';
import { LruWorkerCache } from './cache';
import { displayUrl, QUEUE_NAME, queueConnection } from './connection';
import { SHARD_HANDLERS, type ShardHandler } from './handlers';
import { connect, type ShardJobData } from './run-sharded';

/** Errors no retry can fix: the same spec fails the same way on every worker. */
const FINAL_CODES: ReadonlySet<MmftErrorCode> = new Set([
  'E_RECIPE',
  'E_CONFIG',
  'E_UNSUPPORTED',
  'E_UNKNOWN_ID',
  'E_PLUGIN_LOAD',
  'E_PLUGIN_INVALID',
] as MmftErrorCode[]);

/**
 * Test hook: `MMFT_QUEUE_FAIL_ONCE=<shard index>` fails that shard's first attempt, so a test can
 * see a failed shard retried (by this or another worker) and the merged result unchanged.
 */
const FAIL_ONCE_ENV = 'MMFT_QUEUE_FAIL_ONCE';

/** The error a failed job records: "E_CODE: message (hint)", which the coordinator reads back (run-sharded.ts parseFailure). */
export function jobError(error: unknown): Error {
  if (error instanceof MmftError) {
    const reason = `${error.code}: ${error.message}${error.hint ? ` (${error.hint})` : ''}`;
    return FINAL_CODES.has(error.code) ? new UnrecoverableError(reason) : new Error(reason);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export interface WorkerOptions {
  readonly queue: string;
  readonly concurrency?: number;
  readonly maxJobs?: number;
  /** Stop after this many seconds with no shard running and none taken. */
  readonly idleExit?: number;
  /** Aborted: stop now, handing the running shards back. */
  readonly signal?: AbortSignal;
  /** Shard kinds served (tests); default SHARD_HANDLERS. */
  readonly handlers?: Readonly<Record<string, ShardHandler>>;
}

/** Runs a worker until it stops; returns the number of shards it finished (completed or failed). */
export async function runWorker(
  ctx: CliContext,
  o: WorkerOptions,
): Promise<{ finished: number; stoppedBy: 'max-jobs' | 'idle' | 'signal' }> {
  const connection = queueConnection(o.queue);
  const handlers = o.handlers ?? SHARD_HANDLERS;
  const cache = new LruWorkerCache();
  let finished = 0;
  let taken = 0;
  let active = 0;
  let lastActivity = Date.now();
  let stoppedBy: 'max-jobs' | 'idle' | 'signal' | undefined;
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const abort = new AbortController();
  const halt = (why: 'max-jobs' | 'idle' | 'signal') => {
    if (stoppedBy) return;
    stoppedBy = why;
    if (why === 'signal') abort.abort();
    stop();
  };
  const name = (data: ShardJobData) =>
    `${data.label} shard ${data.index + 1}/${data.shards} (examples ${data.range.start}–${data.range.end - 1}, run ${data.run.slice(0, 8)})`;

  const processor = async (job: Job, token?: string) => {
    const data = job.data as ShardJobData;
    taken++;
    active++;
    lastActivity = Date.now();
    const started = Date.now();
    try {
      if (stoppedBy || (o.maxJobs !== undefined && taken > o.maxJobs)) {
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const handler = handlers[data.kind];
      if (!handler) {
        throw new MmftError('E_UNSUPPORTED', `this worker runs ${Object.keys(handlers).join(', ')} shards, not "${data.kind}"`, {
          hint: 'run workers of the same mmft version as the command that queued the run',
        });
      }
      const failOnce = process.env[FAIL_ONCE_ENV];
      if (failOnce !== undefined && Number(failOnce) === data.index && job.attemptsMade === 0)
        throw new Error(`test fault: ${FAIL_ONCE_ENV}=${failOnce} fails this shard's first attempt`);
      let onAbort: () => void = () => undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(new MmftError('E_IO', 'the worker was stopped'));
        abort.signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => undefined);
      try {
        const result = await Promise.race([handler.run(data.spec, data.range, cache, ctx), aborted]);
        ctx.print(`${name(data)}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return result;
      } catch (error) {
        if (abort.signal.aborted) {
          // Back to the queue for another worker, without using an attempt.
          await job.moveToWait(token);
          ctx.print(`${name(data)}: handed back (worker stopping)`);
          throw new WaitingError();
        }
        throw error;
      } finally {
        abort.signal.removeEventListener('abort', onAbort);
      }
    } catch (error) {
      if (error instanceof WaitingError) throw error;
      const failure = jobError(error);
      ctx.print(`${name(data)}: failed (attempt ${job.attemptsMade + 1}): ${failure.message}`);
      throw failure;
    } finally {
      active--;
      lastActivity = Date.now();
    }
  };

  const worker = new Worker(QUEUE_NAME, processor, { connection, concurrency: o.concurrency ?? 1, autorun: false });
  worker.on('completed', () => {
    finished++;
    if (o.maxJobs !== undefined && finished >= o.maxJobs) halt('max-jobs');
  });
  worker.on('failed', (job, error) => {
    if (error instanceof WaitingError || error?.name === 'WaitingError') return;
    finished++;
    if (o.maxJobs !== undefined && finished >= o.maxJobs) halt('max-jobs');
  });
  // ioredis reconnects on its own; say once per kind of trouble what it is, not on every retry.
  const reported = new Set<string>();
  worker.on('error', (error) => {
    if (reported.has(error.message)) return;
    reported.add(error.message);
    ctx.stderr.write(`worker: Redis: ${error.message}\n`);
  });
  o.signal?.addEventListener('abort', () => halt('signal'), { once: true });
  const idle = o.idleExit
    ? setInterval(() => {
        if (active === 0 && Date.now() - lastActivity >= o.idleExit! * 1000) halt('idle');
      }, 100)
    : undefined;
  try {
    await connect(o.queue, worker.waitUntilReady());
    ctx.print(`worker: waiting for shards on ${displayUrl(o.queue)} (kinds: ${Object.keys(handlers).join(', ')})`);
    lastActivity = Date.now();
    void worker.run().catch(() => undefined);
    await stopped;
  } finally {
    if (idle) clearInterval(idle);
    // Not forced: a shard that is running either finishes or, on a signal, hands itself back first.
    await worker.close();
    await cache.clear();
  }
  ctx.print(
    `worker: stopped (${stoppedBy === 'signal' ? 'signal' : stoppedBy === 'idle' ? `idle for ${o.idleExit} s` : `${o.maxJobs} shards`}) after ${finished} shard(s)`,
  );
  return { finished, stoppedBy: stoppedBy ?? 'signal' };
}
