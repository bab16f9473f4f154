// A `kind: train` experiment in this process: build the run as the trainer does, step on the
// synthetic pool (warm-up, then timed steps; each timed step ends with the loss read back, as the
// trainer's step does), then profile one more step. Throughput is train.batch_size / median step.
import * as tf from '@tensorflow/tfjs-core';
import type { ProviderResolver } from '@mmft/core';
import { lrMultiplier } from '@mmft/trainer-standard';
import type { Experiment } from '../suite/experiment';
import { clipShapeOf, trainStepFlops, type TowerMode } from '../suite/flops';
import type { SideResult } from '../suite/result';
import { summarize } from '../suite/stats';
import { buildTrainParts, type TrainParts } from './build-run';
import { profileStep } from './profile';
import { disposePool, modelConfigOf, syntheticPool, syntheticSpecOf } from './synthetic';
import { trainStep } from './train-step';

/**
 * How a tower trains, from the optimizer's parameter list: no trainable parameter in it → frozen
 * (no backward at all); every one of its parameters trainable → trained; else PEFT-style
 * frozen-through (gradients pass through frozen GEMMs to the adapter weights).
 */
function towerMode(parts: TrainParts, prefixes: readonly string[]): TowerMode {
  const inTower = (name: string) => prefixes.some((p) => name.startsWith(p));
  const trainable = parts.params.filter((p) => inTower(p.name)).length;
  const all = parts.model.root.namedParameters().filter(([n]) => inTower(n)).length;
  return trainable === 0 ? 'frozen' : trainable === all ? 'trained' : 'frozen-through';
}

/**
 * Measure one training experiment.
 *
 * @example
 * const result = await runTrain(experiment, registry);
 */
export async function runTrain(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const parts = await buildTrainParts(experiment, resolver);
  const { bench } = experiment;
  const config = modelConfigOf(experiment);
  const spec = syntheticSpecOf(config, parts.train.batch_size, bench.text_length);
  const pool = syntheticPool(spec);
  const total = bench.warmup_steps + bench.timed_steps;
  const lrAt = (step: number) => parts.train.lr * lrMultiplier(parts.train.schedule, step, parts.train.warmup_steps, total);
  const times: number[] = [];
  let loss = Number.NaN;
  for (let step = 0; step < total; step++) {
    const start = performance.now();
    loss = trainStep(parts, pool[step % pool.length]!, lrAt(step));
    if (step >= bench.warmup_steps) times.push(performance.now() - start);
  }
  // Memory rows profile one more step for its peak tensor bytes, without printing its kernels.
  const profiled = bench.profile || bench.memory !== undefined;
  const profile = profiled ? await profileStep(() => void trainStep(parts, pool[total % pool.length]!, lrAt(total - 1))) : undefined;
  const timing = summarize(times);
  // Prompt/prefix encoders live at the root: prompt tuning feeds the text tower only, prefix
  // tuning (target self_attn) every attention layer of both towers.
  const method = (experiment.recipe.value.peft as { method?: string } | undefined)?.method;
  const vision =
    method === 'prompt-tuning'
      ? 'frozen'
      : method === 'prefix-tuning'
        ? 'frozen-through'
        : towerMode(parts, ['vision_model.', 'visual_projection.']);
  const text =
    method === 'prompt-tuning' || method === 'prefix-tuning' ? 'frozen-through' : towerMode(parts, ['text_model.', 'text_projection.']);
  const caps = parts.backend.capabilities;
  disposePool(pool);
  parts.optimizer.dispose();
  parts.model.dispose();
  return {
    side: 'mmft',
    throughput: (1000 * parts.train.batch_size) / timing.medianMs,
    unit: 'samples/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    loss,
    steps: total,
    trainableParams: parts.trainableParams,
    totalParams: parts.totalParams,
    peakTensorBytes: profile?.peakBytes,
    engine: {
      name: parts.backend.name,
      engine: caps.engine,
      threads: caps.threads,
      kernelOverrides: caps.kernelOverrides,
      tfjs: tf.version_core,
    },
    profile: bench.profile ? profile?.kernels : undefined,
    memory: parts.memory,
    flops: trainStepFlops(clipShapeOf(config, bench.text_length), parts.train.batch_size, { vision, text }).step,
  };
}
