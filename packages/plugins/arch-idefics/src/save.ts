// Writing an IDEFICS folder as save_pretrained does: config.json (IdeficsConfig, flat language-model
// fields with vision_config and perceiver_config), model.safetensors under IdeficsForVisionText2Text's
// keys, preprocessor_config.json as IdeficsImageProcessor reads it
// (src/transformers/models/idefics/image_processing_idefics.py: image_size, image_mean, image_std,
// image_num_channels) and the tokenizer files byte for byte.
import { join } from 'node:path';
import {
  checkOutputFolder,
  MmftError,
  type CausalLanguageModel,
  type ImageProcessing,
  type ModelTowers,
  type SaveOptions,
} from '@mmft/core';
import { hfJson } from '@mmft/core/hf';
import { writeFileDurable, writeFolder, writeSafetensors } from '@mmft/core/io';
import { causalLmTensors, TRANSFORMERS_VERSION } from '@mmft/core/lm';
import type { AnyModule } from '@mmft/core/nn';
import { splitDecoupled } from './decoupled';

/** Parameter names by tower; the bridge (resampler and gated blocks) is what Flamingo trains. */
export const IDEFICS_TOWERS: ModelTowers = {
  vision: ['model.vision_model.**'],
  projector: ['model.perceiver_resampler.**', 'model.gated_cross_attn_layers.**'],
  language: ['model.embed_tokens.**', 'model.layers.**', 'model.norm.**', 'lm_head.**'],
};

/**
 * `<image>`'s id in tokenizer.json (added_tokens, else the model vocabulary), or undefined.
 *
 * @example
 * imageTokenIdOf(new Map([['tokenizer.json', bytes]])); // 32001
 */
export function imageTokenIdOf(files: ReadonlyMap<string, Uint8Array>, token = '<image>'): number | undefined {
  const bytes = files.get('tokenizer.json');
  if (!bytes) return undefined;
  let json: { added_tokens?: Array<{ id: number; content: string }>; model?: { vocab?: unknown } };
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8')) as typeof json;
  } catch (cause) {
    throw new MmftError('E_CONFIG', 'tokenizer.json is not valid JSON', {
      cause,
      hint: 'rewrite tokenizer.json with the tokenizer that made it',
    });
  }
  const added = json.added_tokens?.find((t) => t.content === token);
  if (added) return added.id;
  const vocab = json.model?.vocab;
  if (vocab && typeof vocab === 'object' && !Array.isArray(vocab)) {
    const id = (vocab as Record<string, unknown>)[token];
    if (typeof id === 'number') return id;
  }
  return undefined;
}

/** What `saveIdeficsFolder` reads of the model. */
export interface IdeficsSaveParts {
  readonly root: AnyModule;
  readonly languageModel: CausalLanguageModel;
  readonly imageProcessing: ImageProcessing;
  readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>;
  readonly config: Record<string, unknown>;
}

/** Writes config.json, generation_config.json, model.safetensors (tied copies left out), preprocessor_config.json and the tokenizer files. */
export async function saveIdeficsFolder(model: IdeficsSaveParts, dir: string, options: SaveOptions): Promise<void> {
  checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
  const tied = (model.languageModel as { tied?: Readonly<Record<string, string>> }).tied ?? {};
  const weights = splitDecoupled(
    await causalLmTensors(model.root, tied),
    model.config.vocab_size as number,
    (model.config.additional_vocab_size as number | undefined) ?? 0,
  );
  const config = {
    ...model.config,
    architectures: ['IdeficsForVisionText2Text'],
    model_type: 'idefics',
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
  };
  const p = model.imageProcessing;
  const preprocessor = {
    image_processor_type: 'IdeficsImageProcessor',
    image_size: p.size,
    image_mean: [...p.mean],
    image_std: [...p.std],
    image_num_channels: 3,
  };
  const generation = model.languageModel.generationConfig;
  await writeFolder(
    dir,
    async (staged) => {
      await writeFileDurable(join(staged, 'config.json'), hfJson(config));
      if (Object.keys(generation).length > 0) await writeFileDurable(join(staged, 'generation_config.json'), hfJson(generation));
      await writeSafetensors(join(staged, 'model.safetensors'), weights, { format: 'pt' });
      await writeFileDurable(join(staged, 'preprocessor_config.json'), hfJson(preprocessor));
      for (const [name, bytes] of model.tokenizerFiles) await writeFileDurable(join(staged, name), bytes);
    },
    { kind: 'model' },
  );
}
