// `mmft embed --queue` and `mmft generate --input --queue` over a real Redis on loopback with two
// `mmft worker` processes: the queued outputs equal the single-process ones byte for byte (embed:
// embeddings.safetensors and index.jsonl of the committed CLIP on a small shapes set; generate: the
// committed shapes Llama sampling with a seed, so the per-batch seeds are checked too). A missing
// redis-server is a failure (@mmft/cli/testing's startRedis): .ci/run installs Debian's redis-server.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startRedis, type TestRedis } from '@mmft/cli/testing';

const ROOT = path.join(__dirname, '..', '..');
const MAIN = path.join(ROOT, 'packages', 'cli', 'dist', 'main.js');
const CLIP = path.join(ROOT, 'models', 'clip-shapes-base');
const LLAMA = path.join(ROOT, 'models', 'llama-shapes-base');
let tmp: string;
let redis: TestRedis | undefined;
let url: string;
const workers: ChildProcess[] = [];

function mmft(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { cwd: tmp, maxBuffer: 1 << 24 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mmft-queue-embed-'));
  redis = await startRedis();
  url = redis.url;
  for (let i = 0; i < 2; i++) {
    const worker = spawn(process.execPath, [MAIN, 'worker', '--queue', url, '--idle-exit', '60'], { cwd: tmp, stdio: 'ignore' });
    workers.push(worker);
  }
  const data = await mmft(['data', 'shapes', '--out', 'shapes', '--n', '10', '--tasks', 'retrieval', '--size', '32', '--seed', '3']);
  expect(data.stderr).toBe('');
  fs.writeFileSync(
    path.join(tmp, 'rows.jsonl'),
    ['Q: what shape is red?', 'a blue', 'Q: how many', 'a green', 'the']
      .map((prompt, i) => JSON.stringify({ id: `r${i}`, prompt }))
      .join('\n') + '\n',
  );
}, 60_000);

afterAll(async () => {
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(workers.map((w) => (w.exitCode === null ? new Promise((r) => w.once('exit', r)) : undefined)));
  await redis?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('queued embed and batch generate', () => {
  test('mmft embed --queue with two workers writes the single-process bytes', async () => {
    const data = fs.readdirSync(path.join(tmp, 'shapes')).find((f) => f.startsWith('retrieval'))!;
    const file = path.join('shapes', data);
    const [queued, single] = await Promise.all([
      mmft(['embed', CLIP, file, '--out', 'emb-q', '--batch-size', '2', '--queue', url, '--shard-size', '4']),
      mmft(['embed', CLIP, file, '--out', 'emb-1', '--batch-size', '2']),
    ]);
    expect(queued.stderr).toBe('');
    expect(single.stderr).toBe('');
    expect(queued.stdout).toContain('embed: 3/3 shards');
    expect(single.stdout).toContain('10 image and');
    for (const name of ['embeddings.safetensors', 'index.jsonl']) {
      expect(fs.readFileSync(path.join(tmp, 'emb-q', name)).equals(fs.readFileSync(path.join(tmp, 'emb-1', name)))).toBe(true);
    }
  }, 60_000);

  test('mmft generate --input --queue samples as one process (per-batch seeds) and keeps input order', async () => {
    const flags = ['--do-sample', '--seed', '11', '--max-new-tokens', '6', '--batch-size', '2'];
    const [queued, single] = await Promise.all([
      mmft(['generate', LLAMA, '--input', 'rows.jsonl', '--output', 'gen-q.jsonl', ...flags, '--queue', url, '--shard-size', '2']),
      mmft(['generate', LLAMA, '--input', 'rows.jsonl', '--output', 'gen-1.jsonl', ...flags]),
    ]);
    expect(queued.stderr).toBe('');
    expect(single.stderr).toBe('');
    expect(queued.stdout).toContain('generate: 3/3 shards');
    const q = fs.readFileSync(path.join(tmp, 'gen-q.jsonl'), 'utf8');
    expect(q).toBe(fs.readFileSync(path.join(tmp, 'gen-1.jsonl'), 'utf8'));
    expect(
      q
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
    ).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
  }, 60_000);
});
