// Builds what one training experiment steps on, the way trainer-standard's setupRun / loadModel /
// applyStrategy do (packages/plugins/trainer-standard/src/loop/setup.ts, model/load-model.ts,
// model/strategy.ts): backend selection + gradients, the architecture from config, PEFT (base
// frozen, adapter trainable), lock-image freezing, the loss, paramEntries and AdamW.
import * as tf from '@tensorflow/tfjs-core';
import {
  architectureContext,
  MmftError,
  type BackendSelection,
  type Loss,
  type ProviderResolver,
  type VisionLanguageModel,
} from '@mmft/core';
import { registerGradients, type AnyModule } from '@mmft/core/nn';
import { trainedLossParameters } from '@mmft/objective-contrastive';
import { AdamW, paramEntries, trainConfigSchema, type ParamEntry, type TrainConfig } from '@mmft/trainer-standard';
import { sectionOf, type Experiment } from '../suite/experiment';
import type { AppliedMemory } from '../suite/result';
import { applyMemorySettings, memorySettingsOf, quantizationOf } from './memory-settings';

/** HF CLIPModel names of the image tower (trainer-standard model/strategy.ts IMAGE_TOWER). */
const IMAGE_TOWER = ['vision_model.**', 'visual_projection.**'];

/** Everything a timed step needs. */
export interface TrainParts {
  readonly backend: BackendSelection;
  readonly model: VisionLanguageModel;
  readonly loss: Loss;
  readonly params: ParamEntry[];
  readonly optimizer: AdamW;
  readonly train: TrainConfig;
  readonly trainableParams: number;
  readonly totalParams: number;
  /** train.gradient_checkpointing and train.frozen_dtype as applied. */
  readonly memory: AppliedMemory;
}

/** Select the recipe's backend (or the only one loaded, with defaults) and register gradients. */
export async function selectEngine(experiment: Experiment, resolver: ProviderResolver): Promise<BackendSelection> {
  const section = sectionOf(experiment, 'backend');
  const provider = section ? resolver.resolve('backend', section.id) : resolver.list('backend')[0];
  if (!provider) throw new MmftError('E_CONFIG', `${experiment.file}: no backend plugin loaded`);
  const selection = await provider.select(provider.configSchema.parse(section?.settings ?? {}));
  registerGradients();
  return selection;
}

/**
 * Apply the experiment's train.gradient_checkpointing, model.quantization and train.frozen_dtype to a
 * model whose freezing is final (memory-settings.ts), as the trainer does before building its optimizer.
 */
export function applyExperimentMemory(experiment: Experiment, root: AnyModule, train: object): AppliedMemory {
  const model = sectionOf(experiment, 'model');
  const settings = {
    ...memorySettingsOf(train as Record<string, unknown>, experiment.file),
    quantization: quantizationOf(model?.settings, experiment.file),
  };
  return applyMemorySettings(root, settings, {
    file: experiment.file,
    modelType: model?.id ?? '?',
    hasAdapter: sectionOf(experiment, 'peft') !== undefined,
  });
}

/** Build the model (from `model.config`, fresh weights) and apply peft: when given. */
export async function buildModel(experiment: Experiment, resolver: ProviderResolver): Promise<VisionLanguageModel> {
  const spec = sectionOf(experiment, 'model');
  if (!spec) throw new MmftError('E_RECIPE', `${experiment.file}: an experiment needs a model: section`);
  // The context lets a composite model (BLIP-2) build its language model through the registry.
  const model = await resolver.resolve('architecture', spec.id).fromConfig(spec.settings, architectureContext(resolver));
  const peft = sectionOf(experiment, 'peft');
  if (peft) {
    model.root.freeze('**');
    const applied = resolver.resolve('peft', peft.id).apply(model.root, peft.settings, 'default');
    for (const [, variable] of applied.trainableParameters()) variable.trainable = true;
  }
  return model;
}

/**
 * The whole training setup of a `kind: train` experiment.
 *
 * @example
 * const parts = await buildTrainParts(experiment, registry);
 */
export async function buildTrainParts(experiment: Experiment, resolver: ProviderResolver): Promise<TrainParts> {
  const backend = await selectEngine(experiment, resolver);
  const train = trainConfigSchema.parse(sectionOf(experiment, 'train')?.settings ?? {});
  if (train.strategy === 'feature-based' || train.grad_accum_steps !== 1) {
    throw new MmftError('E_UNSUPPORTED', `${experiment.file}: the benchmark times strategy full/lock-image with grad_accum_steps 1`);
  }
  const model = await buildModel(experiment, resolver);
  if (train.strategy === 'lock-image') for (const glob of IMAGE_TOWER) model.root.freeze(glob);
  for (const glob of train.freeze) model.root.freeze(glob);
  for (const glob of train.unfreeze) model.root.unfreeze(glob);
  const lossSection = sectionOf(experiment, 'loss');
  if (!lossSection) throw new MmftError('E_RECIPE', `${experiment.file}: an experiment of kind train needs a loss: section`);
  const loss = resolver.resolve('loss', lossSection.id).create(lossSection.settings);
  const all = model.root.namedParameters();
  // After `all`: a weight held in 16 bits leaves the state dict, and totalParams counts the model.
  const memory = applyExperimentMemory(experiment, model.root, train);
  const params = paramEntries(
    [
      { prefix: '', root: model.root, params: all },
      { prefix: 'loss.', params: trainedLossParameters(model, loss) },
    ],
    train.no_decay,
  );
  const optimizer = new AdamW(params, { betas: train.betas, eps: train.eps, weightDecay: train.weight_decay });
  const size = (v: tf.Variable) => v.size;
  return {
    backend,
    model,
    loss,
    params,
    optimizer,
    train,
    trainableParams: params.reduce((n, p) => n + size(p.variable), 0),
    totalParams: all.reduce((n, [, v]) => n + size(v), 0),
    memory,
  };
}
