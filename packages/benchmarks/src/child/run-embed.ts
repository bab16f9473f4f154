// A `kind: embed` experiment: image-embedding extraction (inference) in this process, the way
// evaluation and feature caching call the model: eval mode, pixels-only forward inside tf.tidy,
// embeddings read back to the host. Throughput is images/s at the median batch time.
import * as tf from '@tensorflow/tfjs-core';
import type { ProviderResolver } from '@mmft/core';
import type { Experiment } from '../suite/experiment';
import { clipShapeOf, trainStepFlops } from '../suite/flops';
import type { SideResult } from '../suite/result';
import { summarize } from '../suite/stats';
import { buildModel, selectEngine } from './build-run';
import { disposePool, modelConfigOf, syntheticPool, syntheticSpecOf } from './synthetic';

/**
 * Measure image-embedding extraction.
 *
 * @example
 * const result = await runEmbed(experiment, registry);
 */
export async function runEmbed(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const backend = await selectEngine(experiment, resolver);
  const model = await buildModel(experiment, resolver);
  model.root.eval();
  const { bench } = experiment;
  const batch = bench.batch_size ?? 32;
  const config = modelConfigOf(experiment);
  const pool = syntheticPool(syntheticSpecOf(config, batch, bench.text_length), false);
  const times: number[] = [];
  for (let pass = 0; pass < bench.warmup_steps + bench.timed_steps; pass++) {
    const start = performance.now();
    const embeds = tf.tidy(() => model.forward({ pixelValues: pool[pass % pool.length]!.inputs.pixelValues })['imageEmbeds']!);
    await embeds.data();
    embeds.dispose();
    if (pass >= bench.warmup_steps) times.push(performance.now() - start);
  }
  disposePool(pool);
  model.dispose();
  const timing = summarize(times);
  const shape = clipShapeOf(config, bench.text_length);
  // Vision tower only: the forward of a model whose text tower is 0 layers wide.
  const visionOnly = { ...shape, text: { ...shape.text, layers: 0 }, textLength: 0 };
  return {
    side: 'mmft',
    throughput: (1000 * batch) / timing.medianMs,
    unit: 'images/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: {
      name: backend.name,
      engine: backend.capabilities.engine,
      threads: backend.capabilities.threads,
      kernelOverrides: backend.capabilities.kernelOverrides,
      tfjs: tf.version_core,
    },
    flops: trainStepFlops(visionOnly, batch, { vision: 'frozen', text: 'frozen' }).forward,
  };
}
