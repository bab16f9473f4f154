// A `kind: metrics` experiment: evaluator speed. Each metric of the recipe's metrics: list is
// created through its plugin and fed deterministic synthetic input of `bench.items` images
// (retrieval: 5 texts per image, 128-d embeddings; caption: 5 references per image). items/s.
import type { ProviderResolver } from '@mmft/core';
import { MmftError } from '@mmft/core';
import type { Experiment } from '../suite/experiment';
import type { SideResult } from '../suite/result';
import { summarize } from '../suite/stats';

/** mulberry32: a small seeded PRNG so every run scores the same input. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Synthetic update of each supported metric id for `items` images. */
const INPUTS: Readonly<Record<string, (items: number, rand: () => number) => unknown>> = {
  retrieval: (items, rand) => {
    const vec = () => Array.from({ length: 128 }, () => rand() - 0.5);
    return {
      images: Array.from({ length: items }, (_, i) => ({ id: String(i), embedding: vec() })),
      texts: Array.from({ length: items * 5 }, (_, t) => ({ imageId: String(Math.floor(t / 5)), embedding: vec() })),
    };
  },
  caption: (items, rand) => {
    const sentence = () =>
      Array.from({ length: 8 + Math.floor(rand() * 7) }, () => `w${Math.floor(Math.exp(rand() * Math.log(10_001)) - 1).toString(36)}`).join(
        ' ',
      );
    return Array.from({ length: items }, (_, i) => ({
      id: String(i),
      prediction: sentence(),
      references: Array.from({ length: 5 }, sentence),
    }));
  },
};

/**
 * Measure the recipe's metrics on synthetic input.
 *
 * @example
 * const result = await runMetrics(experiment, registry);
 */
export async function runMetrics(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const { bench } = experiment;
  const sections = (experiment.recipe.value.metrics ?? []) as Array<Record<string, unknown>>;
  if (sections.length === 0) throw new MmftError('E_RECIPE', `${experiment.file}: a metrics experiment needs a metrics: list`);
  const metrics = sections.map(({ type, ...settings }) => {
    const make = INPUTS[String(type)];
    if (!make)
      throw new MmftError(
        'E_UNSUPPORTED',
        `${experiment.file}: no synthetic input for metric "${String(type)}"; supported: ${Object.keys(INPUTS).join(', ')}`,
      );
    return { provider: resolver.resolve('metric', String(type)), settings, input: make(bench.items, prng(42)) };
  });
  const times: number[] = [];
  for (let pass = 0; pass < bench.warmup_steps + bench.timed_steps; pass++) {
    const start = performance.now();
    for (const m of metrics) {
      const metric = m.provider.create(m.provider.configSchema.parse(m.settings));
      metric.update(m.input as never);
      metric.compute();
    }
    if (pass >= bench.warmup_steps) times.push(performance.now() - start);
  }
  const timing = summarize(times);
  return {
    side: 'mmft',
    throughput: (1000 * bench.items) / timing.medianMs,
    unit: 'items/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: { metrics: sections.map((s) => s.type) },
    note: `${bench.items} images per pass`,
  };
}
