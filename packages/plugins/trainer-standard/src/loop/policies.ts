// Two small decisions of the loop: which score picks checkpoint-best (and in which direction,
// as HF TrainingArguments.metric_for_best_model / greater_is_better with EarlyStoppingCallback),
// and what model files a checkpoint holds (architecture save, PEFT adapter, or the objective's state).
import * as path from 'node:path';
import { MmftError, saveAdapter, type Objective } from '@mmft/core';
import type { TrainConfig } from '../config';
import type { TrainerState } from '../checkpoint/trainer-state';
import type { LoadedModel } from '../model/load-model';
import { withFloat32Weights } from '../model/frozen-dtype';

export interface BestPolicy {
  readonly enabled: boolean;
  readonly key: string;
  readonly greater: boolean;
  update(
    state: TrainerState,
    scores: Readonly<Record<string, number>>,
    step: number,
    patience?: number,
  ): { state: TrainerState; improved: boolean; stop: boolean };
}

/**
 * The best-checkpoint rule; `enabled` is false when the recipe has no eval data. `lossScores` are
 * the scores the loop derives from the eval loss (perplexity), eligible beside eval_loss.
 */
export function bestMetricPolicy(
  config: TrainConfig,
  metrics: ReadonlyArray<{ readonly id: string; readonly provider: { readonly scores: Readonly<Record<string, 'higher' | 'lower'>> } }>,
  hasEval: boolean,
  lossScores: Readonly<Record<string, 'higher' | 'lower'>> = {},
): BestPolicy {
  const key = config.metric_for_best ?? 'eval_loss';
  if (
    !hasEval &&
    (config.metric_for_best !== undefined || config.early_stopping_patience !== undefined || config.eval_every !== undefined)
  ) {
    throw new MmftError(
      'E_CONFIG',
      `train.${config.metric_for_best !== undefined ? 'metric_for_best' : config.eval_every !== undefined ? 'eval_every' : 'early_stopping_patience'} needs evaluation data`,
      { hint: 'add data.eval to the recipe' },
    );
  }
  let greater = config.greater_is_better ?? false;
  if (lossScores[key] !== undefined) {
    greater = config.greater_is_better ?? lossScores[key] === 'higher';
  } else if (key !== 'eval_loss' && hasEval) {
    const [id, ...rest] = key.split('.');
    const score = rest.join('.');
    const metric = metrics.find((m) => m.id === id);
    const direction = metric?.provider.scores[score];
    if (!metric || !direction) {
      const known = [
        'eval_loss',
        ...Object.keys(lossScores),
        ...metrics.flatMap((m) => Object.keys(m.provider.scores).map((s) => `${m.id}.${s}`)),
      ];
      throw new MmftError('E_CONFIG', `train.metric_for_best "${key}" is not a score of the recipe's metrics; known: ${known.join(', ')}`);
    }
    greater = config.greater_is_better ?? direction === 'higher';
  }
  return {
    enabled: hasEval,
    key,
    greater,
    update(state, scores, step, patience) {
      const value = scores[key];
      const better =
        value !== undefined &&
        Number.isFinite(value) &&
        (state.bestMetric === undefined || (greater ? value > state.bestMetric : value < state.bestMetric));
      const next = better
        ? { ...state, bestMetric: value, bestStep: step, evalsWithoutImprovement: 0 }
        : { ...state, evalsWithoutImprovement: state.evalsWithoutImprovement + 1 };
      return { state: next, improved: better, stop: patience !== undefined && next.evalsWithoutImprovement >= patience };
    },
  };
}

/**
 * Model files of a checkpoint: the objective's state, then the PEFT adapter (PEFT layout) or the
 * whole model, unless the objective trains only its own parameters.
 */
export async function saveModelFiles(dir: string, loaded: LoadedModel, objective: Objective): Promise<void> {
  await objective.saveState?.(dir);
  if (!objective.trainsModel) return;
  if (loaded.adapter) {
    // PEFT's save_pretrained layout (adapter_config.json + adapter_model.safetensors), written atomically.
    const { applied, provider, config: peftConfig } = loaded.adapter;
    await saveAdapter(path.join(dir, 'adapter'), provider, peftConfig, applied, { baseModelNameOrPath: loaded.source });
    return;
  }
  // Frozen weights held in 16 bits (train.frozen_dtype) are written as float32, like every other.
  await withFloat32Weights(loaded.model.root, () => loaded.model.save(path.join(dir, 'model')));
}
