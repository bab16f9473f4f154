// The vision-to-LLM rows (BLIP-2, LLaVA) in this process.
// - `kind: train` with objective causal-lm: stage 2 as `mmft train` runs it (trainer-standard's
//   setupRun: backend + gradients, the model from config with its language model built through the
//   registry, train.freeze / unfreeze with tower names expanded from model.processor.towers,
//   paramEntries decay groups, AdamW) and each step its optimizerStep at grad_accum_steps 1 with
//   objective-causal-lm's loss: the model's summed loss over label tokens (numItemsInBatch 1)
//   divided by the batch's label-token count. Only the data differs (vlm-synthetic.ts).
//   Throughput: samples (image + caption pairs) per second. With a peft: section (LLaVA's stage-2
//   LoRA) the base is frozen and the adapter (with its modules_to_save) trains, as buildModel applies it.
// - `kind: caption`: generate() on a batch of images without a prompt (the model starts each row
//   from bos after the image, Blip2ForConditionalGeneration.generate), greedy, no EOS ids, so each
//   row gets exactly new_tokens tokens; one timed sample is the whole call (vision tower, Q-Former,
//   projection, prefill, decode steps). Throughput: images per second (BLIP-2) or new tokens per
//   second (LLaVA: batch × new_tokens over the call; its generate() starts each row from [bos, <image> × Q]).
import * as tf from '@tensorflow/tfjs-core';
import { expandTowers, MmftError, type BackendSelection, type ProviderResolver, type VisionLanguageModel } from '@mmft/core';
import { AdamW, lrMultiplier, paramEntries, trainConfigSchema } from '@mmft/trainer-standard';
import { sectionOf, type Experiment } from '../suite/experiment';
import type { AppliedMemory, SideResult } from '../suite/result';
import { summarize } from '../suite/stats';
import { blip2CaptionFlops, blip2ShapeOf, blip2Stage2Flops, llavaGenerateFlops, llavaShapeOf, llavaTrainFlops } from '../suite/vlm-flops';
import { applyExperimentMemory, buildModel, selectEngine } from './build-run';
import { profileStep, type StepProfile } from './profile';
import { benchGenerationOptions } from './run-generate';
import { modelConfigOf, POOL_BATCHES, syntheticPixels } from './synthetic';
import { optimizerStepOn, type StepParts } from './train-step';
import { disposeVlmPool, vlmPool, vlmSpecOfModel, type VlmBatch } from './vlm-synthetic';

/** A vision-to-LLM model: reads images into a causal LM and generates text. */
export type VisionLm = VisionLanguageModel & Required<Pick<VisionLanguageModel, 'generate'>>;

/** The experiment's model as a vision-to-LLM model, or an error naming the file. */
export async function buildVisionLm(experiment: Experiment, resolver: ProviderResolver): Promise<VisionLm> {
  const model = await buildModel(experiment, resolver);
  if (model.family !== 'vision-to-llm' || typeof model.generate !== 'function') {
    model.dispose();
    throw new MmftError(
      'E_CONFIG',
      `${experiment.file}: model type "${sectionOf(experiment, 'model')?.id}" (family ${model.family}) is not a vision-to-LLM model`,
      { hint: 'the caption kind and vision-to-LLM training use model: { type: blip2 | llava, config: ... }' },
    );
  }
  return model as VisionLm;
}

/** Everything a timed stage-2 step needs. */
export interface VlmTrainParts extends StepParts {
  readonly backend: BackendSelection;
  readonly model: VisionLm;
  readonly optimizer: AdamW;
  readonly train: ReturnType<typeof trainConfigSchema.parse>;
  readonly trainableParams: number;
  readonly totalParams: number;
  readonly memory: AppliedMemory;
}

/**
 * The training setup of a vision-to-LLM experiment (train.freeze: [vision, language] for BLIP-2's
 * stage 2; a peft: section freezes the base and trains the adapter, LLaVA's stage-2 LoRA).
 *
 * @example
 * const parts = await buildVlmTrainParts(experiment, registry);
 */
