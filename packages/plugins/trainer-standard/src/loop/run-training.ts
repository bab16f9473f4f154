// The standard training loop: steps of grad_accum_steps micro-batches with the scheduled lr,
// metrics.jsonl per step, evaluation every eval_every steps (best checkpoint, early stopping),
// checkpoint-last every save_every steps and at the end, report.html always. Follows the shape of
// HF Trainer._inner_training_loop and open_clip src/training/train.py (train_one_epoch).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { MmftError, type RunContext, type RunSummary } from '@mmft/core';
import type { TrainConfig } from '../config';
import { copyCheckpoint, restoreCheckpoint, writeCheckpoint } from '../checkpoint/checkpoint';
import { readTrainerState, type LogEntry, type TrainerState } from '../checkpoint/trainer-state';
import { featureEvalChunks, modelEvalChunks } from '../eval/chunks';
import { evaluate } from '../eval/evaluate';
import { MetricsLog } from '../log/metrics-log';
import { writeReport } from '../log/report-html';
import { countParams, formatRunSummary, PeakMemory } from '../log/run-summary';
import { AdamW } from '../optim/adamw';
import { lrMultiplier } from '../optim/schedule';
import { bestMetricPolicy, saveModelFiles } from './policies';
import { optimizerStep } from './optimizer-step';
import { setupRun } from './setup';
import { featureSource, modelSource, type MicroStep } from './sources';

/**
 * Run one training job as the recipe's `train:` section says.
 *
 * @example
 * const summary = await runTraining(trainConfigSchema.parse({ max_steps: 100 }), context);
 */
