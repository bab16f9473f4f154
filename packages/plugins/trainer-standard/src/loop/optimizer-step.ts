// One optimizer step: gradients of the trainable variables only (tf.variableGrads) summed over
// grad_accum_steps micro-batches (each micro-batch's loss divided by the step's total item count,
// HF Trainer's num_items_in_batch; a contrastive batch counts 1, so that is the mean over them),
// global-norm clipping, a NaN/Inf check before anything is applied, then AdamW.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type Objective } from '@mmft/core';
import type { AdamW, ParamEntry } from '../optim/adamw';
import { clipGradNorm } from '../optim/clip-grad';
import type { MicroStep } from './sources';

export interface StepResult {
  readonly loss: number;
  readonly gradNorm: number;
}

/**
 * Run `micros` forward and backward, clip, check, update. Disposes the micro-batches.
 *
 * @example
 * const { loss, gradNorm } = await optimizerStep(micros, objective, params, optimizer, { lr: 1e-4, maxGradNorm: 1, step: 7 });
 */
export async function optimizerStep(
  micros: readonly MicroStep[],
  objective: Objective,
  params: readonly ParamEntry[],
  optimizer: AdamW,
  options: { lr: number; maxGradNorm: number; step: number; lastCheckpoint?: { readonly dir: string; readonly step: number } },
): Promise<StepResult> {
  const varList = params.map((p) => p.variable);
  const nameOf = new Map(params.map((p) => [p.variable.name, p.name] as const));
  const summed = new Map<string, tf.Tensor>();
  const losses: tf.Scalar[] = [];
  const total = micros.reduce((n, m) => n + m.batch.count, 0);
  try {
    for (const micro of micros) {
      const { value, grads } = tf.variableGrads(() => tf.div(objective.loss(micro.batch), total) as tf.Scalar, varList);
      losses.push(value);
      for (const [variableName, grad] of Object.entries(grads)) {
        const name = nameOf.get(variableName)!;
        const previous = summed.get(name);
        summed.set(name, previous ? tf.add(previous, grad) : grad);
        if (previous) (previous.dispose(), grad.dispose());
      }
    }
  } finally {
    for (const micro of micros) micro.batch.dispose();
  }
  const { totalNorm, grads } = tf.tidy(() => {
    const clipped = clipGradNorm(summed, options.maxGradNorm);
    return { totalNorm: clipped.totalNorm, grads: Object.fromEntries(clipped.clipped) };
  });
  const lossValue = losses.reduce((sum, v) => sum + v.dataSync()[0]!, 0);
  const gradNorm = totalNorm.dataSync()[0]!;
  const disposeAll = () => tf.dispose([...losses, totalNorm, ...summed.values(), ...Object.values(grads)]);
  if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) {
    disposeAll();
    const what = `step ${options.step}: ${Number.isFinite(lossValue) ? `gradient norm is ${gradNorm}` : `loss is ${lossValue}`}; the update was not applied`;
    const fix = 'lower train.lr, set train.max_grad_norm (e.g. 1.0) or add warmup_steps';
    const saved = options.lastCheckpoint;
    throw saved
      ? new MmftError('E_NUMERIC', `${what}; the last checkpoint, ${saved.dir} (step ${saved.step}) is kept`, {
          hint: `${fix}, then resume with --resume ${saved.dir}`,
        })
      : new MmftError('E_NUMERIC', `${what}; no checkpoint was written before it, so there is nothing to resume from`, {
          hint: `${fix}, then start the run again (train.save_every keeps checkpoints along the way)`,
        });
  }
  optimizer.step(new Map(Object.entries(grads)), options.lr);
  disposeAll();
  return { loss: lossValue, gradNorm };
}
