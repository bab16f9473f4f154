// Streams examples into float32 NCHW batches: images are preprocessed in a worker pool with a
// bounded prefetch queue, and batches come out in source order whatever the worker timing. The
// shape of torch's DataLoader (num_workers, prefetch_factor, drop_last), without tensors: a
// plain Float32Array + shape, so any engine (tfjs, onnxruntime) can wrap it.
import * as os from 'node:os';
import type { ImageRef } from '@mmft/core';
import { MmftError } from '@mmft/core';
import type { ImageInput } from './decode';
import { preprocessOptionsSchema, type PreprocessOptions, type PreprocessOptionsInput } from './options';
import { ImageWorkerPool } from './pool';
import { preprocessResolved } from './preprocess';
import { deriveSeed } from './rng';

export interface ImagePipelineOptions extends PreprocessOptionsInput {
  readonly batchSize: number;
  /** Worker threads; 0 preprocesses on the main thread. Default: available cores, at most 8. */
  readonly workers?: number;
  /** Batches decoded ahead while the consumer holds one (default 2). */
  readonly prefetch?: number;
  /** Drop a last batch smaller than batchSize (default false). */
  readonly dropLast?: boolean;
  /** Augmentation seed: image i of epoch e uses deriveSeed(seed, e, i). */
  readonly seed?: number;
  readonly epoch?: number;
}

/** One batch: pixels as float32 NCHW, and the source items in the same order. */
export interface ImageBatch<T> {
  readonly pixelValues: Float32Array;
  readonly shape: readonly [number, 3, number, number];
  readonly items: readonly T[];
  /** Position of each item in the source stream. */
  readonly indices: readonly number[];
}

type Pending<T> = { readonly item: T; readonly index: number; readonly pixels: Promise<Float32Array> };

/**
 * @example
 * const pipeline = new ImagePipeline({ batchSize: 32, size: 224, workers: 4 });
 * for await (const batch of pipeline.batches(dataset.iterate(), (ex) => ex.image)) train(batch.pixelValues, batch.shape);
 * await pipeline.close();
 */
export class ImagePipeline {
  readonly options: PreprocessOptions;
  private readonly pool?: ImageWorkerPool;
  private readonly side: number;

  constructor(readonly config: ImagePipelineOptions) {
    const { batchSize, workers, prefetch, dropLast, seed, epoch, ...preprocessInput } = config;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new MmftError('E_CONFIG', `batchSize must be a positive integer, got ${batchSize}`);
    if (prefetch !== undefined && (!Number.isInteger(prefetch) || prefetch < 0))
      throw new MmftError('E_CONFIG', `prefetch must be an integer >= 0, got ${prefetch}`);
    this.options = preprocessOptionsSchema.parse(preprocessInput);
    this.side = this.options.cropSize ?? this.options.size;
    const threads = workers ?? Math.min(os.availableParallelism(), 8);
    if (threads > 0) this.pool = new ImageWorkerPool(threads);
  }

  private submit(image: ImageInput, index: number): Promise<Float32Array> {
    const seed = deriveSeed(this.config.seed ?? 0, this.config.epoch ?? 0, index);
    const task = this.pool
      ? this.pool.run({ input: image, options: this.options, seed })
      : preprocessResolved(image, this.options, seed).then((r) => r.data);
    task.catch(() => undefined); // a consumer that stops early must not leave unhandled rejections
    return task;
  }

  private async collect<T>(chunk: readonly Pending<T>[]): Promise<ImageBatch<T>> {
    const size = 3 * this.side * this.side;
    const pixelValues = new Float32Array(chunk.length * size);
    for (const [slot, pending] of chunk.entries()) pixelValues.set(await pending.pixels, slot * size);
    return {
      pixelValues,
      shape: [chunk.length, 3, this.side, this.side],
      items: chunk.map((p) => p.item),
      indices: chunk.map((p) => p.index),
    };
  }

  /** Batches of ImageRefs (or paths / bytes) themselves. */
  batches(source: AsyncIterable<ImageInput> | Iterable<ImageInput>): AsyncGenerator<ImageBatch<ImageInput>>;
  /** Batches of any items, `imageOf` saying where each item's image is. */
  batches<T>(source: AsyncIterable<T> | Iterable<T>, imageOf: (item: T) => ImageRef | ImageInput): AsyncGenerator<ImageBatch<T>>;
  async *batches<T>(source: AsyncIterable<T> | Iterable<T>, imageOf?: (item: T) => ImageInput): AsyncGenerator<ImageBatch<T>> {
    const { batchSize, prefetch = 2, dropLast = false } = this.config;
    const cap = (prefetch + 1) * batchSize; // in flight while a batch is being assembled
    const queue: Pending<T>[] = [];
    let index = 0;
    for await (const item of source) {
      const image = imageOf ? imageOf(item) : (item as unknown as ImageInput);
      queue.push({ item, index, pixels: this.submit(image, index) });
      index++;
      if (queue.length >= cap) yield await this.collect(queue.splice(0, batchSize));
    }
    while (queue.length > 0) {
      const chunk = queue.splice(0, batchSize);
      if (dropLast && chunk.length < batchSize) break;
      yield await this.collect(chunk);
    }
  }

  /** Stop the workers. The pipeline cannot be used afterwards. */
  async close(): Promise<void> {
    await this.pool?.close();
  }
}
