// Everything a run resolves before its first step: backend, model (+ PEFT, strategy), loss,
// datasets, metrics, the micro-batch source and the optimizer's parameter list. The training loop
// (run-training.ts) only steps, evaluates and saves.
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { MmftError, type Dataset, type Loss, type RunContext, type VisionLanguageModel } from '@mmft/core';
import { registerGradients } from '@mmft/core/nn';
import type { TrainConfig } from '../config';
import { createCollator, type Collator } from '../data/collate';
import { datasetSize } from '../data/stream';
import { adapterFor } from '../eval/metric-adapters';
import type { EvalMetric } from '../eval/evaluate';
import { loadModel, type LoadedModel } from '../model/load-model';
import { applyStrategy } from '../model/strategy';
import { paramEntries } from '../optim/param-groups';
import type { ParamEntry } from '../optim/adamw';
import { loadOrBuildFeatures, type FeatureTable } from '../strategy/feature-cache';
import { FeatureHead } from '../strategy/head';
import { createOutputDir } from './output-dir';

export interface RunParts {
  readonly loaded: LoadedModel;
  readonly loss: Loss;
  readonly train: Dataset;
  readonly evalData?: Dataset;
  readonly metrics: readonly EvalMetric[];
  readonly collator: Collator;
  readonly params: ParamEntry[];
  /** Examples per epoch (rows of the feature table for feature-based). */
  readonly size: number;
  readonly features?: { readonly train: FeatureTable; readonly eval?: FeatureTable; readonly head: FeatureHead };
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

/**
 * The loss parameters a run trains. A model that owns its temperature (HF `logit_scale`, passed to
 * the loss as outputs.logitScale, see model/forward.ts) leaves the loss's fallback temperature
 * unused: it must not count as trainable, get optimizer state, or look like part of a PEFT run.
 */
export function trainedLossParameters(model: VisionLanguageModel, loss: Loss): ReadonlyArray<readonly [string, tf.Variable]> {
  const modelOwnsScale = model.root.hasParam('logit_scale');
  return (loss.parameters ?? []).filter(([name]) => !(modelOwnsScale && name === 'logit_scale'));
}

/** Resolve and build every part of a run from the recipe. */
export async function setupRun(config: TrainConfig, context: RunContext, seed: number, resumeModelDir?: string): Promise<RunParts> {
  const recipe = context.recipe;
  await selectEngine(recipe, context);
  const loaded = await loadModel(context, resumeModelDir);
  applyStrategy(loaded.model.root, config, loaded.adapter !== undefined, loaded.model.processor.towers);
  const lossSection = sectionOf(recipe.loss);
  if (!lossSection) throw new MmftError('E_RECIPE', 'the recipe has no loss: section', { hint: 'add loss: { type: clip } (or siglip) and the @mmft/loss-contrastive plugin' });
  const loss = context.resolver.resolve('loss', lossSection.type as string).create(split(lossSection, 'type')[1]);
  const data = sectionOf(recipe.data);
  const open = async (key: 'train' | 'eval') => {
    const s = sectionOf(data?.[key]);
    return s ? context.resolver.resolve('dataset', s.type as string).open(split(s, 'type')[1], { baseDir: context.baseDir }) : undefined;
  };
  const train = await open('train');
  if (!train) throw new MmftError('E_RECIPE', 'the recipe has no data.train section', { hint: 'add data: { train: { type: jsonl, path: ./train.jsonl } }' });
  const evalData = await open('eval');
  const metrics = (Array.isArray(recipe.metrics) ? recipe.metrics : []).map((m) => {
    const [id, settings] = split(sectionOf(m)!, 'type');
    adapterFor(id); // unknown adapters fail before training starts
    const provider = context.resolver.resolve('metric', id);
    return { id, provider, metric: provider.create(settings) };
  });
  const collator = createCollator(loaded.model, { seed, maxTextLength: config.max_text_length });
  const lossSources = { prefix: 'loss.', params: config.strategy === 'feature-based' ? (loss.parameters ?? []) : trainedLossParameters(loaded.model, loss) };
  if (config.strategy !== 'feature-based') {
    const params = paramEntries([{ prefix: '', root: loaded.model.root, params: loaded.model.root.namedParameters() }, lossSources], config.no_decay);
    return { loaded, loss, train, evalData, metrics, collator, params, size: await datasetSize(train, 'data.train') };
  }
  const fingerprint = (split: string) => JSON.stringify({ model: recipe.model, data: data?.[split], maxTextLength: config.max_text_length, processing: loaded.model.imageProcessing });
  const dir = path.join(context.outputDir, 'features');
  await createOutputDir(dir); // a read-only disk named as such, not as ENOENT (output-dir.ts)
  const batch = config.eval_batch_size ?? config.batch_size;
  const trainTable = await loadOrBuildFeatures(path.join(dir, 'train.safetensors'), fingerprint('train'), train, loaded.model, collator, batch);
  const evalTable = evalData ? await loadOrBuildFeatures(path.join(dir, 'eval.safetensors'), fingerprint('eval'), evalData, loaded.model, collator, batch) : undefined;
  const scale = loaded.model.root.hasParam('logit_scale') ? loaded.model.root.param('logit_scale').dataSync()[0] : undefined;
  const head = new FeatureHead(trainTable.dim, config.head, scale, seed);
  const params = paramEntries([{ prefix: 'head.', root: head, params: head.namedParameters() }, lossSources], config.no_decay);
  return { loaded, loss, train, evalData, metrics, collator, params, size: trainTable.count, features: { train: trainTable, eval: evalTable, head } };
}
