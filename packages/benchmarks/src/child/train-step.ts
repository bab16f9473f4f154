// One optimizer step exactly as trainer-standard's optimizerStep does it for grad_accum_steps 1
// (packages/plugins/trainer-standard/src/loop/optimizer-step.ts): tf.variableGrads of the loss
// over the trainable variables, global-norm clipping, the finite check (reads loss and norm back,
// as the trainer does every step), then AdamW.step. Only the data source differs: a synthetic batch.
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type Batch, type ModelOutputs } from '@mmft/core';
import { clipGradNorm } from '@mmft/trainer-standard';
import type { TrainParts } from './build-run';

/** model.forward plus logit_scale, as trainer-standard model/forward.ts forwardWithScale. */
function forwardWithScale(parts: TrainParts, batch: Batch): ModelOutputs {
  const outputs: Record<string, tf.Tensor> = { ...parts.model.forward(batch.inputs) };
  const root = parts.model.root;
  if (!outputs.logitScale && root.hasParam('logit_scale')) outputs.logitScale = tf.clone(root.param('logit_scale'));
  if (!outputs.logitBias && root.hasParam('logit_bias')) outputs.logitBias = tf.clone(root.param('logit_bias'));
  return outputs;
}

/** What one optimizer step needs, whatever the model. */
export interface StepParts {
  readonly params: TrainParts['params'];
  readonly optimizer: TrainParts['optimizer'];
  readonly train: { readonly max_grad_norm: number };
}

/**
 * One optimizer step on the scalar `lossOf()` at learning rate `lr`; returns the loss value.
 *
 * @example
 * const loss = optimizerStepOn(parts, () => model.forward(inputs).loss!, 1e-3);
 */
export function optimizerStepOn(parts: StepParts, lossOf: () => tf.Scalar, lr: number): number {
  const varList = parts.params.map((p) => p.variable);
  const nameOf = new Map(parts.params.map((p) => [p.variable.name, p.name] as const));
  const { value, grads } = tf.variableGrads(lossOf, varList);
  const named = new Map(Object.entries(grads).map(([variableName, g]) => [nameOf.get(variableName)!, g] as const));
  const { totalNorm, clipped } = tf.tidy(() => {
    const c = clipGradNorm(named, parts.train.max_grad_norm);
    return { totalNorm: c.totalNorm, clipped: Object.fromEntries(c.clipped) };
  });
  const loss = value.dataSync()[0]!;
  const norm = totalNorm.dataSync()[0]!;
  const dispose = () => tf.dispose([value, totalNorm, ...named.values(), ...Object.values(clipped)]);
  if (!Number.isFinite(loss) || !Number.isFinite(norm)) {
    dispose();
    throw new MmftError('E_NUMERIC', `benchmark step: loss ${loss}, gradient norm ${norm}`, {
      hint: 'lower train.lr in the experiment file',
    });
  }
  parts.optimizer.step(new Map(Object.entries(clipped)), lr);
  dispose();
  return loss;
}

/**
 * Run one step on `batch` at learning rate `lr`; returns the loss value.
 *
 * @example
 * const loss = trainStep(parts, pool[step % pool.length], 1e-3);
 */
export function trainStep(parts: TrainParts, batch: Batch, lr: number): number {
  return optimizerStepOn(parts, () => parts.loss.compute(forwardWithScale(parts, batch), batch), lr);
}