export async function runTraining(config: TrainConfig, context: RunContext): Promise<RunSummary> {
  const seed = config.seed ?? (typeof context.recipe.seed === 'number' ? context.recipe.seed : 42);
  await fs.mkdir(context.outputDir, { recursive: true });
  const resumed = context.resumeFrom ? await readTrainerState(context.resumeFrom) : undefined;
  const savedModel = context.resumeFrom && config.strategy !== 'feature-based' && !context.recipe.peft ? path.join(context.resumeFrom, 'model') : undefined;
  const parts = await setupRun(config, context, seed, savedModel && (await fs.stat(savedModel).then(() => true, () => false)) ? savedModel : undefined);
  const { loaded, loss, params, features } = parts;
  const optimizer = new AdamW(params, { betas: config.betas, eps: config.eps, weightDecay: config.weight_decay });
  if (context.resumeFrom) await restoreCheckpoint(context.resumeFrom, params, optimizer);
  const microsPerEpoch = Math.floor(parts.size / config.batch_size);
  const total = config.max_steps ?? config.epochs * Math.max(1, Math.floor(microsPerEpoch / config.grad_accum_steps));
  const policy = bestMetricPolicy(config, parts.metrics, parts.evalData !== undefined || features?.eval !== undefined);
  let state: TrainerState = resumed ?? {
    format: 'mmft-trainer-state', version: 1, globalStep: 0, totalSteps: total, epoch: 0, position: 0, samplesSeen: 0,
    rng: { kind: 'derived', seed }, metricForBest: policy.key, greaterIsBetter: policy.greater, evalsWithoutImprovement: 0, logHistory: [],
  };
  const history: LogEntry[] = [...state.logHistory];
  const log = await MetricsLog.open(context.outputDir, history);
  const start = { seed, batchSize: config.batch_size, epoch: state.epoch, position: state.position, hardNegatives: config.hard_negatives };
  const source = features ? featureSource(features.train, features.head, start) : modelSource(loaded.model, parts.train, parts.collator, start);
  const saveModel = (dir: string) => saveModelFiles(dir, loaded, features?.head, config);
  const checkpoint = (name: string) => writeCheckpoint(path.join(context.outputDir, name), { state: { ...state, logHistory: history }, optimizer, params, saveModel });
  let lastEval: Record<string, number> = {};
  let lastLoss = Number.NaN;
  let before: Record<string, number> | undefined;
  const peak = new PeakMemory();
  let trainSeconds = 0; // step time only: evaluation and checkpoint writes are not throughput
  const startStep = state.globalStep;
  const startSamples = state.samplesSeen;
  const runEval = async () => {
    loaded.model.root.eval();
    const chunks = features ? featureEvalChunks(features.eval!, features.head, loss, config.eval_batch_size ?? config.batch_size) : modelEvalChunks(loaded.model, parts.evalData!, parts.collator, loss, config.eval_batch_size ?? config.batch_size);
    const scores = await evaluate(chunks, parts.metrics);
    loaded.model.root.train();
    return scores;
  };
  if (config.eval_only) return evaluateOnly();
  try {
    // "Before" scores of a fresh run, so the summary shows what training changed (not on resume).
    if (config.eval_before && policy.enabled && state.globalStep === 0) {
      before = await runEval();
      const entry = { kind: 'eval', step: 0, ...before };
      history.push(entry);
      await log.append(entry);
      context.reporter.info(`eval before training: ${Object.entries(before).map(([k, v]) => `${k}=${v.toPrecision(5)}`).join(' ')}`);
    }
    if (microsPerEpoch === 0) context.reporter.warn(`data.train has ${parts.size} examples, fewer than batch_size ${config.batch_size}`);
    while (state.globalStep < total && !context.signal?.aborted) {
      const step = state.globalStep + 1;
      const stepStarted = performance.now();
      const micros: MicroStep[] = [];
      for (let i = 0; i < config.grad_accum_steps; i++) micros.push((await source.next()).value as MicroStep);
      const lr = config.lr * lrMultiplier(config.schedule, step - 1, config.warmup_steps, total);
      const result = await optimizerStep(micros, loss, params, optimizer, { lr, maxGradNorm: config.max_grad_norm, step });
      const last = micros[micros.length - 1]!;
      const samples = micros.reduce((n, m) => n + m.size, 0);
      state = { ...state, globalStep: step, epoch: last.epoch, position: last.nextPosition, samplesSeen: state.samplesSeen + samples };
      lastLoss = result.loss;
      trainSeconds += (performance.now() - stepStarted) / 1000;
      peak.sample();
      const entry = { kind: 'train', step, epoch: last.epoch + last.nextPosition / Math.max(1, parts.size), loss: result.loss, lr, grad_norm: result.gradNorm };
      history.push(entry);
      await log.append(entry);
      if (step % config.log_every === 0 || step === total) context.reporter.progress({ step, total, samples: state.samplesSeen, values: { loss: result.loss, lr } });
      let stop = false;
      let improved = false;
      if (policy.enabled && ((config.eval_every !== undefined && step % config.eval_every === 0) || step === total)) {
        lastEval = await runEval();
        const evalEntry = { kind: 'eval', step, ...lastEval };
        history.push(evalEntry);
        await log.append(evalEntry);
        context.reporter.info(`eval at step ${step}: ${Object.entries(lastEval).map(([k, v]) => `${k}=${v.toPrecision(5)}`).join(' ')}`);
        ({ state, improved, stop } = policy.update(state, lastEval, step, config.early_stopping_patience));
      }
      if (improved || stop || step === total || (config.save_every !== undefined && step % config.save_every === 0)) await checkpoint('checkpoint-last');
      if (improved) await copyCheckpoint(path.join(context.outputDir, 'checkpoint-last'), path.join(context.outputDir, 'checkpoint-best'));
      if (stop) {
        context.reporter.info(`early stopping at step ${step}: ${policy.key} did not improve for ${config.early_stopping_patience} evaluations`);
        break;
      }
    }
    if (context.signal?.aborted) await checkpoint('checkpoint-last');
    const counts = countParams(params, loaded.model.root.namedParameters());
    const adapterFile = path.join(context.outputDir, 'checkpoint-last', 'adapter', 'adapter_model.safetensors');
    const adapterBytes = loaded.adapter ? await fs.stat(adapterFile).then((s) => s.size, () => undefined) : undefined;
    const summary = formatRunSummary(before, lastEval, {
      trainableParams: counts.trainable,
      totalParams: counts.total,
      steps: state.globalStep - startStep,
      samples: state.samplesSeen - startSamples,
      seconds: trainSeconds,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      peakTensorBytes: peak.bytes,
      adapterBytes,
    });
    for (const line of summary) context.reporter.info(line);
  } finally {
    await source.return(undefined);
    await writeReport(context.outputDir, { title: String(context.recipe.name ?? path.basename(context.outputDir)), history, finalMetrics: { steps: state.globalStep, loss: lastLoss, ...lastEval } });
    optimizer.dispose();
    features?.head.dispose();
    loaded.model.dispose();
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
      features?.head.dispose();
      loaded.model.dispose();
    }
  }
}
