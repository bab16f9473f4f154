// Writing a BLIP-2 folder in the Hugging Face layout, shared by Blip2ForConditionalGeneration and
// Blip2ForImageTextRetrieval: config.json as save_pretrained writes it (src/transformers/
// configuration_utils.py to_json_string), generation_config.json, model.safetensors,
// preprocessor_config.json, processor_config.json (src/transformers/models/blip_2/processing_blip_2.py
// keeps num_query_tokens there) and the tokenizer files, all staged and moved in at once.
import { join } from 'node:path';
import { checkOutputFolder, type ImageProcessing, type SaveOptions } from '@mmft/core';
import { hfJson } from '@mmft/core/hf';
import { writeFileDurable, writeFolder, writeSafetensors } from '@mmft/core/io';
import { causalLmTensors, quantizationConfigOf, TRANSFORMERS_VERSION } from '@mmft/core/lm';
import type { AnyModule } from '@mmft/core/nn';
import type { Blip2Config } from '../config';
import { blipImageProcessorJson } from '../processor';

/**
 * config.json as save_pretrained writes it for `architecture`; a decoder-only captioning model also
 * says `use_decoder_only_language_model: true`.
 *
 * @example
 * blip2ConfigJson(model.config, 'Blip2ForImageTextRetrieval', false).model_type; // 'blip-2'
 */
export function blip2ConfigJson(config: Blip2Config, architecture: string, decoderOnly: boolean): Record<string, unknown> {
  const { vision_config, qformer_config, text_config, ...rest } = config;
  return {
    ...rest,
    architectures: [architecture],
    model_type: 'blip-2',
    vision_config: { ...vision_config, model_type: 'blip_2_vision_model' },
    qformer_config: { ...qformer_config, model_type: 'blip_2_qformer' },
    text_config: { ...text_config },
    ...(decoderOnly ? { use_decoder_only_language_model: true } : {}),
    torch_dtype: 'float32',
    transformers_version: TRANSFORMERS_VERSION,
  };
}

/** What `saveBlip2Folder` writes. */
export interface Blip2FolderContents {
  /** The module whose state dict becomes model.safetensors. */
  readonly root: AnyModule;
  /** Tied parameter names (copy → source) left out of model.safetensors. */
  readonly tied?: Readonly<Record<string, string>>;
  readonly configJson: Record<string, unknown>;
  /** generation_config.json; not written when absent or empty. */
  readonly generationConfig?: Readonly<Record<string, unknown>>;
  /** preprocessor_config.json as read; absent, BlipImageProcessor's from `imageProcessing`. */
  readonly preprocessor: Record<string, unknown> | undefined;
  readonly imageProcessing: ImageProcessing;
  /** Write processor_config.json (the current layout, image_token_index set) with this num_query_tokens. */
  readonly processorQueryTokens?: number;
  readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>;
}

/**
 * Writes `contents` to `dir` atomically; an existing folder needs `options.force`.
 *
 * @example
 * await saveBlip2Folder('out/blip2', {}, { root, configJson, preprocessor: undefined, imageProcessing, tokenizerFiles: new Map() });
 */
export async function saveBlip2Folder(dir: string, options: SaveOptions, contents: Blip2FolderContents): Promise<void> {
  checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
  const weights = await causalLmTensors(contents.root, contents.tied);
  const generation = contents.generationConfig;
  const queryTokens = contents.processorQueryTokens;
  await writeFolder(
    dir,
    async (staged) => {
      // Linears held in bitsandbytes 4-bit are in the weights in its layout; config.json says so.
      const quantization = quantizationConfigOf(contents.root);
      const configJson = quantization ? { ...contents.configJson, quantization_config: quantization } : contents.configJson;
      await writeFileDurable(join(staged, 'config.json'), hfJson(configJson));
      if (generation && Object.keys(generation).length > 0)
        await writeFileDurable(join(staged, 'generation_config.json'), hfJson(generation));
      await writeSafetensors(join(staged, 'model.safetensors'), weights, { format: 'pt' });
      await writeFileDurable(
        join(staged, 'preprocessor_config.json'),
        hfJson(contents.preprocessor ?? blipImageProcessorJson(contents.imageProcessing)),
      );
      if (queryTokens !== undefined) {
        await writeFileDurable(
          join(staged, 'processor_config.json'),
          hfJson({ num_query_tokens: queryTokens, processor_class: 'Blip2Processor' }),
        );
      }
      for (const [name, bytes] of contents.tokenizerFiles) await writeFileDurable(join(staged, name), bytes);
    },
    { kind: 'model' },
  );
}
