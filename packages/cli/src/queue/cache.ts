// The worker's cache of loaded models: the last `capacity` entries by key, the least recently
// used evicted (and disposed) first. Two shards asking for the same key at once share one load.
import type { WorkerCache } from './handlers';

interface Entry {
  readonly value: Promise<unknown>;
  readonly dispose: (t: unknown) => void;
}

/** A WorkerCache that also disposes everything it holds on `clear()` (the worker stops). */
export class LruWorkerCache implements WorkerCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 2) {}

  /** Keys held, least recently used first (tests). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  async get<T>(key: string, make: () => Promise<T>, dispose: (t: T) => void): Promise<T> {
    const held = this.entries.get(key);
    if (held) {
      this.entries.delete(key);
      this.entries.set(key, held);
      return held.value as Promise<T>;
    }
    const value = make();
    const entry: Entry = { value, dispose: dispose as (t: unknown) => void };
    this.entries.set(key, entry);
    // A failed load is not kept: the next shard tries again.
    value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    while (this.entries.size > this.capacity) {
      const [oldest, evicted] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldest);
      void evicted.value.then(evicted.dispose, () => undefined);
    }
    return value;
  }

  /** Disposes every entry. */
  async clear(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.value.then(e.dispose, () => undefined)));
  }
}
