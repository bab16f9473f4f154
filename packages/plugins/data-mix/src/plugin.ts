// The dataset provider "mix" (contract: packages/core/src/contracts/dataset.ts): several dataset
// sections, each opened through the registry by the context's `open`, mixed as LLaMA-Factory's
// `mix_strategy` does (hiyouga/LLaMA-Factory src/llamafactory/data/data_utils.py `merge_dataset`).
import { MmftError, type Dataset, type DatasetProvider, type TaskKind } from '@mmft/core';
import { mixConfigSchema, type MixConfig } from './config';
import { MixedDataset } from './mixed-dataset';

const ALL_TASKS: readonly TaskKind[] = ['caption', 'vqa', 'retrieval', 'instruction', 'text', 'interleaved'];

/**
 * `data: { eval: { type: mix, strategy: concat, sources: [{ type: shapes, task: vqa }, { type: jsonl, path: ./chat.jsonl }] } }`
 *
 * @example
 * const mixed = await mixProvider.open(parseConfig(mixProvider, section), datasetContext(registry, baseDir, 'data.eval'));
 */
export const mixProvider: DatasetProvider<MixConfig> = {
  kind: 'dataset',
  id: 'mix',
  description:
    "Mixes several datasets into one (concatenated or interleaved by probabilities, as LLaMA-Factory's mix_strategy), each built through the registry",
  configSchema: mixConfigSchema,
  // A mix yields whatever its sources yield.
  tasks: ALL_TASKS,
  async open(config, context) {
    const where = context.where ?? 'mix';
    const open = context.open;
    if (!open) {
      throw new MmftError(
        'E_UNSUPPORTED',
        `${where}: dataset "mix" opens its sources through the registry, and this caller gave it no way to`,
        {
          hint: "whoever opens datasets must pass datasetContext(registry, baseDir) from @mmft/core as the provider's context",
        },
      );
    }
    const sources: Dataset[] = [];
    for (const [i, section] of config.sources.entries()) sources.push(await open(section as MixSource, `${where}.sources[${i}]`));
    return new MixedDataset(sources, config, where);
  },
};

type MixSource = Record<string, unknown> & { type: string };
