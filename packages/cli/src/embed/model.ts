// The dual encoder and data of `mmft embed` (commands/embed.ts), shared with its queue shard
// (queue/embed-shard.ts): a registry with its backend selected, the model (and adapter) checked to
// have transformers' get_image_features / get_text_features, and the data opened through `jsonl`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  architectureContext,
  datasetContext,
  loadAdapter,
  MmftError,
  parseConfig,
  type Dataset,
  type PluginRegistry,
  type VisionLanguageModel,
} from '@mmft/core';
import { readModelType } from '@mmft/core/hf';
import type { CliContext } from '../context';

/** What a shard needs; every path absolute, so a worker on another machine reads the same files (a shared filesystem). */
export interface EmbedSpec {
  readonly modelDir: string;
  readonly data: string;
  readonly adapter?: string;
  readonly batchSize: number;
  readonly plugin: readonly string[];
}

/** A dual encoder with transformers' two feature methods (arch-clip's ClipModel has them). */
export type FeatureModel = VisionLanguageModel & {
  getImageFeatures(inputs: { pixelValues: tf.Tensor }): tf.Tensor;
  getTextFeatures(inputs: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }): tf.Tensor;
};

const isFeatureModel = (model: VisionLanguageModel): model is FeatureModel =>
  model.family === 'dual-encoder' &&
  typeof (model as Partial<FeatureModel>).getImageFeatures === 'function' &&
  typeof (model as Partial<FeatureModel>).getTextFeatures === 'function';

/** A registry with the built-in plugins and `plugin`, its tensor backend selected. */
export async function embedRegistry(ctx: CliContext, plugin: readonly string[]): Promise<PluginRegistry> {
  const registry = await ctx.createRegistry([...plugin]);
  const backends = registry.list('backend');
  const backend = backends.find((b) => b.id === 'tfjs') ?? backends[0];
  if (backend) await backend.select(parseConfig(backend, {}));
  return registry;
}

/** Loads the dual encoder (and adapter) of the spec; any other model is an E_UNSUPPORTED error. */
export async function loadFeatureModel(registry: PluginRegistry, spec: EmbedSpec): Promise<FeatureModel> {
  const modelType = await readModelType(spec.modelDir);
  const architecture = registry.resolveModelType(modelType, {
    source: path.join(spec.modelDir, 'config.json'),
    hint: 'load the plugin for this model with --plugin <package>',
  });
  const model = await architecture.fromPretrained(spec.modelDir, {}, architectureContext(registry));
  try {
    if (!isFeatureModel(model)) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `${path.join(spec.modelDir, 'config.json')}: model_type "${modelType}" (${model.family}) is not a dual encoder with image and text features`,
        { hint: 'mmft embed needs a CLIP-style dual encoder (model_type clip); for generative models use mmft generate' },
      );
    }
    if (spec.adapter) {
      await loadAdapter(spec.adapter, model.root, registry.list('peft'), { renameKey: model.checkpointKeyName?.bind(model) });
    }
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/** The data file opened through the registry's `jsonl` dataset (JSONL, a JSON array, or a LLaMA-Factory dataset_info.json). */
export async function openEmbedData(registry: PluginRegistry, file: string): Promise<Dataset> {
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
    throw new MmftError('E_INPUT', `${file}: no such data file`, { hint: 'give a JSONL file of caption or retrieval records' });
  }
  const provider = registry.resolve('dataset', 'jsonl');
  return provider.open(parseConfig(provider, { path: file }, '<data.jsonl>'), datasetContext(registry, path.dirname(file), '<data.jsonl>'));
}

/** How many records the data holds (its size when known, else one pass without images). */
export async function countRecords(dataset: Dataset): Promise<number> {
  if (dataset.size !== undefined) return dataset.size;
  let n = 0;
  for await (const _ of dataset.iterate({ shuffle: false })) n++;
  return n;
}
