// Tests' Redis: Debian's redis-server on a free loopback port, nothing saved to disk. A missing
// redis-server fails the test (.ci/run installs it), it is never skipped. The CLI's queue tests and
// the e2e queue tests (tests/e2e/queue-*.test.ts, through @mmft/cli/testing) start it from here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';

/** A running redis-server: its URL, and `stop()` which resolves once the process has exited. */
export interface TestRedis {
  readonly url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts redis-server and waits until it accepts connections.
 *
 * @example
 * const redis = await startRedis(); // redis.url: redis://127.0.0.1:<port>; afterAll: await redis.stop()
 */
export async function startRedis(): Promise<TestRedis> {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (found.error || found.status !== 0) {
    throw new Error(
      "redis-server is not installed: the queue tests need it (.ci/run installs Debian's redis-server; locally: apt-get install redis-server)",
    );
  }
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`redis-server did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
