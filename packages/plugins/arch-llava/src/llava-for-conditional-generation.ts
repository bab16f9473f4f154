// LlavaForConditionalGeneration (src/transformers/models/llava/modeling_llava.py): a vision tower
// built from vision_config.model_type through the registry (AutoModel.from_config), the
// multi-modal projector, and a causal LM from text_config.model_type (AutoModelForCausalLM). Image
// features are the tower's hidden state(s) at vision_feature_layer (get_image_features: CLS dropped
// with 'default', a list concatenated on the last axis), projected, then scattered into the `<image>`
// positions of the text embeddings in reading order (get_placeholder_mask + masked_scatter: batch
// row by row, positions left to right, images in order). Labels go to the language model untouched
// (the objective sets −100 on the image span). The module tree uses the Hub key layout
// (vision_tower.*, multi_modal_projector.*, language_model.model.*, language_model.lm_head.*);
// checkpoint/key-layout.ts maps the layout of transformers ≥ 4.52 onto it on load.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  MmftError,
  type ArchitectureContext,
  type AttentionProbabilities,
  type AttentionProbing,
  type CausalLanguageModel,
  type GenerationChunk,
  type GenerationOptions,
  type GenerationResult,
  type ImageProcessing,
  type LoadOptions,
  type ModelInputs,
  type ModelProcessor,
  type SaveOptions,
  type TextTokenizer,
  type VisionEncoderModel,
  type VisionLanguageModel,
} from '@mmft/core';
import { parseJsonFile, readOptionalFile, readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { loadCausalLmFolder, loadCausalLmWeights, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import type { AnyModule } from '@mmft/core/nn';
import { IGNORE_ON_LOAD, languageModelTies } from './checkpoint/ties';
import { llavaConfigJson, saveLlavaFolder } from './checkpoint/save';
import { parseLlavaConfig, type LlavaConfigInput, type LlavaConfigJson } from './config';
import { basePrefixOf, hubKeyLayout, toHubKey, type KeyLayout } from './key-layout';
import { llavaAttentionProbabilities } from './model/attention';
import { llavaGenerationInputs } from './model/generation-inputs';
import { embedInputsWithImages, imageFeatures } from './model/image-features';
import { assembleLlavaRoot, buildTowers } from './model/towers';
import { llavaProcessor, numImageTokens, parseLlavaImageProcessing } from './processor';

export { languageModelTies } from './checkpoint/ties';

/** Options of `LlavaForConditionalGeneration.fromConfig`. */
export interface LlavaFromConfigOptions {
  /** Seed of the initialisation (the towers get it through their plugins). */
  readonly seed?: number;
  /** Folder holding the tokenizer files, handed to the language model's plugin too. */
  readonly tokenizer?: string;
  /** Image preprocessing; default the vision tower's. */
  readonly imageProcessing?: ImageProcessing;
  /** The tokenizer files saved with the model (default: read from `tokenizer`); composeLlava passes them with `<image>` added. */
  readonly tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
}

/** Outputs of `forward`: the language model's logits [B, T, V] and, with labels, its loss. */
export type LlavaOutputs = { readonly logits: tf.Tensor; readonly loss?: tf.Tensor };

/**
 * LLaVA whose `root` parameters carry the Hub's LlavaForConditionalGeneration state-dict names.
 *
 * @example
 * const model = await LlavaForConditionalGeneration.fromPretrained('models/llava-shapes-base', {}, architectureContext(registry));
 * const { texts } = await model.generate({ pixelValues, inputIds }, { maxNewTokens: 20 });
 */
export class LlavaForConditionalGeneration implements VisionLanguageModel, AttentionProbing {
  readonly modelType = 'llava';
  readonly family = 'vision-to-llm' as const;
  readonly processor: ModelProcessor;
  /** `<image>` expansion length: features per image. */
  readonly numImageTokens: number;

  private constructor(
    readonly root: AnyModule,
    readonly config: LlavaConfigJson,
    readonly visionTower: VisionEncoderModel,
    readonly languageModel: CausalLanguageModel,
    readonly imageProcessing: ImageProcessing,
    private readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    private readonly preprocessor: Record<string, unknown> | undefined,
    readonly folderGenerationConfig: Readonly<Record<string, unknown>> | undefined,
    /** What loading did: the key layout found and tensors skipped or tied. */
    readonly loadReport?: LoadCausalLmWeightsResult & { layout: KeyLayout },
  ) {
    this.numImageTokens = numImageTokens(visionTower, config.vision_feature_select_strategy);
    const tokenizer: TextTokenizer | undefined = tokenizerFromFiles(new Map(tokenizerFiles)) ?? languageModel.tokenizer;
    this.processor = llavaProcessor(
      imageProcessing,
      tokenizer,
      config.image_token_index,
      this.numImageTokens,
      languageModel.processor.chatTemplate,
    );
  }

  get tokenizer(): TextTokenizer | undefined {
    return this.processor.tokenizer;
  }

  private static assemble(config: LlavaConfigJson, vision: VisionEncoderModel, lm: CausalLanguageModel, seed?: number): AnyModule {
    return assembleLlavaRoot(config, vision, lm, seed);
  }

  /** A freshly initialised LLaVA (training mode) from a partial LlavaConfig; towers through `context`. */
  static async fromConfig(config: LlavaConfigInput, context: ArchitectureContext | undefined, options: LlavaFromConfigOptions = {}) {
    const parsed = parseLlavaConfig(config, 'config');
    const { vision, lm } = await buildTowers(parsed, context, { seed: options.seed, tokenizer: options.tokenizer }, 'config');
    try {
      const root = LlavaForConditionalGeneration.assemble(parsed, vision, lm, options.seed);
      const files = options.tokenizerFiles
        ? new Map(options.tokenizerFiles)
        : options.tokenizer
          ? await readTokenizerFiles(options.tokenizer)
          : new Map((lm as { tokenizerFiles?: ReadonlyMap<string, Uint8Array> }).tokenizerFiles ?? []);
      const processing = options.imageProcessing ?? vision.processor.imageProcessing;
      if (!processing)
        throw new MmftError('E_CONFIG', `config: the vision tower "${vision.modelType}" has no image processing; pass imageProcessing`);
      const full = {
        ...parsed,
        vision_config: { ...parsed.vision_config, ...vision.config },
        text_config: { ...parsed.text_config, ...lm.config, model_type: lm.modelType },
      };
      return new LlavaForConditionalGeneration(root.train(), full, vision, lm, processing, files, undefined, undefined);
    } catch (error) {
      vision.dispose();
      lm.dispose();
      throw error;
    }
  }

  /**
   * Loads a checkpoint folder in either key layout (Hub / transformers < 4.52 save_pretrained, or
   * the module names of transformers ≥ 4.52); evaluation mode. A missing, mis-shaped or (without
   * ignoreUnexpected) unknown tensor is an E_CHECKPOINT error naming it.
   */
  static async fromPretrained(
    dir: string,
    options: LoadOptions = {},
    context?: ArchitectureContext,
  ): Promise<LlavaForConditionalGeneration> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'LLaVA' });
    const source = join(dir, 'config.json');
    const config = parseLlavaConfig(folder.config, source);
    const preprocessorPath = join(dir, 'preprocessor_config.json');
    const preprocessorBytes = await readOptionalFile(preprocessorPath);
    const preprocessor = preprocessorBytes ? (parseJsonFile(preprocessorBytes, preprocessorPath) as Record<string, unknown>) : undefined;
    const { vision, lm } = await buildTowers(
      config,
      context,
      { tokenizer: folder.tokenizerFiles.has('tokenizer.json') ? dir : undefined },
      source,
    );
    try {
      const root = LlavaForConditionalGeneration.assemble(config, vision, lm);
      const { tensors, layout } = hubKeyLayout(folder.tensors, lm.root);
      const tensorFiles = new Map([...folder.tensorFiles].map(([name, file]) => [layout.rename(name), file]));
      const report = loadCausalLmWeights(root, tensors, {
        tied: languageModelTies(lm),
        ignoreUnexpected: options.ignoreUnexpected,
        ignorePatterns: IGNORE_ON_LOAD,
        tensorFiles,
        source: folder.files.length === 1 ? folder.files[0] : join(dir, 'model.safetensors.index.json'),
        modelName: 'LlavaForConditionalGeneration',
      });
      const fallback = vision.processor.imageProcessing ?? {
        size: vision.imageSize,
        cropSize: vision.imageSize,
        mean: [0.5, 0.5, 0.5],
        std: [0.5, 0.5, 0.5],
      };
      const imageProcessing = parseLlavaImageProcessing(preprocessor, fallback, preprocessorPath);
      const full = { ...config, text_config: { ...config.text_config, ...lm.config, model_type: lm.modelType } };
      return new LlavaForConditionalGeneration(
        root.eval(),
        full,
        vision,
        lm,
        imageProcessing,
        folder.tokenizerFiles,
        preprocessor,
        folder.generationConfig,
        {
          ...report,
          layout: layout.name,
        },
      );
    } catch (error) {
      vision.dispose();
      lm.dispose();
      throw error;
    }
  }

  /** Projected image features [N_images, numImageTokens, D_lm] (get_image_features). */
  getImageFeatures(pixelValues: tf.Tensor): tf.Tensor {
    return imageFeatures(this, pixelValues);
  }

  /**
   * The language model's input embeddings with the image features in the `<image>` positions. The
   * k-th image-token position in reading order (row by row) takes feature k of the flattened
   * [N_images × numImageTokens] features; a count that disagrees is an E_INPUT error naming the row.
   */
  embedInputs(inputIds: tf.Tensor, pixelValues: tf.Tensor | undefined): tf.Tensor {
    return embedInputsWithImages(this, inputIds, pixelValues, (pixels) => this.getImageFeatures(pixels));
  }

  /** Logits (and with `labels` the loss, labels passed to the language model unchanged) of the language model on the image and the text. */
  forward(inputs: ModelInputs): LlavaOutputs {
    const { inputIds, pixelValues } = inputs;
    if (!inputIds)
      throw new MmftError(
        'E_INPUT',
        'LlavaForConditionalGeneration.forward needs inputIds [B, T] (with <image> tokens where the images go)',
      );
    const embeds = this.embedInputs(inputIds, pixelValues);
    try {
      const out = this.languageModel.forward({
        inputsEmbeds: embeds,
        attentionMask: inputs.attentionMask,
        labels: inputs.labels,
        positionIds: inputs.positionIds,
        numItemsInBatch: inputs.numItemsInBatch,
      });
      return out.loss ? { logits: out.logits, loss: out.loss } : { logits: out.logits };
    } finally {
      embeds.dispose();
    }
  }

  /**
   * The language model's attention probabilities on the image and the text (one [B, H, T, T] per
   * layer, as output_attentions=True), where the image is (inputIds == image_token_index) and the
   * attention mask (ones when absent); labels are ignored. The caller disposes `probabilities`.
   */
  attentionProbabilities(inputs: ModelInputs): AttentionProbabilities {
    return llavaAttentionProbabilities(this, inputs);
  }

  /** What generate hands the language model (model/generation-inputs.ts). */
  private generationInputs(inputs: ModelInputs, method: string): { inputs: ModelInputs; owned: tf.Tensor[] } {
    return llavaGenerationInputs(this, inputs, method, (inputIds, pixelValues) => this.embedInputs(inputIds, pixelValues));
  }
  /** Answers or captions through the language model's generate; returns the new tokens only. */
  async generate(inputs: ModelInputs, options: GenerationOptions = {}): Promise<GenerationResult> {
    const prepared = this.generationInputs(inputs, 'generate');
    try {
      return await this.languageModel.generate(prepared.inputs, options);
    } finally {
      tf.dispose(prepared.owned);
    }
  }

  /** The same decoding as `generate`, one chunk per step. */
  async *generateStream(inputs: ModelInputs, options: GenerationOptions = {}): AsyncGenerator<GenerationChunk, void> {
    const prepared = this.generationInputs(inputs, 'generateStream');
    try {
      yield* this.languageModel.generateStream(prepared.inputs, options);
    } finally {
      tf.dispose(prepared.owned);
    }
  }

  /**
   * A key of the transformers ≥ 4.52 layout (`model.language_model.*`, `model.vision_tower.*`,
   * `lm_head.*`) as this tree names it; a tensor key or a bare module name (`model.vision_tower`),
   * so PEFT adapters saved from either layout load (key-layout.ts).
   */
  checkpointKeyName(key: string): string {
    return toHubKey(`${key}.`, basePrefixOf(this.languageModel.root)).slice(0, -1);
  }

  /**
   * config.json as save_pretrained writes it; `image_seq_length` says the image tokens per image this
   * model really reads (LlavaConfig's default 576 is llava-1.5's, wrong for any other tower).
   */
  toConfigJson(): Record<string, unknown> {
    return llavaConfigJson({ ...this.config, image_seq_length: this.numImageTokens });
  }

  /**
   * Writes the Hub layout atomically: config.json, generation_config.json, model.safetensors
   * (vision_tower.*, multi_modal_projector.*, language_model.*; tied copies left out),
   * preprocessor_config.json, processor_config.json and the tokenizer files.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    const { root, config, visionTower, languageModel, imageProcessing, tokenizerFiles, preprocessor, folderGenerationConfig } = this;
    const parts = { root, config, visionTower, languageModel, imageProcessing, tokenizerFiles, preprocessor, folderGenerationConfig };
    await saveLlavaFolder(parts, this.toConfigJson(), dir, options);
  }

  dispose(): void {
    this.languageModel.dispose();
    this.visionTower.dispose();
    this.root.dispose();
  }
}
