// `mmft worker` as a command: the flags, a bad queue URL, and a worker on a real Redis that stops
// after --idle-exit with nothing queued (the shards themselves: queue/queue.test.ts, eval-queue.test.ts).
import { describe, expect, test } from '@jest/globals';
import { runCliForTest } from '../testing';
import { SHARD_HANDLERS } from '../queue/handlers';
import { useTestRedis } from '../queue/redis-hooks.test-helper';

const redis = useTestRedis();

describe('mmft worker', () => {
  test('--queue is required and must be a redis:// URL; whole numbers for the limits', async () => {
    const missing = await runCliForTest(['worker'], { builtins: [] });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/required option '--queue <url>' not specified/);
    const http = await runCliForTest(['worker', '--queue', 'http://127.0.0.1:6379'], { builtins: [] });
    expect(http.code).not.toBe(0);
    expect(http.stderr).toMatch(/--queue http:\/\/127\.0\.0\.1:6379: the queue is a Redis server, so the URL starts with redis:\/\//);
    const zero = await runCliForTest(['worker', '--queue', redis.url, '--max-jobs', '0'], { builtins: [] });
    expect(zero.stderr).toMatch(/--max-jobs takes a whole number ≥ 1, got "0"/);
  });

  test('waits on the queue, then stops after --idle-exit seconds without a shard', async () => {
    const run = await runCliForTest(['worker', '--queue', redis.url, '--idle-exit', '1'], { builtins: [] });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([
      `worker: waiting for shards on ${redis.url} (kinds: ${Object.keys(SHARD_HANDLERS).join(', ')})`,
      'worker: stopped (idle for 1 s) after 0 shard(s)',
    ]);
  }, 20_000);
});
