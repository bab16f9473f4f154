// The jest hooks of the CLI's queue tests: a redis-server for the enclosing describe (or file). Kept
// apart from test-redis.ts so @mmft/cli/testing, which exports startRedis, does not load jest.
import { afterAll, beforeAll } from '@jest/globals';
import { startRedis, type TestRedis } from './test-redis';

/**
 * Starts redis-server before the tests of the enclosing block and stops it after them; the
 * returned object's `url` is the server's once beforeAll has run.
 *
 * @example
 * const redis = useTestRedis();
 * test('...', async () => runWorker({ queue: redis.url, ... }));
 */
export function useTestRedis(): { readonly url: string } {
  let server: TestRedis | undefined;
  beforeAll(async () => {
    server = await startRedis();
  }, 20_000);
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get url(): string {
      if (!server) throw new Error('useTestRedis: the Redis URL is read before beforeAll started the server');
      return server.url;
    },
  };
}
