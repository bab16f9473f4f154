// Writing a LLaVA folder as save_pretrained does (config.json, model.safetensors, processor files);
// follows LlavaForConditionalGeneration / LlavaProcessor in transformers src/transformers/models/llava/modeling_llava.py.
import { join } from 'node:path';
import { checkOutputFolder, type CausalLanguageModel, type ImageProcessing, type SaveOptions, type VisionEncoderModel } from '@mmft/core';
import { hfJson } from '@mmft/core/hf';
import { writeFileDurable, writeFolder, writeSafetensors } from '@mmft/core/io';
import { causalLmTensors, quantizationConfigOf, TRANSFORMERS_VERSION } from '@mmft/core/lm';
import type { AnyModule } from '@mmft/core/nn';
import type { LlavaConfigJson } from '../config';
import { llavaImageProcessorJson } from '../processor';
import { languageModelTies } from './ties';

/** What `saveLlavaFolder` reads of the model. */
export interface LlavaSaveParts {
  readonly root: AnyModule;
  readonly config: LlavaConfigJson;
  readonly visionTower: VisionEncoderModel;
  readonly languageModel: CausalLanguageModel;
  readonly imageProcessing: ImageProcessing;
  readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>;
  readonly preprocessor: Record<string, unknown> | undefined;
  readonly folderGenerationConfig: Readonly<Record<string, unknown>> | undefined;
}

/** config.json as save_pretrained writes it. */
export function llavaConfigJson(config: LlavaConfigJson): Record<string, unknown> {
  const { vision_config, text_config, ...rest } = config;
  return {
    ...rest,
    architectures: ['LlavaForConditionalGeneration'],
    model_type: 'llava',
    vision_config: { ...vision_config },
    text_config: { ...text_config },
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
  };
}

/**
 * Writes the Hub layout atomically: config.json, generation_config.json, model.safetensors
 * (vision_tower.*, multi_modal_projector.*, language_model.*; tied copies left out),
 * preprocessor_config.json, processor_config.json and the tokenizer files.
 */
export async function saveLlavaFolder(
  model: LlavaSaveParts,
  config: Record<string, unknown>,
  dir: string,
  options: SaveOptions,
): Promise<void> {
  checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
  const weights = await causalLmTensors(model.root, languageModelTies(model.languageModel));
  const generation = model.folderGenerationConfig ?? model.languageModel.generationConfig;
  const preprocessor = model.preprocessor ?? llavaImageProcessorJson(model.imageProcessing);
  const tower = model.visionTower;
  const processorConfig = {
    image_token: '<image>',
    num_additional_image_tokens: tower.hasClassToken ? 1 : 0,
    patch_size: tower.patchSize,
    processor_class: 'LlavaProcessor',
    vision_feature_select_strategy: model.config.vision_feature_select_strategy,
  };
  await writeFolder(
    dir,
    async (staged) => {
      // Linears held in bitsandbytes 4-bit are in the weights in its layout; config.json says so.
      const quantization = quantizationConfigOf(model.root);
      await writeFileDurable(join(staged, 'config.json'), hfJson(quantization ? { ...config, quantization_config: quantization } : config));
      if (generation && Object.keys(generation).length > 0)
        await writeFileDurable(join(staged, 'generation_config.json'), hfJson(generation));
      await writeSafetensors(join(staged, 'model.safetensors'), weights, { format: 'pt' });
      await writeFileDurable(join(staged, 'preprocessor_config.json'), hfJson(preprocessor));
      await writeFileDurable(join(staged, 'processor_config.json'), hfJson(processorConfig));
      for (const [name, bytes] of model.tokenizerFiles) await writeFileDurable(join(staged, name), bytes);
    },
    { kind: 'model' },
  );
}
