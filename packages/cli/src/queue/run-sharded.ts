// The coordinator side of the job queue: cut a set of `total` examples into shards of whole
// batches, put one BullMQ job per shard on the `mmft` queue (grouped by a run id, retried with
// exponential backoff), wait for the workers (`mmft worker`) through QueueEvents, show progress,
// and return the results in shard order, so that merging them gives what one process computes.
// The job states followed are BullMQ's (taskforcesh/bullmq@088c87584151485648ca2682d4d7e469e0da56c1:
// docs/gitbook/guide/retrying-failing-jobs.md): a job with attempts left goes back to waiting or
// delayed after a failure (exponential backoff), and reaches 'failed' only for good (checked in queue.test.ts).
import { randomUUID } from 'node:crypto';
import { SingleBar } from 'cli-progress';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { MmftError, type MmftErrorCode } from '@mmft/core';
import type { CliContext } from '../context';
import { displayUrl, QUEUE_NAME, queueConnection } from './connection';
import type { ShardRange } from './handlers';

/** What a job carries (read by `mmft worker`, queue/worker.ts). */
export interface ShardJobData {
  readonly run: string;
  readonly kind: string;
  readonly spec: unknown;
  readonly range: ShardRange;
  /** The shard's place in the run (0-based) and the run's number of shards. */
  readonly index: number;
  readonly shards: number;
  readonly label: string;
}

/**
 * Consecutive ranges of `shardSize` examples covering [0, total); the last one may be shorter.
 *
 * @example
 * planShards(10, 4); // [{ start: 0, end: 4 }, { start: 4, end: 8 }, { start: 8, end: 10 }]
 */
export function planShards(total: number, shardSize: number): ShardRange[] {
  if (!Number.isInteger(total) || total < 0) throw new MmftError('E_INPUT', `planShards: total must be a whole number ≥ 0, got ${total}`);
  if (!Number.isInteger(shardSize) || shardSize < 1)
    throw new MmftError('E_INPUT', `--shard-size must be a whole number ≥ 1, got ${shardSize}`, { hint: 'e.g. --shard-size 64' });
  const ranges: ShardRange[] = [];
  for (let start = 0; start < total; start += shardSize) ranges.push({ start, end: Math.min(total, start + shardSize) });
  return ranges;
}

/** "E_DATA: message" (as a worker writes a failed shard's reason) → its code and message. */
export function parseFailure(reason: string): { code: MmftErrorCode | undefined; message: string } {
  const m = /^(E_[A-Z_]+): ([\s\S]*)$/.exec(reason);
  return m ? { code: m[1] as MmftErrorCode, message: m[2]! } : { code: undefined, message: reason };
}

const seconds = (ms: number): string =>
  ms < 60_000 ? `${Math.round(ms / 1000)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`;

