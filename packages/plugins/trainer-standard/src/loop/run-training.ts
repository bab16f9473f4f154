// The standard training loop: steps of grad_accum_steps micro-batches with the scheduled lr,
// metrics.jsonl per step, evaluation every eval_every steps (best checkpoint, early stopping),
// checkpoint-last every save_every steps, at the end and when interrupted, report.html always.
// Follows the shape of HF Trainer._inner_training_loop and open_clip src/training/train.py
// (train_one_epoch).
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError, type RunContext, type RunSummary } from '@mmft/core';
import type { TrainConfig } from '../config';
import { copyCheckpoint, restoreCheckpoint, writeCheckpoint } from '../checkpoint/checkpoint';
import { readTrainerState, type LogEntry, type TrainerState } from '../checkpoint/trainer-state';
import { batchesPerEpoch, checkTrainSize, type BatchRule } from '../data/stream';
import { evaluate, lossScores } from '../eval/evaluate';
import { MetricsLog } from '../log/metrics-log';
import { entryScalars, openTracking, PredictionSamples, recipeMarkdown, resolveReporters } from '../log/tracking';
import { trackSamples } from '../log/sample-images';
import { writeReport } from '../log/report-html';
import { countParams, PeakMemory } from '../log/run-summary';
import { AdamW } from '../optim/adamw';
import { lrMultiplier } from '../optim/schedule';
import { withWeights16 } from '../model/frozen-dtype';
import { finalSummary, scoresOf } from './final-summary';
import { bestMetricPolicy, saveModelFiles } from './policies';
import { optimizerStep } from './optimizer-step';
import { createOutputDir, removeEmptyLeftovers } from './output-dir';
import { setupRun } from './setup';
import { microSteps, type MicroStep } from './sources';
import { prepareRunProvenance } from './provenance-step';
import { overfitMicroSteps } from '../sanity/overfit';
import { sanityEntry, sanityVerdict } from '../sanity/verdict';

/**
 * Run one training job as the recipe's `train:` section says.
 *
 * @example
 * const summary = await runTraining(trainConfigSchema.parse({ max_steps: 100 }), context);
 */
export async function runTraining(config: TrainConfig, context: RunContext): Promise<RunSummary> {
  const createdRoot = await createOutputDir(context.outputDir);
  try {
    return await trainInto(config, context);
  } catch (error) {
    await removeEmptyLeftovers(context.outputDir, createdRoot);
    throw error;
  }
}

/** Eval entries without their kind and step: the scores alone. */
/**
 * A checkpoint's data position counts examples; under another batch size it no longer starts the
 * batch the interrupted run would have taken next. Refused unless the run is forced (`--force`).
 */
function checkResumedBatchSize(resumed: TrainerState, config: TrainConfig, context: RunContext): void {
  if (resumed.batchSize === undefined || resumed.batchSize === config.batch_size) return;
  const what = `${context.resumeFrom} was written with train.batch_size ${resumed.batchSize}, this run has batch_size ${config.batch_size}`;
  if (!context.force) {
    throw new MmftError(
      'E_CHECKPOINT',
      `${what}: its data position (epoch ${resumed.epoch}, example ${resumed.position}) would no longer fall on the same batches`,
      {
        hint: `resume with --set train.batch_size=${resumed.batchSize}, or pass --force to resume with the new size anyway`,
      },
    );
  }
  context.reporter.warn(`${what}; going on (--force): batches from here on differ from the uninterrupted run`);
}

