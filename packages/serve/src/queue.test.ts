import { describe, expect, test } from '@jest/globals';
import { ApiError } from './api-error';
import { BoundedQueue } from './queue';

const signal = () => new AbortController().signal;

describe('BoundedQueue', () => {
  test('runs `concurrency`, queues `queueSize` in order, turns the rest away with 429 + Retry-After', async () => {
    const changes: string[] = [];
    const q = new BoundedQueue(2, 1, (running, waiting) => changes.push(`${running}/${waiting}`));
    const a = await q.acquire(signal());
    const b = await q.acquire(signal());
    const order: string[] = [];
    const c = q.acquire(signal()).then((release) => (order.push('c'), release));
    await expect(q.acquire(signal())).rejects.toMatchObject({
      status: 429,
      code: 'queue_full',
      headers: { 'retry-after': expect.stringMatching(/^[1-9]\d*$/) },
    });
    expect([q.running, q.depth]).toEqual([2, 1]);
    a();
    a(); // a second release of the same slot changes nothing
    (await c)();
    b();
    expect(order).toEqual(['c']);
    expect([q.running, q.depth]).toEqual([0, 0]);
    expect(changes).toEqual(['1/0', '2/0', '2/1', '2/0', '1/0', '0/0']);
  });

  test('an aborted waiter leaves the queue with its abort reason', async () => {
    const q = new BoundedQueue(1, 4);
    const held = await q.acquire(signal());
    const controller = new AbortController();
    const waiting = q.acquire(controller.signal);
    expect(q.depth).toBe(1);
    const reason = new ApiError(504, 'late');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(q.depth).toBe(0);
    held();
  });

  test('drain lets running and queued work finish, then resolves; new work gets 503 + Retry-After', async () => {
    const q = new BoundedQueue(1, 2);
    const first = await q.acquire(signal());
    const queued = q.acquire(signal());
    let drained = false;
    const draining = q.drain().then(() => (drained = true));
    await expect(q.acquire(signal())).rejects.toMatchObject({
      status: 503,
      code: 'shutting_down',
      headers: { 'retry-after': expect.any(String) },
    });
    first();
    await Promise.resolve();
    expect(drained).toBe(false); // the queued request now runs
    (await queued)();
    await draining;
    expect(drained).toBe(true);
  });
});