/** Progress of a run: core's cli-progress bar on a terminal, one plain line per finished shard otherwise. */
function progressOf(ctx: CliContext, label: string, shards: number) {
  const started = Date.now();
  const eta = (done: number) => (done === 0 ? '?' : seconds(((Date.now() - started) / done) * (shards - done)));
  if (ctx.isTTY) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} shards | ETA {eta_formatted}`,
      stream: ctx.stderr as NodeJS.WriteStream,
    });
    bar.start(shards, 0);
    return { tick: (done: number) => bar.update(done), stop: () => bar.stop() };
  }
  return { tick: (done: number) => ctx.print(`${label}: ${done}/${shards} shards, ETA ${eta(done)}`), stop: () => undefined };
}

/**
 * Runs `kind` over [0, total) on the queue's workers, one job per shard of `shardSize` examples,
 * and returns the results in shard order. A shard that fails `attempts` times (default 3) fails the
 * run with its error; the run's jobs are removed from Redis at the end either way.
 *
 * @example
 * const parts = await runSharded({ queue: 'redis://127.0.0.1:6379', kind: 'eval', spec, total: 100, shardSize: 32, ctx, label: 'eval' });
 */
export async function runSharded<Result>(o: {
  queue: string;
  kind: string;
  spec: unknown;
  total: number;
  shardSize: number;
  ctx: CliContext;
  label: string;
  attempts?: number;
  /** Aborted (Ctrl-C): stop waiting; the run's jobs are removed from the queue. */
  signal?: AbortSignal;
}): Promise<Result[]> {
  const connection = queueConnection(o.queue);
  const attempts = o.attempts ?? 3;
  const ranges = planShards(o.total, o.shardSize);
  if (ranges.length === 0) return [];
  const run = randomUUID();
  const queue = new Queue(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  const jobIds = ranges.map((_, index) => `${run}-${index}`);
  const results: (Result | undefined)[] = ranges.map(() => undefined);
  const seenAttempts = ranges.map(() => 0);
  let timer: NodeJS.Timeout | undefined;
  const progress = progressOf(o.ctx, o.label, ranges.length);
  try {
    await connect(o.queue, Promise.all([queue.waitUntilReady(), events.waitUntilReady()]));
    o.ctx.print(`${o.label}: ${o.total} examples in ${ranges.length} shards of ${o.shardSize} on ${displayUrl(o.queue)} (run ${run})`);
    // Subscribed before the jobs exist, so no completion is missed; the poll below is the fallback.
    await queue.addBulk(
      ranges.map((range, index) => ({
        name: o.kind,
        data: { run, kind: o.kind, spec: o.spec, range, index, shards: ranges.length, label: o.label } satisfies ShardJobData,
        // Removed by the coordinator at the end; the ages only clear what an interrupted coordinator
        // left behind (a shard a worker was running when it stopped).
        opts: {
          jobId: jobIds[index],
          attempts,
          backoff: { type: 'exponential', delay: 500 },
          removeOnComplete: { age: 24 * 3600 },
          removeOnFail: { age: 24 * 3600 },
        },
      })),
    );
    let done = 0;
    const indexOf = new Map(jobIds.map((id, index) => [id, index]));
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let draining = false;
      const startedAt = Date.now();
      let hinted = false;
      // Shards to look at: the one an event names at once, every unfinished one on each poll
      // (retries, and anything an event missed), so a check costs one shard, not the run.
      const dirty = new Set<number>();
      const inspect = async (index: number) => {
        // The state first, then the job: a job read before it finished would carry no return value yet.
        const state = await queue.getJobState(jobIds[index]!);
        const job = (await queue.getJob(jobIds[index]!)) as Job | undefined;
        if (!job || state === 'unknown') {
          throw new MmftError('E_IO', `${o.label}: shard ${index + 1}'s job ${jobIds[index]} vanished from the queue`, {
            hint: "something removed the run's jobs from Redis (an obliterate or FLUSHDB?); run the command again",
          });
        }
        if (state === 'completed') {
          results[index] = job.returnvalue as Result;
          done++;
          progress.tick(done);
        } else if (state === 'failed') {
          const { code, message } = parseFailure(job.failedReason ?? 'no reason given');
          const r = ranges[index]!;
          throw new MmftError(
            code ?? 'E_IO',
            `${o.label}: shard ${index + 1} of ${ranges.length} (examples ${r.start}–${r.end - 1}) failed after ${job.attemptsMade} attempt(s): ${message}`,
            { hint: 'the workers print each shard they run; fix the cause and run the command again' },
          );
        } else if (job.attemptsMade > seenAttempts[index]!) {
          seenAttempts[index] = job.attemptsMade;
          o.ctx.print(
            `${o.label}: shard ${index + 1} failed (attempt ${job.attemptsMade} of ${attempts}), retrying: ${parseFailure(job.failedReason ?? '').message}`,
          );
        }
      };
      const drain = async () => {
        if (settled || draining) return;
        draining = true;
        try {
          while (dirty.size > 0 && !settled) {
            const index = dirty.values().next().value as number;
            dirty.delete(index);
            if (results[index] === undefined) await inspect(index);
          }
          if (done === ranges.length) {
            settled = true;
            resolve();
          } else if (!hinted && done === 0 && Date.now() - startedAt > 15_000) {
            hinted = true;
            o.ctx.print(`${o.label}: waiting for workers; start some with: mmft worker --queue ${displayUrl(o.queue)}`);
          }
        } catch (error) {
          settled = true;
          reject(error);
        } finally {
          draining = false;
        }
      };
      const mark = (jobId: string) => {
        const index = indexOf.get(jobId);
        if (index === undefined) return;
        dirty.add(index);
        void drain();
      };
      const poll = () => {
        ranges.forEach((_, index) => (results[index] === undefined ? dirty.add(index) : undefined));
        void drain();
      };
      o.signal?.addEventListener(
        'abort',
        () => {
          if (settled) return;
          settled = true;
          reject(
            new MmftError(
              'E_IO',
              `${o.label}: stopped after ${done} of ${ranges.length} shards; the run's waiting shards are removed from the queue`,
            ),
          );
        },
        { once: true },
      );
      events.on('completed', ({ jobId }) => mark(jobId));
      events.on('failed', ({ jobId }) => mark(jobId));
      timer = setInterval(poll, 1000);
      poll();
    });
    return results as Result[];
  } finally {
    if (timer) clearInterval(timer);
    progress.stop();
    // The results are back (or the run failed): nothing of the run stays in Redis. A job a
    // worker still holds is locked and stays; BullMQ's removeOnFail/age rules do not apply then.
    await Promise.all(jobIds.map((id) => queue.remove(id).catch(() => 0)));
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
}

/** Waits for the connection, failing clearly (instead of retrying forever) when Redis is not there. */
export async function connect(url: string, ready: Promise<unknown>, ms = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new MmftError('E_IO', `no Redis server answered at ${displayUrl(url)} within ${ms / 1000} s`, {
            hint: 'start one (redis-server --port 6379) or give the right --queue redis://HOST:PORT',
          }),
        ),
      ms,
    );
  });
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
