import { PassThrough } from 'node:stream';
import { describe, expect, test } from '@jest/globals';
import { Queue } from 'bullmq';
import { MmftError } from '@mmft/core';
import { createCliContext, type CliContext } from '../context';
import { LruWorkerCache } from './cache';
import { queueConnection } from './connection';
import type { ShardHandler } from './handlers';
import { useTestRedis } from './redis-hooks.test-helper';
import { parseFailure, planShards, runSharded } from './run-sharded';
import { jobError, runWorker } from './worker';

function quietContext(): CliContext & { lines: () => string[] } {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (c: Buffer) => chunks.push(c));
  const ctx = createCliContext({ stdout, stderr: new PassThrough(), isTTY: false, builtins: [] });
  return Object.assign(ctx, { lines: () => Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean) });
}

describe('planShards', () => {
  test('covers [0, total) in order with shards of shardSize, the last one shorter', () => {
    expect(planShards(10, 4)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 8 },
      { start: 8, end: 10 },
    ]);
    expect(planShards(8, 4)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 8 },
    ]);
    expect(planShards(3, 16)).toEqual([{ start: 0, end: 3 }]);
    expect(planShards(0, 4)).toEqual([]);
    for (const [total, size] of [
      [97, 8],
      [1, 1],
      [64, 64],
    ] as const) {
      const shards = planShards(total, size);
      expect(shards.length).toBe(Math.ceil(total / size));
      expect(shards.reduce((n, s) => n + s.end - s.start, 0)).toBe(total);
      shards.forEach((s, i) => expect(s.start).toBe(i * size));
    }
    expect(() => planShards(10, 0)).toThrow('--shard-size must be a whole number ≥ 1, got 0');
  });
});

describe('queue URLs and failures', () => {
  test('only redis:// and rediss:// URLs with a numeric database are accepted', () => {
    expect(queueConnection('redis://127.0.0.1:6379/2')).toEqual({ url: 'redis://127.0.0.1:6379/2', maxRetriesPerRequest: null });
    expect(() => queueConnection('http://127.0.0.1:6379')).toThrow('--queue http://127.0.0.1:6379: the queue is a Redis server');
    expect(() => queueConnection('redis://127.0.0.1:6379/x')).toThrow('the path "/x" is not a Redis database number');
    expect(() => queueConnection('127.0.0.1:6379')).toThrow();
  });

  test('a worker records an MmftError as "CODE: message (hint)", final for errors a retry cannot fix', () => {
    const retried = jobError(new MmftError('E_INPUT', 'the recipe /x.yaml does not exist on this worker', { hint: 'share it' }));
    expect(retried.message).toBe('E_INPUT: the recipe /x.yaml does not exist on this worker (share it)');
    expect(retried.name).toBe('Error');
    expect(jobError(new MmftError('E_UNSUPPORTED', 'no')).name).toBe('UnrecoverableError');
    expect(parseFailure(retried.message)).toEqual({
      code: 'E_INPUT',
      message: 'the recipe /x.yaml does not exist on this worker (share it)',
    });
    expect(parseFailure('boom')).toEqual({ code: undefined, message: 'boom' });
  });
});

describe('LruWorkerCache', () => {
  test('keeps the last two keys, disposes the evicted one, loads a key once', async () => {
    const cache = new LruWorkerCache(2);
    const made: string[] = [];
    const disposed: string[] = [];
    const get = (k: string) =>
      cache.get(
        k,
        async () => {
          made.push(k);
          return k.toUpperCase();
        },
        (v) => disposed.push(v),
      );
    expect(await Promise.all([get('a'), get('a')])).toEqual(['A', 'A']);
    await get('b');
    await get('a'); // a is now the most recent
    await get('c'); // evicts b
    await new Promise((r) => setImmediate(r));
    expect(made).toEqual(['a', 'b', 'c']);
    expect(disposed).toEqual(['B']);
    expect(cache.keys()).toEqual(['a', 'c']);
    await cache.clear();
    expect(disposed.sort()).toEqual(['A', 'B', 'C']);
  });
});

