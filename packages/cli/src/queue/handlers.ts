// The kinds of shard a `mmft worker` runs, by name. A queued command (`mmft eval recipe --queue`,
// `mmft embed --queue`, `mmft generate --queue`) puts one job per shard on the queue with its
// kind, a JSON spec and the range of examples; the worker looks the kind up here and runs it. The
// spec carries absolute paths, so every worker must see the files the coordinator saw (a shared
// filesystem), as cluster workers do.
import type { CliContext } from '../context';
import { evalShardHandler } from './eval-shard';
import { embedShardHandler } from './embed-shard';
import { generateShardHandler } from './generate-shard';

/** Examples [start, end) of the whole set, in its order. */
export interface ShardRange {
  readonly start: number;
  readonly end: number;
}

/**
 * What a worker keeps between shards: the last few loaded models (and their objective, registry),
 * so that the shards of one run load the model once per worker. `dispose` runs when an entry is
 * evicted or the worker stops.
 */
export interface WorkerCache {
  get<T>(key: string, make: () => Promise<T>, dispose: (t: T) => void): Promise<T>;
}

/** One kind of shard. `run` returns a JSON-serialisable result; the coordinator merges them in shard order. */
export interface ShardHandler<Spec = unknown, Result = unknown> {
  /** 'eval' | 'embed' | 'generate' */
  readonly kind: string;
  run(spec: Spec, range: ShardRange, cache: WorkerCache, ctx: CliContext): Promise<Result>;
}

/** Every shard kind a worker runs, by kind. */
export const SHARD_HANDLERS: Readonly<Record<string, ShardHandler>> = {
  eval: evalShardHandler as ShardHandler,
  embed: embedShardHandler as ShardHandler,
  generate: generateShardHandler as ShardHandler,
};
