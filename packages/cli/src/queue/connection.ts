// Where the queue lives: a Redis URL (`redis://host:port[/db]`, `rediss://` for TLS), checked
// before anything connects, and the connection options BullMQ gets. One queue name for every
// kind of shard: a worker serves whatever is queued.
import { MmftError } from '@mmft/core';

/** The BullMQ queue every mmft job goes to. */
export const QUEUE_NAME = 'mmft';

/** Connection options for BullMQ's Queue, QueueEvents and Worker. */
export interface QueueConnection {
  readonly url: string;
  /**
   * null: a blocked command waits for Redis to come back instead of failing after a few retries;
   * BullMQ asks it of Worker connections (taskforcesh/bullmq@081bb30253981968d9723af44e8f2ada6b1a12dc:
   * docs/gitbook/guide/going-to-production.md, "maxRetriesPerRequest").
   */
  readonly maxRetriesPerRequest: null;
}

/**
 * Checks a `--queue` URL and returns the connection options.
 *
 * @example
 * queueConnection('redis://127.0.0.1:6379/0'); // { url: 'redis://127.0.0.1:6379/0', maxRetriesPerRequest: null }
 */
export function queueConnection(url: string, flag = '--queue'): QueueConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MmftError('E_INPUT', `${flag} ${url} is not a URL`, {
      hint: 'give the Redis server as redis://HOST:PORT, e.g. redis://127.0.0.1:6379',
    });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new MmftError('E_INPUT', `${flag} ${url}: the queue is a Redis server, so the URL starts with redis:// (or rediss:// for TLS)`, {
      hint: 'e.g. --queue redis://127.0.0.1:6379',
    });
  }
  if (!parsed.hostname) throw new MmftError('E_INPUT', `${flag} ${url} names no host`, { hint: 'e.g. --queue redis://127.0.0.1:6379' });
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new MmftError('E_INPUT', `${flag} ${url}: the path "/${db}" is not a Redis database number`, {
      hint: 'give redis://HOST:PORT/N with N a whole number (0 when left out)',
    });
  }
  return { url, maxRetriesPerRequest: null };
}

/** The URL without its password, for messages and progress lines. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
