// A causal-LM `kind: train` experiment (objective: causal-lm) in this process. The run is built as
// trainer-standard's setupRun builds an LM run (backend + gradients, the model from config, PEFT
// with the base frozen, paramEntries decay groups, its AdamW), and each step is its optimizerStep
// for grad_accum_steps 1 with objective-causal-lm's loss (packages/plugins/objective-causal-lm/src/
// objective.ts): the model's loss summed over label tokens (numItemsInBatch 1) divided by the
// batch's label-token count, i.e. the mean cross-entropy over label tokens, as transformers'
// ForCausalLMLoss with num_items_in_batch. Only the data differs: a pool of synthetic batches
// (lm-synthetic.ts), so tokenising is not timed. Throughput: B·T positions per second.
import * as tf from '@tensorflow/tfjs-core';
import { isCausalLanguageModel, MmftError, type BackendSelection, type CausalLanguageModel, type ProviderResolver } from '@mmft/core';
import { AdamW, lrMultiplier, paramEntries, trainConfigSchema } from '@mmft/trainer-standard';
import { sectionOf, type Experiment } from '../suite/experiment';
import { lmShapeOf, lmTrainFlops } from '../suite/lm-flops';
import type { AppliedMemory, SideResult } from '../suite/result';
import { summarize } from '../suite/stats';
import { applyExperimentMemory, buildModel, selectEngine } from './build-run';
import { disposeLmPool, lmPool, lmSpecOf, type LmBatch } from './lm-synthetic';
import { profileStep } from './profile';
import { modelConfigOf, POOL_BATCHES } from './synthetic';
import { optimizerStepOn, type StepParts } from './train-step';

/** The experiment's model as a causal LM, or an error naming the file. */
export async function buildCausalLm(experiment: Experiment, resolver: ProviderResolver): Promise<CausalLanguageModel> {
  const model = await buildModel(experiment, resolver);
  if (!isCausalLanguageModel(model)) {
    model.dispose();
    throw new MmftError(
      'E_CONFIG',
      `${experiment.file}: model type "${sectionOf(experiment, 'model')?.id}" is not a causal language model`,
      {
        hint: 'causal-LM experiments use model: { type: llama | opt | gpt2, config: ... }',
      },
    );
  }
  return model;
}

/** Everything a timed LM step needs. */
export interface LmTrainParts extends StepParts {
  readonly backend: BackendSelection;
  readonly model: CausalLanguageModel;
  readonly optimizer: AdamW;
  readonly train: ReturnType<typeof trainConfigSchema.parse>;
  readonly trainableParams: number;
  readonly totalParams: number;
  readonly memory: AppliedMemory;
}

/**
 * The training setup of an LM experiment.
 *
 * @example
 * const parts = await buildLmTrainParts(experiment, registry);
 */
export async function buildLmTrainParts(experiment: Experiment, resolver: ProviderResolver): Promise<LmTrainParts> {
  const backend = await selectEngine(experiment, resolver);
  const train = trainConfigSchema.parse(sectionOf(experiment, 'train')?.settings ?? {});
  if (train.strategy !== 'full' || train.grad_accum_steps !== 1) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${experiment.file}: the LM benchmark times strategy full (with or without peft) at grad_accum_steps 1`,
    );
  }
  const model = await buildCausalLm(experiment, resolver);
  for (const glob of train.freeze) model.root.freeze(glob);
  for (const glob of train.unfreeze) model.root.unfreeze(glob);
  const all = model.root.namedParameters();
  // After `all`: a weight held in 16 bits leaves the state dict, and totalParams counts the model.
  const memory = applyExperimentMemory(experiment, model.root, train);
  const params = paramEntries([{ prefix: '', root: model.root, params: all }], train.no_decay);
  const optimizer = new AdamW(params, { betas: train.betas, eps: train.eps, weightDecay: train.weight_decay });
  return {
    backend,
    model,
    params,
    optimizer,
    train,
    trainableParams: params.reduce((n, p) => n + p.variable.size, 0),
    totalParams: all.reduce((n, [, v]) => n + v.size, 0),
    memory,
  };
}

/**
 * The step's loss: objective-causal-lm's sum over label tokens divided by the step's label count.
 *
 * @example
 * const loss = tf.tidy(() => lmStepLoss(parts.model, pool[0]));
 */
export function lmStepLoss(model: CausalLanguageModel, batch: LmBatch): tf.Scalar {
  const out = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask, labels: batch.labels, numItemsInBatch: 1 });
  tf.dispose(out.logits);
  if (!out.loss) throw new MmftError('E_UNSUPPORTED', 'benchmark: the model returned no loss for labelled inputs');
  return tf.div(out.loss, batch.count) as tf.Scalar;
}

/**
 * Measure one LM training experiment.
 *
 * @example
 * const result = await runLmTrain(experiment, registry);
 */
export async function runLmTrain(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const parts = await buildLmTrainParts(experiment, resolver);
  const { bench } = experiment;
  const config = modelConfigOf(experiment);
  const batch = parts.train.batch_size;
  const pool = lmPool(lmSpecOf(config, batch, bench.text_length), POOL_BATCHES);
  const total = bench.warmup_steps + bench.timed_steps;
  const lrAt = (step: number) => parts.train.lr * lrMultiplier(parts.train.schedule, step, parts.train.warmup_steps, total);
  const step = (i: number) => optimizerStepOn(parts, () => lmStepLoss(parts.model, pool[i % pool.length]!), lrAt(Math.min(i, total - 1)));
  const times: number[] = [];
  let loss = Number.NaN;
  for (let i = 0; i < total; i++) {
    const start = performance.now();
    loss = step(i);
    if (i >= bench.warmup_steps) times.push(performance.now() - start);
  }
  // Memory rows profile one more step for its peak tensor bytes, without printing its kernels.
  const profile = bench.profile || bench.memory ? await profileStep(() => void step(total)) : undefined;
  const timing = summarize(times);
  const peft = sectionOf(experiment, 'peft');
  const lora =
    peft?.id === 'lora' ? { r: Number(peft.settings.r), targets: (peft.settings.target_modules as string[] | undefined) ?? [] } : undefined;
  const flops = lmTrainFlops(lmShapeOf(sectionOf(experiment, 'model')!.id, config), batch, bench.text_length, lora).step;
  disposeLmPool(pool);
  parts.optimizer.dispose();
  parts.model.dispose();
  const { backend } = parts;
  const caps = backend.capabilities;
  return {
    side: 'mmft',
    throughput: (1000 * batch * bench.text_length) / timing.medianMs,
    unit: 'tokens/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    loss,
    steps: total,
    trainableParams: parts.trainableParams,
    totalParams: parts.totalParams,
    peakTensorBytes: profile?.peakBytes,
    engine: {
      name: backend.name,
      engine: caps.engine,
      threads: caps.threads,
      kernelOverrides: caps.kernelOverrides,
      tfjs: tf.version_core,
    },
    profile: bench.profile ? profile?.kernels : undefined,
    flops,
    memory: parts.memory,
  };
}
