// Everything a run resolves before its first step: backend, model (+ PEFT, strategy), datasets,
// metrics, the objective (collation, loss, evaluation) and the optimizer's parameter list. The training loop
// (run-training.ts) only steps, evaluates and saves.
import {
  checkConsumers,
  datasetContext,
  fedMetric,
  isCausalLanguageModel,
  MmftError,
  RECIPE_SECTIONS,
  sectionOrDefault,
  type Dataset,
  type FedMetric,
  type MetricProvider,
  type Objective,
  type RunContext,
} from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import type { TrainConfig } from '../config';
import { datasetSize } from '../data/stream';
import { loadModel, type LoadedModel } from '../model/load-model';
import { applyStrategy } from '../model/strategy';
import { applyFrozenDtype } from '../model/frozen-dtype';
import { applyQuantization } from '../model/quantization';
import { applyGradientCheckpointing } from '../model/gradient-checkpointing';
import { paramEntries, withLrGroups } from '../optim/param-groups';
import type { ParamEntry } from '../optim/adamw';

export interface RunParts {
  readonly loaded: LoadedModel;
  readonly objective: Objective;
  /** How messages name the objective ('objective "contrastive"'). */
  readonly objectiveName: string;
  readonly train: Dataset;
  readonly evalData?: Dataset;
  readonly metrics: ReadonlyArray<FedMetric & { readonly provider: MetricProvider }>;
  readonly params: ParamEntry[];
  /** Examples per epoch (the objective's own rows when it draws its batches). */
  readonly size: number;
}
const sectionOf = (value: unknown): Record<string, unknown> | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;

function split(section: Record<string, unknown>, key: 'type'): [string, Record<string, unknown>] {
  const { [key]: id, ...settings } = section;
  return [id as string, settings];
}

/**
 * Select the tensor engine: the recipe's backend: section, or else the only backend plugin loaded
 * with its defaults. Gradients are registered either way (tfjs-core alone has none).
 */
async function selectEngine(recipe: Readonly<Record<string, unknown>>, context: RunContext): Promise<void> {
  const backend = sectionOf(recipe.backend);
  if (backend) {
    await context.resolver.resolve('backend', backend.type as string).select(split(backend, 'type')[1]);
  } else {
    const available = context.resolver.list('backend');
    if (available.length === 1) await available[0]!.select(available[0]!.configSchema.parse({}));
  }
  registerGradients();
}

/** Resolve and build every part of a run from the recipe. */
export async function setupRun(config: TrainConfig, context: RunContext, seed: number, resumeModelDir?: string): Promise<RunParts> {
  const recipe = context.recipe;
  await selectEngine(recipe, context);
  const loaded = await loadModel(context, resumeModelDir);
  applyStrategy(loaded.model.root, config, loaded.adapter !== undefined, loaded.model.processor.towers);
  // After PEFT (loadModel) so that the blocks' adapter layers are recomputed with them.
  applyGradientCheckpointing(loaded.model, config.gradient_checkpointing, context);
  const data = sectionOf(recipe.data);
  const open = async (key: 'train' | 'eval') => {
    const s = sectionOf(data?.[key]);
    return s
      ? context.resolver
          .resolve('dataset', s.type as string)
          .open(split(s, 'type')[1], datasetContext(context.resolver, context.baseDir, `data.${key}`))
      : undefined;
  };
  const train = await open('train');
  if (!train)
    throw new MmftError('E_RECIPE', 'the recipe has no data.train section', {
      hint: 'add data: { train: { type: jsonl, path: ./train.jsonl } }',
    });
  const evalData = await open('eval');
  const metrics = (Array.isArray(recipe.metrics) ? recipe.metrics : []).map((m) => {
    const [id, settings] = split(sectionOf(m)!, 'type');
    const provider = context.resolver.resolve('metric', id);
    return { ...fedMetric(provider, settings, id), provider };
  });
  // An absent objective: section is the kinds table's default (contrastive), except on a causal
  // LM, whose only objective is next-token prediction (what run_clm and LLaMA-Factory's sft train).
  const spec = RECIPE_SECTIONS.find((s) => s.kind === 'objective')!;
  const [objectiveId, objectiveSettings] =
    recipe.objective === undefined && isCausalLanguageModel(loaded.model)
      ? ['causal-lm', {}]
      : split(sectionOrDefault(recipe as Record<string, unknown>, spec)!, 'type');
  const provider = context.resolver.resolve('objective', objectiveId);
  const objective = await provider.create(provider.configSchema.parse(objectiveSettings), {
    model: loaded.model,
    resolver: context.resolver,
    // The objective reads its legacy settings from train:, as this trainer parsed them.
    recipe: { ...recipe, train: config },
    seed,
    outputDir: context.outputDir,
    train,
    eval: evalData,
    batchSize: config.eval_batch_size ?? config.batch_size,
  });
  const objectiveName = `objective "${objectiveId}"`;
  try {
    if (config.strategy === 'feature-based' && objective.trainsModel) {
      throw new MmftError(
        'E_CONFIG',
        `train.strategy feature-based trains a head on cached features, but ${objectiveName} trains the model's own weights`,
        {
          hint: 'use strategy: full with a peft: section (LoRA) or freeze: entries to choose what trains (feature-based is for objective contrastive)',
        },
      );
    }
    checkConsumers(
      metrics,
      { name: objectiveName, emits: objective.emits },
      context.resolver.list('metric').flatMap((m) => (m.consumes ? [{ id: m.id, consumes: m.consumes }] : [])),
    );
    // model.quantization, then train.frozen_dtype for what stays float32, once PEFT, the strategy and
    // the objective have settled what trains.
    applyQuantization(loaded.model.root, sectionOf(recipe.model)?.quantization, context, loaded.model.root.constructor.name, {
      hasAdapter: loaded.adapter !== undefined,
      evalOnly: config.eval_only,
    });
    applyFrozenDtype(loaded.model.root, config.frozen_dtype, context, loaded.model.root.constructor.name);
  } catch (error) {
    objective.dispose();
    throw error;
  }
  const own = { prefix: '', params: objective.parameters() };
  const entries = objective.trainsModel
    ? paramEntries([{ prefix: '', root: loaded.model.root, params: loaded.model.root.namedParameters() }, own], config.no_decay)
    : paramEntries([own], config.no_decay);
  let params: ParamEntry[];
  try {
    params = withLrGroups(entries, config.lr_groups, config.lr, loaded.model.processor.towers);
  } catch (error) {
    objective.dispose();
    throw error;
  }
  const size = objective.size ?? (await datasetSize(train, 'data.train'));
  return { loaded, objective, objectiveName, train, evalData, metrics, params, size };
}
