// A bounded admission queue in front of the engine: `concurrency` requests run, `queueSize` wait in
// arrival order, the rest are turned away at once with Retry-After (429; 503 while shutting down),
// as @fastify/under-pressure answers 503 + Retry-After (fastify/under-pressure index.js). Turning
// away early keeps latency bounded instead of letting a backlog grow.
import { ApiError } from './api-error';

interface Waiter {
  readonly grant: () => void;
  readonly fail: (error: unknown) => void;
}

/**
 * @example
 * const release = await queue.acquire(signal); try { await work(); } finally { release(); }
 */
export class BoundedQueue {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  private draining = false;
  private idleWaiters: Array<() => void> = [];
  /** Mean seconds a request held a slot (exponentially weighted), for Retry-After. */
  private meanSeconds = 1;

  constructor(
    readonly concurrency: number,
    readonly queueSize: number,
    private readonly onChange: (running: number, waiting: number) => void = () => {},
  ) {}

  get running(): number {
    return this.active;
  }

  get depth(): number {
    return this.waiting.length;
  }

  /** Seconds a turned-away client should wait: the time the requests ahead of it need, at least 1. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((this.meanSeconds * (this.waiting.length + 1)) / this.concurrency));
  }

  /** A slot: resolves with its release function when one is free; rejects (ApiError) when full, draining or aborted. */
  acquire(signal: AbortSignal): Promise<() => void> {
    if (this.draining) {
      return Promise.reject(
        new ApiError(503, 'the server is shutting down and takes no new requests', {
          code: 'shutting_down',
          headers: { 'retry-after': String(this.retryAfterSeconds()) },
        }),
      );
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    const started = Date.now();
    const release = (): void => {
      this.meanSeconds = 0.8 * this.meanSeconds + 0.2 * ((Date.now() - started) / 1000);
      this.active -= 1;
      this.next();
    };
    if (this.active < this.concurrency) {
      this.active += 1;
      this.changed();
      return Promise.resolve(once(release));
    }
    if (this.waiting.length >= this.queueSize) {
      return Promise.reject(
        new ApiError(
          429,
          `the server is busy: ${this.active} requests running and ${this.waiting.length} waiting (queue size ${this.queueSize})`,
          {
            code: 'queue_full',
            headers: { 'retry-after': String(this.retryAfterSeconds()) },
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        this.changed();
        reject(signal.reason);
      };
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(once(release));
        },
        fail: (error) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.changed();
    });
  }

  /** Stop admitting; resolves when nothing runs or waits (queued requests still get their turn). */
  drain(): Promise<void> {
    this.draining = true;
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    const waiter = this.waiting.shift();
    if (waiter) {
      this.active += 1;
      waiter.grant();
    }
    this.changed();
    if (this.active === 0 && this.waiting.length === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private changed(): void {
    this.onChange(this.active, this.waiting.length);
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (!done) {
      done = true;
      f();
    }
  };
}