export async function buildVlmTrainParts(experiment: Experiment, resolver: ProviderResolver): Promise<VlmTrainParts> {
  const backend = await selectEngine(experiment, resolver);
  const train = trainConfigSchema.parse(sectionOf(experiment, 'train')?.settings ?? {});
  if (train.strategy !== 'full' || train.grad_accum_steps !== 1) {
    throw new MmftError(
      'E_UNSUPPORTED',
      `${experiment.file}: the vision-to-LLM benchmark times strategy full (train.freeze / unfreeze, or peft) at grad_accum_steps 1`,
    );
  }
  const model = await buildVisionLm(experiment, resolver);
  const towers = model.processor.towers;
  for (const glob of expandTowers(train.freeze, towers)) model.root.freeze(glob);
  for (const glob of expandTowers(train.unfreeze, towers)) model.root.unfreeze(glob);
  const all = model.root.namedParameters();
  const params = paramEntries([{ prefix: '', root: model.root, params: all }], train.no_decay);
  if (params.length === 0) {
    model.dispose();
    throw new MmftError('E_CONFIG', `${experiment.file}: nothing to train: train.freeze freezes every parameter`);
  }
  // After `all`: a weight held in 16 bits leaves the state dict, and totalParams counts the model.
  let memory: AppliedMemory;
  try {
    memory = applyExperimentMemory(experiment, model.root, train);
  } catch (error) {
    model.dispose();
    throw error;
  }
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
 * const loss = tf.tidy(() => vlmStepLoss(parts.model, pool[0]));
 */
export function vlmStepLoss(model: VisionLanguageModel, batch: VlmBatch): tf.Scalar {
  const out = model.forward({
    pixelValues: batch.pixelValues,
    inputIds: batch.inputIds,
    attentionMask: batch.attentionMask,
    labels: batch.labels,
    numItemsInBatch: 1,
  });
  if (!out.loss) {
    tf.dispose(Object.values(out));
    throw new MmftError('E_UNSUPPORTED', 'benchmark: the vision-to-LLM model returned no loss for labelled inputs');
  }
  tf.dispose(Object.entries(out).flatMap(([key, value]) => (key === 'loss' ? [] : [value])));
  return tf.div(out.loss, batch.count) as tf.Scalar;
}

const engineOf = (backend: BackendSelection) => {
  const caps = backend.capabilities;
  return { name: backend.name, engine: caps.engine, threads: caps.threads, kernelOverrides: caps.kernelOverrides, tfjs: tf.version_core };
};

/**
 * Measure one stage-2 training experiment.
 *
 * @example
 * const result = await runVlmTrain(experiment, registry);
 */
export async function runVlmTrain(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const parts = await buildVlmTrainParts(experiment, resolver);
  const { bench } = experiment;
  const config = modelConfigOf(experiment);
  const batch = parts.train.batch_size;
  const type = sectionOf(experiment, 'model')?.id;
  const pool = vlmPool(vlmSpecOfModel(type, config, batch, bench.text_length, experiment.file), POOL_BATCHES);
  const total = bench.warmup_steps + bench.timed_steps;
  const lrAt = (step: number) => parts.train.lr * lrMultiplier(parts.train.schedule, step, parts.train.warmup_steps, total);
  const step = (i: number) => optimizerStepOn(parts, () => vlmStepLoss(parts.model, pool[i % pool.length]!), lrAt(Math.min(i, total - 1)));
  const times: number[] = [];
  let loss = Number.NaN;
  let profile: StepProfile | undefined;
  try {
    for (let i = 0; i < total; i++) {
      const start = performance.now();
      loss = step(i);
      if (i >= bench.warmup_steps) times.push(performance.now() - start);
    }
    // Memory rows profile one more step for its peak tensor bytes, without printing its kernels.
    if (bench.profile || bench.memory) profile = await profileStep(() => void step(total));
  } finally {
    disposeVlmPool(pool);
    parts.optimizer.dispose();
    parts.model.dispose();
  }
  const timing = summarize(times);
  return {
    side: 'mmft',
    throughput: (1000 * batch) / timing.medianMs,
    unit: 'samples/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    loss,
    steps: total,
    trainableParams: parts.trainableParams,
    totalParams: parts.totalParams,
    peakTensorBytes: profile?.peakBytes,
    engine: engineOf(parts.backend),
    profile: bench.profile ? profile?.kernels : undefined,
    memory: parts.memory,
    flops: vlmTrainFlops(experiment, config, batch),
  };
}

/**
 * Measure a caption experiment: images/s of whole generate() calls.
 *
 * @example
 * const result = await runCaption(experiment, registry);
 */
export async function runCaption(experiment: Experiment, resolver: ProviderResolver): Promise<SideResult> {
  const backend = await selectEngine(experiment, resolver);
  const model = await buildVisionLm(experiment, resolver);
  model.root.eval();
  const { bench } = experiment;
  const batch = bench.batch_size ?? 1;
  const config = modelConfigOf(experiment);
  const type = sectionOf(experiment, 'model')?.id;
  const spec = vlmSpecOfModel(type, config, batch, 1, experiment.file);
  const pixelValues = tf.tensor4d(syntheticPixels(spec, 0), [batch, 3, spec.imageSize, spec.imageSize]);
  const options = benchGenerationOptions(bench.new_tokens);
  const samples: number[] = [];
  try {
    for (let pass = 0; pass < bench.warmup_steps + bench.timed_steps; pass++) {
      const start = performance.now();
      const { sequences } = await model.generate({ pixelValues }, options);
      const elapsed = performance.now() - start;
      const produced = sequences.reduce((n, row) => n + row.filter((id) => id >= 0).length, 0);
      if (produced !== batch * bench.new_tokens) {
        throw new MmftError(
          'E_BACKEND',
          `${experiment.file}: generate() returned ${produced} tokens, expected ${batch} × ${bench.new_tokens}`,
        );
      }
      if (pass >= bench.warmup_steps) samples.push(elapsed);
    }
  } finally {
    pixelValues.dispose();
    model.dispose();
  }
  const timing = summarize(samples);
  const llava = type === 'llava';
  return {
    side: 'mmft',
    throughput: (1000 * batch * (llava ? bench.new_tokens : 1)) / timing.medianMs,
    unit: llava ? 'tokens/s' : 'images/s',
    timing,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    engine: engineOf(backend),
    flops: llava
      ? llavaGenerateFlops(llavaShapeOf(config), batch, bench.new_tokens)
      : blip2CaptionFlops(blip2ShapeOf(config), batch, bench.new_tokens),
  };
}

/** The LoRA rank and the per-layer module names a peft: lora section adapts (regex targets by the LM's linear names). */
export function loraTargetsOf(experiment: Experiment): { r: number; targets: string[] } {
  const peft = sectionOf(experiment, 'peft');
  if (!peft) return { r: 0, targets: [] };
  const names = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj', 'out_proj', 'fc1', 'fc2'];
  const targets = peft.settings.target_modules;
  if (Array.isArray(targets)) return { r: Number(peft.settings.r), targets: targets.map(String) };
  const all = targets === 'all-linear';
  // A full-match regex over module paths: the names it accepts under the language model's layers.
  const regex = all ? undefined : new RegExp(`^(?:${String(targets)})$`);
  const matched = names.filter(
    (name) =>
      all || regex!.test(`language_model.model.layers.0.self_attn.${name}`) || regex!.test(`language_model.model.layers.0.mlp.${name}`),
  );
  return { r: Number(peft.settings.r), targets: matched };
}

/** FLOPs of one training step of a vision-to-LLM experiment (BLIP-2 stage 2, LLaVA stage-2 LoRA). */
function vlmTrainFlops(experiment: Experiment, config: Record<string, unknown>, batch: number): number {
  const { text_length } = experiment.bench;
  if (sectionOf(experiment, 'model')?.id === 'llava')
    return llavaTrainFlops(llavaShapeOf(config), batch, text_length, loraTargetsOf(experiment)).step;
  return blip2Stage2Flops(blip2ShapeOf(config), batch, text_length).step;
}
