// The standard training loop: steps of grad_accum_steps micro-batches with the scheduled lr,
// metrics.jsonl per step, evaluation every eval_every steps (best checkpoint, early stopping),
// checkpoint-last every save_every steps, at the end and when interrupted, report.html always.
// Follows the shape of HF Trainer._inner_training_loop and open_clip src/training/train.py
// (train_one_epoch).
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { RunContext, RunSummary } from '@mmft/core';
import type { TrainConfig } from '../config';
import { copyCheckpoint, restoreCheckpoint, writeCheckpoint } from '../checkpoint/checkpoint';
import { readTrainerState, type LogEntry, type TrainerState } from '../checkpoint/trainer-state';
import { batchesPerEpoch, checkTrainSize, type BatchRule } from '../data/stream';
import { evaluate, lossScores } from '../eval/evaluate';
import { MetricsLog } from '../log/metrics-log';
import { entryScalars, openTracking, PredictionSamples, recipeMarkdown, resolveReporters, stepScalars } from '../log/tracking';
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
import { evaluateOnly } from './eval-only';
import { checkResumedBatchSize, freshTrainerState } from './resume-check';
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
    : freshTrainerState({ total, batchSize: config.batch_size, seed, policy });
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
  if (config.eval_only) {
    try {
      return await evaluateOnly({ canEvaluate: policy.enabled, step: state.globalStep, runEval, log, context });
    } finally {
      await source.return(undefined);
      optimizer.dispose();
      objective.dispose();
      loaded.model.dispose();
    }
  }
  // HF's TensorBoardCallback: a resumed run writes a new event file; TensorBoard shows its steps.
  const tracker = await openTracking(reporters, {
    outputDir: context.outputDir,
    runName: String(context.recipe.name ?? path.basename(context.outputDir)),
    resumedAtStep: resumed?.globalStep,
  });
  // An evaluation at `step`: metrics.jsonl, the console, and the tracker (scores plus up to 8
  // generated texts next to their references).
  const evalAndLog = async (step: number, label: string) => {
    const samples = new PredictionSamples();
    const scores = await runEval(samples);
    tracker.scalars(step, entryScalars('eval', scores));
    const table = samples.markdown();
    if (table) tracker.text(step, 'eval/predictions', table);
    const entry = { kind: 'eval', step, ...scores };
    history.push(entry);
    await log.append(entry);
    context.reporter.info(
      `${label}: ${Object.entries(scores)
        .map(([k, v]) => `${k}=${v.toPrecision(5)}`)
        .join(' ')}`,
    );
    return scores;
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
      before = await evalAndLog(0, 'eval before training');
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
      tracker.scalars(
        step,
        stepScalars(entry, {
          lr,
          baseLr: config.lr,
          groupLrs: config.lr_groups.map((g) => g.lr),
          samples,
          seconds: (performance.now() - stepStarted) / 1000,
          peakBytes: peak.bytes,
        }),
      );
      if (step % config.log_every === 0 || step === total)
        context.reporter.progress({ step, total, samples: state.samplesSeen, values: { loss: result.loss, lr } });
      let stop = false;
      let improved = false;
      // Interrupted: finish with the step just taken, not with an evaluation that may be long.
      if (policy.enabled && !aborted() && ((config.eval_every !== undefined && step % config.eval_every === 0) || step === total)) {
        lastEval = await evalAndLog(step, `eval at step ${step}`);
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
}
