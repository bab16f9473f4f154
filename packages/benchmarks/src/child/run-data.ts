// A `kind: data` experiment: images/s of the @mmft/image pipeline (decode, CLIP resize + crop,
// normalise to float32 NCHW) over the examples of the recipe's data.train dataset. The encoded
// images are collected first, so dataset generation is not timed; each pass reads them all.
import * as os from 'node:os';
import type { ImageRef, ProviderResolver } from '@mmft/core';
import { datasetContext, MmftError } from '@mmft/core';
import { ImagePipeline } from '@mmft/image';
import type { Experiment } from '../suite/experiment';
import type { SideResult } from '../suite/result';
import { summarize } from '../suite/stats';

async function collectImages(experiment: Experiment, resolver: ProviderResolver): Promise<ImageRef[]> {
  const section = (experiment.recipe.value.data as { train?: Record<string, unknown> } | undefined)?.train;
  if (!section) throw new MmftError('E_RECIPE', `${experiment.file}: a data experiment needs data.train`);
  const { type, ...settings } = section;
  const dataset = await resolver
    .resolve('dataset', String(type))
    .open(settings, datasetContext(resolver, experiment.recipe.baseDir, 'data.train'));
  const images: ImageRef[] = [];
  const seen = new Set<string>();
  for await (const example of dataset.iterate()) {
    const image = example.image;
    if (!image) continue; // text-only examples have nothing for the image pipeline
    const key = image.kind === 'file' ? image.path : image.key;
    if (!seen.has(key)) (seen.add(key), images.push(image));
    if (images.length >= experiment.bench.images) break;
  }
  return images;
}

/**
 * Measure the image pipeline.
 *
 * @example
 * const result = await runData(experiment, registry);
 */
export async function runData(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const { bench } = experiment;
  const images = await collectImages(experiment, resolver);
  const pipeline = new ImagePipeline({ batchSize: bench.batch_size ?? 32, size: bench.image_size, workers: bench.workers, prefetch: 2 });
  const times: number[] = [];
  try {
    for (let pass = 0; pass < bench.warmup_steps + bench.timed_steps; pass++) {
      const start = performance.now();
      let count = 0;
      for await (const batch of pipeline.batches(images)) count += batch.shape[0];
      if (count !== images.length) throw new MmftError('E_DATA', `image pipeline returned ${count} of ${images.length} images`);
      if (pass >= bench.warmup_steps) times.push(performance.now() - start);
    }
  } finally {
    await pipeline.close();
  }
  const timing = summarize(times);
  return {
    side: 'mmft',
    throughput: (1000 * images.length) / timing.medianMs,
    unit: 'images/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: { pipeline: '@mmft/image (sharp)', workers: bench.workers, cpus: os.availableParallelism() },
    note: `${images.length} images → ${bench.image_size} px`,
  };
}