describe('runSharded with workers on a real Redis', () => {
  const redis = useTestRedis();

  // Squares values[start..end) and counts its loads in the cache, so the test sees the shards, their order and the cache.
  const loads: string[] = [];
  const square: ShardHandler<{ values: number[]; failAt?: number }, number[]> = {
    kind: 'square',
    async run(spec, range, cache) {
      const table = await cache.get(
        JSON.stringify(spec.values),
        async () => {
          loads.push('load');
          return spec.values.map((v) => v * v);
        },
        () => undefined,
      );
      if (spec.failAt !== undefined && range.start === spec.failAt) throw new MmftError('E_DATA', `bad value at ${range.start}`);
      return table.slice(range.start, range.end);
    },
  };

  test('two workers: results in shard order, the model loaded once per worker, a shard failing once retried', async () => {
    const values = Array.from({ length: 23 }, (_, i) => i - 7);
    const ctx = quietContext();
    const w1 = quietContext();
    const w2 = quietContext();
    loads.length = 0;
    process.env.MMFT_QUEUE_FAIL_ONCE = '2';
    const workers = [w1, w2].map((c) => runWorker(c, { queue: redis.url, idleExit: 1, handlers: { square } }));
    try {
      const results = await runSharded<number[]>({
        queue: redis.url,
        kind: 'square',
        spec: { values },
        total: values.length,
        shardSize: 5,
        ctx,
        label: 'square',
      });
      expect(results).toEqual(planShards(23, 5).map((r) => values.slice(r.start, r.end).map((v) => v * v)));
      expect(results.flat()).toEqual(values.map((v) => v * v));
    } finally {
      delete process.env.MMFT_QUEUE_FAIL_ONCE;
    }
    const done = await Promise.all(workers);
    expect(done.every((d) => d.stoppedBy === 'idle')).toBe(true);
    // 5 shards + the failed first attempt of shard 3.
    expect(done[0]!.finished + done[1]!.finished).toBe(6);
    expect(loads.length).toBeLessThanOrEqual(2);
    const workerLines = [...w1.lines(), ...w2.lines()];
    expect(workerLines.filter((l) => /square shard 3\/5 .*failed \(attempt 1\): test fault: MMFT_QUEUE_FAIL_ONCE=2/.test(l))).toHaveLength(
      1,
    );
    expect(workerLines.filter((l) => / done in /.test(l))).toHaveLength(5);
    expect(ctx.lines()).toContain('square: 5/5 shards, ETA 0s');
    expect(ctx.lines().some((l) => l.startsWith('square: shard 3 failed (attempt 1 of 3), retrying: test fault'))).toBe(true);
  }, 30_000);

  test('a shard failing every attempt fails the run, naming the shard, its examples and the error; its jobs are removed', async () => {
    const ctx = quietContext();
    const worker = runWorker(quietContext(), { queue: redis.url, idleExit: 1, handlers: { square } });
    const values = [1, 2, 3, 4, 5, 6];
    const error = await runSharded({
      queue: redis.url,
      kind: 'square',
      spec: { values, failAt: 4 },
      total: 6,
      shardSize: 2,
      ctx,
      label: 'square',
      attempts: 2,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MmftError);
    expect((error as MmftError).code).toBe('E_DATA');
    expect((error as MmftError).message).toBe('square: shard 3 of 3 (examples 4–5) failed after 2 attempt(s): bad value at 4');
    await worker;
    const queue = new Queue('mmft', { connection: queueConnection(redis.url) });
    try {
      expect(await queue.getJobCounts('completed', 'failed', 'waiting', 'delayed', 'active')).toEqual({
        completed: 0,
        failed: 0,
        waiting: 0,
        delayed: 0,
        active: 0,
      });
    } finally {
      await queue.close();
    }
  }, 30_000);

  test('a stopped worker hands its running shard back without using an attempt; another worker finishes it', async () => {
    let started: () => void = () => undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const slow: ShardHandler<unknown, string> = {
      kind: 'slow',
      async run(_spec, range) {
        started();
        await new Promise((r) => setTimeout(r, 800));
        return `done ${range.start}`;
      },
    };
    const stopper = new AbortController();
    const first = quietContext();
    const stopped = runWorker(first, { queue: redis.url, signal: stopper.signal, handlers: { slow } });
    const ctx = quietContext();
    const result = runSharded<string>({ queue: redis.url, kind: 'slow', spec: {}, total: 1, shardSize: 1, ctx, label: 'slow' });
    await running;
    stopper.abort();
    expect(await stopped).toEqual({ finished: 0, stoppedBy: 'signal' });
    expect(
      first.lines().filter((l) => /^slow shard 1\/1 \(examples 0–0, run [0-9a-f]{8}\): handed back \(worker stopping\)$/.test(l)),
    ).toHaveLength(1);
    const second = runWorker(quietContext(), { queue: redis.url, idleExit: 1, handlers: { slow } });
    expect(await result).toEqual(['done 0']);
    expect((await second).finished).toBe(1);
    // Handed back, not failed: no attempt was used, so no retry line.
    expect(ctx.lines().filter((l) => l.includes('retrying'))).toEqual([]);
  }, 30_000);

  test('an interrupted coordinator stops waiting and removes its waiting shards from the queue', async () => {
    const stop = new AbortController();
    const run = runSharded({
      queue: redis.url,
      kind: 'square',
      spec: { values: [1, 2, 3] },
      total: 3,
      shardSize: 1,
      ctx: quietContext(),
      label: 'square',
      signal: stop.signal,
    });
    const queue = new Queue('mmft', { connection: queueConnection(redis.url) });
    try {
      while ((await queue.getJobCounts('waiting')).waiting < 3) await new Promise((r) => setTimeout(r, 20));
      stop.abort();
      await expect(run).rejects.toThrow("square: stopped after 0 of 3 shards; the run's waiting shards are removed from the queue");
      expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });
    } finally {
      await queue.close();
    }
  });

  test('a kind the worker does not run fails for good at once; --max-jobs stops a worker', async () => {
    const ctx = quietContext();
    const worker = runWorker(quietContext(), { queue: redis.url, maxJobs: 1, handlers: { square } });
    const error = (await runSharded({ queue: redis.url, kind: 'paint', spec: {}, total: 4, shardSize: 4, ctx, label: 'paint' }).catch(
      (e: unknown) => e,
    )) as MmftError;
    expect(error.code).toBe('E_UNSUPPORTED');
    expect(error.message).toBe(
      'paint: shard 1 of 1 (examples 0–3) failed after 1 attempt(s): this worker runs square shards, not "paint" (run workers of the same mmft version as the command that queued the run)',
    );
    expect(await worker).toEqual({ finished: 1, stoppedBy: 'max-jobs' });
  }, 30_000);
});
