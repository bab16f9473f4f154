// `mmft eval recipe --queue` with two real `mmft worker` processes on a real Redis (Debian's
// redis-server on a free loopback port, started by @mmft/cli/testing's startRedis): the queued scores equal the single-process
// `--json` exactly, and a shard that fails once (the MMFT_QUEUE_FAIL_ONCE test hook) is retried
// by the workers and leaves them equal. A missing redis-server fails the test (.ci/run installs it).
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCliForTest, startRedis, type TestRedis } from '@mmft/cli/testing';

const ROOT = path.join(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const RECIPE = path.join(ROOT, 'recipes', 'llava-shapes-instruct.yaml');
// A few eval examples of each kind (VQA, captions, conversations), 4 new tokens each, batches of 2.
const SMALL = [
  'data.eval.sources.0.n=1',
  'data.eval.sources.1.n=2',
  'data.eval.sources.2.n=1',
  'train.eval_batch_size=2',
  'objective.generation.max_new_tokens=4',
].flatMap((s) => ['--set', s]);

let redis: TestRedis | undefined;
let url: string;
let tmp: string;

beforeAll(async () => {
  redis = await startRedis();
  url = redis.url;
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-queue-eval-'));
}, 20_000);

afterAll(async () => {
  await redis?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** `mmft eval recipe --queue` in shards of `shardSize`, its scores written to `json`; it must succeed without a word on stderr. */
async function queuedEval(shardSize: number, json: string) {
  const run = await runCliForTest(['eval', 'recipe', RECIPE, ...SMALL, '--queue', url, '--shard-size', String(shardSize), '--json', json], {
    cwd: ROOT,
  });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return run;
}

/**
 * Two worker processes: `ready` once both wait for shards (so both get work), `done` with their
 * output once both have exited (--idle-exit).
 */
function startWorkers(env: NodeJS.ProcessEnv = {}) {
  const started: Promise<void>[] = [];
  const done = Promise.all(
    [0, 1].map(
      () =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          const child = spawn(process.execPath, [MAIN, 'worker', '--queue', url, '--idle-exit', '1'], {
            cwd: ROOT,
            env: { ...process.env, ...env },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let out = '';
          started.push(
            new Promise<void>((ready) => {
              const look = () => (out.includes('worker: waiting for shards') ? ready() : undefined);
              child.stdout!.on('data', (c: Buffer) => ((out += c.toString()), look()));
              child.on('exit', () => ready());
            }),
          );
          child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
          child.on('exit', (code) => resolve({ code, out }));
        }),
    ),
  );
  return { ready: Promise.all(started), done };
}

describe('mmft eval recipe --queue with two workers', () => {
  test('the queued scores equal the single-process --json, also when a shard fails once and is retried', async () => {
    const single = path.join(tmp, 'single.json');
    const plain = await runCliForTest(['eval', 'recipe', RECIPE, ...SMALL, '--json', single], { cwd: ROOT });
    expect(plain.stderr).toBe('');
    expect(plain.code).toBe(0);
    const expected = JSON.parse(fs.readFileSync(single, 'utf8')) as Record<string, unknown>;
    const total = expected.examples as number;
    expect(total).toBeGreaterThanOrEqual(8);
    expect(Object.keys(expected)).toEqual(['recipe', 'examples', 'eval_loss', 'perplexity', 'vqa', 'caption', 'instruction']);

    const workers = startWorkers();
    await workers.ready;
    const queued = path.join(tmp, 'queued.json');
    const run = await queuedEval(4, queued);
    expect(run.stdout).toContain(`eval: ${total} examples in ${Math.ceil(total / 4)} shards of 4`);
    const done = await workers.done;
    expect(done.map((w) => w.code)).toEqual([0, 0]);
    // Both took shards: the work was spread.
    for (const w of done) expect(w.out).toMatch(/eval shard \d+\/\d+ .* done in/);
    expect(JSON.parse(fs.readFileSync(queued, 'utf8'))).toEqual(expected);

    const faulty = startWorkers({ MMFT_QUEUE_FAIL_ONCE: '1' });
    await faulty.ready;
    const retried = path.join(tmp, 'retried.json');
    const again = await queuedEval(6, retried);
    expect(again.stdout).toMatch(/eval: shard 2 failed \(attempt 1 of 3\), retrying: test fault: MMFT_QUEUE_FAIL_ONCE=1/);
    const outputs = (await faulty.done).map((w) => w.out).join('\n');
    expect(outputs).toMatch(new RegExp(`eval shard 2/${Math.ceil(total / 6)} .* failed \\(attempt 1\\): test fault`));
    expect(JSON.parse(fs.readFileSync(retried, 'utf8'))).toEqual(expected);
  }, 90_000);
});