async function trainInto(config: TrainConfig, context: RunContext): Promise<RunSummary> {
  const seed = config.seed ?? (typeof context.recipe.seed === 'number' ? context.recipe.seed : 42);
  const resumed = context.resumeFrom ? await readTrainerState(context.resumeFrom) : undefined;
  if (resumed && !config.eval_only) checkResumedBatchSize(resumed, config, context);
  // Before anything is loaded: a misspelt reporter fails at once.
  const reporters = config.eval_only ? [] : resolveReporters(config.report_to, context.resolver);
  const provenance = await prepareRunProvenance(config, context);
  // A checkpoint holds model/ only when the objective trained the model (not a feature head).
  const savedModel = context.resumeFrom && !context.recipe.peft ? path.join(context.resumeFrom, 'model') : undefined;
  const parts = await setupRun(
    config,
    context,
    seed,
    savedModel &&
      (await fs.stat(savedModel).then(
        () => true,
        () => false,
      ))
      ? savedModel
      : undefined,
  );
  const { loaded, objective, params } = parts;
  const optimizer = new AdamW(params, { betas: config.betas, eps: config.eps, weightDecay: config.weight_decay });
  if (context.resumeFrom) await restoreCheckpoint(context.resumeFrom, params, optimizer);
  const rule: BatchRule = { batchSize: config.batch_size, dropLast: config.dataloader_drop_last, minBatch: objective.minBatchSize };
  // A sanity run's epoch is one pass over its fixed batches.
  const microsPerEpoch = Math.min(batchesPerEpoch(parts.size, rule), config.overfit_batches ?? Number.POSITIVE_INFINITY);
  const epochSize = config.overfit_batches ? Math.min(parts.size, microsPerEpoch * config.batch_size) : parts.size;
  const total = config.max_steps ?? config.epochs * Math.max(1, Math.floor(microsPerEpoch / config.grad_accum_steps));
  const policy = bestMetricPolicy(config, parts.metrics, objective.canEvaluate, lossScores(objective));
  let state: TrainerState = resumed
    ? { ...resumed, batchSize: config.batch_size }
    : {
        format: 'mmft-trainer-state',
        version: 1,
        globalStep: 0,
        totalSteps: total,
        epoch: 0,
        position: 0,
        samplesSeen: 0,
        batchSize: config.batch_size,
        rng: { kind: 'derived', seed },
        metricForBest: policy.key,
        greaterIsBetter: policy.greater,
        evalsWithoutImprovement: 0,
        logHistory: [],
      };
  const history: LogEntry[] = [...state.logHistory];
  const log = await MetricsLog.open(context.outputDir, history);
  const start = { seed, ...rule, epoch: state.epoch, position: state.position };
  const source = config.overfit_batches
    ? overfitMicroSteps(objective, parts.train, start, config.overfit_batches)
    : microSteps(objective, parts.train, start);
  const saveModel = async (dir: string) => {
    await saveModelFiles(dir, loaded, objective);
    await provenance.describe(dir, { ...state, logHistory: history }, trainSeconds);
  };
  // The newest checkpoint that holds this run's state, for what a NaN stop can honestly offer.
  let lastCheckpoint = context.resumeFrom && resumed ? { dir: context.resumeFrom, step: resumed.globalStep } : undefined;
  const saveLast = async () => {
    const dir = path.join(context.outputDir, 'checkpoint-last');
    await writeCheckpoint(dir, { state: { ...state, logHistory: history }, optimizer, params, saveModel });
    lastCheckpoint = { dir, step: state.globalStep };
  };
  const aborted = () => context.signal?.aborted === true;
  let lastEval: Record<string, number> = {};
  let lastLoss = Number.NaN;
  // A resumed run shows the "before" scores its first part logged at step 0.
  let before = scoresOf(history.find((e) => e.kind === 'eval' && e.step === 0));
  const peak = new PeakMemory();
  let stepPeak: { bytes: number; step: number } | undefined;
  let trainSeconds = 0; // step time only: evaluation and checkpoint writes are not throughput
  const startStep = state.globalStep;
  const startSamples = state.samplesSeen;
  const runEval = async (samples?: PredictionSamples) => {
    loaded.model.root.eval();
    const scores = await evaluate(objective, parts.metrics, {
      name: parts.objectiveName,
      batchSize: config.eval_batch_size ?? config.batch_size,
      onInputs: samples && ((inputs) => samples.add(inputs)),
    });
    loaded.model.root.train();
    return scores;
  };
  if (config.eval_only) return evaluateOnly();
  // HF's TensorBoardCallback: a resumed run writes a new event file; TensorBoard shows its steps.
  const tracker = await openTracking(reporters, {
    outputDir: context.outputDir,
    runName: String(context.recipe.name ?? path.basename(context.outputDir)),
    resumedAtStep: resumed?.globalStep,
  });
  // Scores plus up to 8 generated texts next to their references, at an eval's step.
  const trackEval = (step: number, scores: Record<string, number>, samples: PredictionSamples) => {
    tracker.scalars(step, entryScalars('eval', scores));
    const table = samples.markdown();
    if (table) tracker.text(step, 'eval/predictions', table);
  };
  let failed = false;
  try {
    tracker.text(state.globalStep, 'recipe', recipeMarkdown(context.recipe));
    checkTrainSize(parts.size, rule);
    if (config.overfit_batches) {
      context.reporter.info(
        `sanity run: training on the first ${microsPerEpoch} batch(es) of data.train over and over, unshuffled (train.overfit_batches ${config.overfit_batches})`,
      );
    }
    // "Before" scores of a fresh run, so the summary shows what training changed (not on resume).
    if (config.eval_before && policy.enabled && state.globalStep === 0 && !aborted()) {
      const samples = new PredictionSamples();
      before = await runEval(samples);
      trackEval(0, before, samples);
      const entry = { kind: 'eval', step: 0, ...before };
      history.push(entry);
      await log.append(entry);
      context.reporter.info(
        `eval before training: ${Object.entries(before)
          .map(([k, v]) => `${k}=${v.toPrecision(5)}`)
          .join(' ')}`,
      );
    }
    if (parts.size < config.batch_size) {
      context.reporter.warn(
        `data.train has ${parts.size} examples, fewer than batch_size ${config.batch_size}: every batch holds all ${parts.size}`,
      );
    }
    if (resumed && state.globalStep >= total) {
      context.reporter.info(
        `nothing left to train: ${context.resumeFrom} is at step ${state.globalStep} of ${total} (raise train.max_steps or train.epochs to train further)`,
      );
    }
    // Architectures load in eval mode (as transformers' from_pretrained returns the model), and only an
    // evaluation switched back: without one (no data.eval, eval_before false, --sanity) dropout stayed
    // off. HF Trainer sets model.train() in training_step (transformers/trainer.py).
    loaded.model.root.train();
    const profiledStep = Math.min(state.globalStep + 2, total);
    while (state.globalStep < total && !aborted()) {
      const step = state.globalStep + 1;
      const stepStarted = performance.now();
      const micros: MicroStep[] = [];
      for (let i = 0; i < config.grad_accum_steps; i++) micros.push((await source.next()).value as MicroStep);
      // Before the step: the step may dispose the batch's tensors.
      if (step === startStep + 1) await trackSamples(tracker, step, micros[0]!.batch, loaded.model.processor.imageProcessing);
      const lr = config.lr * lrMultiplier(config.schedule, step - 1, config.warmup_steps, total);
      const run = () =>
        optimizerStep(micros, objective, params, optimizer, {
          lr,
          maxGradNorm: config.max_grad_norm,
          step,
          lastCheckpoint,
        });
      // One step, the second (the first allocates the optimizer's moments once), is measured with
      // tf.profile for the peak inside a step: what activations, gradients and the update hold, as
      // torch.cuda.max_memory_allocated reports for a step. Profiling every step would slow the run.
      let result: Awaited<ReturnType<typeof run>>;
      if (step === profiledStep) {
        let measured: Awaited<ReturnType<typeof run>> | undefined;
        const info = await tf.profile(async () => {
          measured = await run();
          return [];
        });
        result = measured!;
        stepPeak = { bytes: info.peakBytes, step };
      } else result = await run();
      const last = micros[micros.length - 1]!;
      const samples = micros.reduce((n, m) => n + m.size, 0);
      state = { ...state, globalStep: step, epoch: last.epoch, position: last.nextPosition, samplesSeen: state.samplesSeen + samples };
      lastLoss = result.loss;
      trainSeconds += (performance.now() - stepStarted) / 1000;
      peak.sample();
      const entry = {
        kind: 'train',
        step,
        epoch: last.epoch + last.nextPosition / Math.max(1, epochSize),
        loss: result.loss,
        lr,
        grad_norm: result.gradNorm,
      };
      history.push(entry);
      await log.append(entry);
      tracker.scalars(step, {
        ...entryScalars('train', entry),
        ...Object.fromEntries(config.lr_groups.map((g, i) => [`train/lr_group_${i}`, (g.lr * lr) / config.lr])),
        'train/samples_per_second': samples / Math.max(1e-9, (performance.now() - stepStarted) / 1000),
        'train/rss_mib': process.memoryUsage().rss / 2 ** 20,
        'train/peak_tensor_mib': peak.bytes / 2 ** 20,
      });
      if (step % config.log_every === 0 || step === total)
        context.reporter.progress({ step, total, samples: state.samplesSeen, values: { loss: result.loss, lr } });
      let stop = false;
      let improved = false;
      // Interrupted: finish with the step just taken, not with an evaluation that may be long.
      if (policy.enabled && !aborted() && ((config.eval_every !== undefined && step % config.eval_every === 0) || step === total)) {
        const samples = new PredictionSamples();
        lastEval = await runEval(samples);
        trackEval(step, lastEval, samples);
        const evalEntry = { kind: 'eval', step, ...lastEval };
        history.push(evalEntry);
        await log.append(evalEntry);
        context.reporter.info(
          `eval at step ${step}: ${Object.entries(lastEval)
            .map(([k, v]) => `${k}=${v.toPrecision(5)}`)
            .join(' ')}`,
        );
        ({ state, improved, stop } = policy.update(state, lastEval, step, config.early_stopping_patience));
      }
      if (improved || stop || step === total || (config.save_every !== undefined && step % config.save_every === 0)) await saveLast();
      if (improved) await copyCheckpoint(path.join(context.outputDir, 'checkpoint-last'), path.join(context.outputDir, 'checkpoint-best'));
      if (stop) {
        context.reporter.info(
          `early stopping at step ${step}: ${policy.key} did not improve for ${config.early_stopping_patience} evaluations`,
        );
        break;
      }
    }
    const lastDir = path.join(context.outputDir, 'checkpoint-last');
    if (aborted() && (lastCheckpoint?.dir !== lastDir || lastCheckpoint.step !== state.globalStep)) await saveLast();
    const sanity = config.overfit_batches
      ? sanityVerdict(history, { batches: microsPerEpoch, microsPerStep: config.grad_accum_steps })
      : undefined;
    if (sanity) {
      const entry = sanityEntry(sanity, state.globalStep);
      history.push(entry);
      await log.append(entry);
    }
    const summary = await finalSummary({
      sanity,
      before,
      lastEval,
      history,
      ranSteps: state.globalStep !== startStep,
      counts: withWeights16(countParams(params, loaded.model.root.namedParameters()), loaded.model.root),
      steps: state.globalStep - startStep,
      samples: state.samplesSeen - startSamples,
      seconds: trainSeconds,
      peakTensorBytes: peak.bytes,
      stepPeak,
      adapterFile: loaded.adapter ? path.join(context.outputDir, 'checkpoint-last', 'adapter', 'adapter_model.safetensors') : undefined,
      metricSettings: Object.fromEntries(parts.metrics.flatMap((m) => (m.metric.settings ? [[m.id, m.metric.settings]] : []))),
    });
    for (const line of summary) context.reporter.info(line);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    try {
      await source.return(undefined);
      // After a failure the report must not hide its cause (a full disk fails both); a run that
      // failed before logging anything has no curve worth a page.
      if (!failed || history.length > 0) {
        await writeReport(context.outputDir, {
          title: String(context.recipe.name ?? path.basename(context.outputDir)),
          history,
          finalMetrics: { steps: state.globalStep, loss: lastLoss, ...lastEval },
        }).catch((error: Error) => {
          if (!failed) throw error;
          context.reporter.warn(`report.html was not written: ${error.message}`);
        });
      }
    } finally {
      await tracker.close().catch((error: Error) => context.reporter.warn(`the tracking files were not closed: ${error.message}`));
      optimizer.dispose();
      objective.dispose();
      loaded.model.dispose();
    }
  }
  return { steps: state.globalStep, outputDir: context.outputDir, metrics: { loss: lastLoss, ...lastEval } };

  /** `eval_only`: score the model as loaded (checkpoint + PEFT adapter, if any) and stop. */
  async function evaluateOnly(): Promise<RunSummary> {
    try {
      if (!policy.enabled) {
        throw new MmftError('E_RECIPE', 'train.eval_only needs evaluation data: add data.eval (and metrics:) to the recipe');
      }
      const scores = await runEval();
      await log.append({ kind: 'eval', step: state.globalStep, ...scores });
      const width = Math.max(6, ...Object.keys(scores).map((k) => k.length));
      context.reporter.info(`${'metric'.padEnd(width)}  ${'value'.padStart(9)}`);
      for (const [key, value] of Object.entries(scores)) context.reporter.info(`${key.padEnd(width)}  ${value.toFixed(2).padStart(9)}`);
      return { steps: 0, outputDir: context.outputDir, metrics: scores };
    } finally {
      await source.return(undefined);
      optimizer.dispose();
      objective.dispose();
      loaded.model.dispose();
    }
  }
}
