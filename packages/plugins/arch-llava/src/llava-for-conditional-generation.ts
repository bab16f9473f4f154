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
  isCausalLanguageModel,
  isVisionEncoderModel,
  MmftError,
  type ArchitectureContext,
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
import { hfJson, parseJsonFile, readOptionalFile, readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { checkOutputFolder } from '@mmft/core';
import { writeFileDurable, writeFolder, writeSafetensors } from '@mmft/core/io';
import {
  causalLmTensors,
  loadCausalLmFolder,
  loadCausalLmWeights,
  TRANSFORMERS_VERSION,
  type LoadCausalLmWeightsResult,
} from '@mmft/core/lm';
import { Module, type AnyModule } from '@mmft/core/nn';
import { parseLlavaConfig, type LlavaConfigInput, type LlavaConfigJson } from './config';
import { hubKeyLayout, type KeyLayout } from './key-layout';
import { LlavaProjector, projectorShape } from './projector';
import { llavaImageProcessorJson, llavaProcessor, numImageTokens, parseLlavaImageProcessing } from './processor';

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

class LlavaRoot extends Module<[], null> {
  forward(): null {
    return null;
  }
}

const IGNORE_ON_LOAD = [/\.rotary_emb\.inv_freq$/, /\.position_ids$/];

/** The causal LM's ties (CausalLMBase.tied), else every extra name of a shared variable tied to the first. */
function tiesOf(model: VisionLanguageModel): Record<string, string> {
  const declared = (model as { tied?: Readonly<Record<string, string>> }).tied;
  if (declared) return { ...declared };
  const first = new Map<unknown, string>();
  const ties: Record<string, string> = {};
  for (const [name, variable] of model.root.stateDict()) {
    const source = first.get(variable);
    if (source) ties[name] = source;
    else first.set(variable, name);
  }
  return ties;
}

async function buildTowers(
  config: LlavaConfigJson,
  context: ArchitectureContext | undefined,
  section: { seed?: number; tokenizer?: string },
  source: string,
) {
  if (!context) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: LLaVA builds its vision tower and language model through the plugin registry, and none was given`,
      {
        hint: 'load it with AutoModel.fromPretrained(dir, { plugins }) or pass architectureContext(registry) as the context argument',
      },
    );
  }
  const visionProvider = context.resolveModelType(config.vision_config.model_type);
  const vision = await visionProvider.fromConfig(
    { config: config.vision_config, ...(section.seed === undefined ? {} : { seed: section.seed }) },
    context,
  );
  if (!isVisionEncoderModel(vision)) {
    vision.dispose();
    throw new MmftError(
      'E_CONFIG',
      `${source}: vision_config.model_type "${config.vision_config.model_type}" is built by "${visionProvider.id}" (family ${visionProvider.family}), not a vision encoder`,
      { hint: 'LLaVA reads hidden states of a vision-encoder model: clip_vision_model (arch-clip)' },
    );
  }
  let lm: VisionLanguageModel | undefined;
  try {
    const lmProvider = context.resolveModelType(config.text_config.model_type);
    lm = await lmProvider.fromConfig({ config: config.text_config, ...section }, context);
    if (!isCausalLanguageModel(lm)) {
      throw new MmftError(
        'E_CONFIG',
        `${source}: text_config.model_type "${config.text_config.model_type}" is built by "${lmProvider.id}" (family ${lmProvider.family}), not a causal language model`,
        { hint: 'LLaVA runs decoder-only language models (llama, opt, gpt2, ...)' },
      );
    }
    return { vision, lm };
  } catch (error) {
    vision.dispose();
    lm?.dispose();
    throw error;
  }
}

/** Width of the language model's input embeddings. */
function embeddingWidth(lm: CausalLanguageModel): number {
  return tf.tidy(() => lm.embedTokens(tf.zeros([1, 1], 'int32')).shape[2]!);
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/**
 * LLaVA whose `root` parameters carry the Hub's LlavaForConditionalGeneration state-dict names.
 *
 * @example
 * const model = await LlavaForConditionalGeneration.fromPretrained('models/llava-shapes-base', {}, architectureContext(registry));
 * const { texts } = await model.generate({ pixelValues, inputIds }, { maxNewTokens: 20 });
 */
export class LlavaForConditionalGeneration implements VisionLanguageModel {
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
    const root = new LlavaRoot();
    const layers = Array.isArray(config.vision_feature_layer) ? config.vision_feature_layer.length : 1;
    const init = typeof config.text_config.initializer_range === 'number' ? config.text_config.initializer_range : 0.02;
    root.registerModule('vision_tower', vision.root);
    root.registerModule(
      'multi_modal_projector',
      new LlavaProjector(
        vision.hiddenSize * layers,
        embeddingWidth(lm),
        projectorShape(config.mm_projector_type, config.projector_hidden_act),
        config.multimodal_projector_bias,
        init,
        seed,
      ),
    );
    root.registerModule('language_model', lm.root);
    return root;
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

  /** The layer indices asked of the tower (vision_feature_layer as a list). */
  private get featureLayers(): number[] {
    const l = this.config.vision_feature_layer;
    return Array.isArray(l) ? [...l] : [l];
  }

  /** Projected image features [N_images, numImageTokens, D_lm] (get_image_features). */
  getImageFeatures(pixelValues: tf.Tensor): tf.Tensor {
    const states = this.visionTower.hiddenStates(pixelValues, this.featureLayers);
    try {
      return tf.tidy(() => {
        const chosen = states.map((s) =>
          this.config.vision_feature_select_strategy === 'default' ? tf.slice(s, [0, 1, 0], [-1, -1, -1]) : s,
        );
        const features = chosen.length === 1 ? chosen[0]! : tf.concat(chosen, -1);
        return this.root.getModule<LlavaProjector>('multi_modal_projector').forward(features);
      });
    } finally {
      tf.dispose(states);
    }
  }

  /**
   * The language model's input embeddings with the image features in the `<image>` positions. The
   * k-th image-token position in reading order (row by row) takes feature k of the flattened
   * [N_images × numImageTokens] features; a count that disagrees is an E_INPUT error naming the row.
   */
  embedInputs(inputIds: tf.Tensor, pixelValues: tf.Tensor | undefined): tf.Tensor {
    if (inputIds.rank !== 2) throw new MmftError('E_SHAPE', `inputIds must be [B, T], got ${shapeOf(inputIds)}`);
    const [batch, t] = inputIds.shape as [number, number];
    const imageToken = this.config.image_token_index;
    const ids = inputIds.arraySync() as number[][];
    const perRow = ids.map((row) => row.filter((id) => id === imageToken).length);
    const totalTokens = perRow.reduce((a, b) => a + b, 0);
    const images = pixelValues ? pixelValues.shape[0]! : 0;
    const count = this.numImageTokens;
    if (totalTokens !== images * count) throw this.mismatch(perRow, images, totalTokens);
    if (totalTokens === 0) return this.languageModel.embedTokens(inputIds);
    const features = this.getImageFeatures(pixelValues!);
    try {
      return tf.tidy(() => {
        const d = features.shape[2]!;
        const gatherIndex = new Int32Array(batch * t);
        const isImage = new Uint8Array(batch * t);
        // Image ids may lie past the vocabulary; their embeddings are replaced anyway, so embed id 0 there.
        const textIds = new Int32Array(batch * t);
        let k = 0;
        ids.forEach((row, b) =>
          row.forEach((id, p) => {
            if (id === imageToken) {
              gatherIndex[b * t + p] = k++;
              isImage[b * t + p] = 1;
            } else textIds[b * t + p] = id;
          }),
        );
        const text = this.languageModel.embedTokens(tf.tensor2d(textIds, [batch, t], 'int32'));
        const scattered = tf.reshape(tf.gather(tf.reshape(features, [images * count, d]), tf.tensor1d(gatherIndex, 'int32')), [
          batch,
          t,
          d,
        ]);
        const where = tf.tile(tf.reshape(tf.tensor1d(isImage, 'bool'), [batch, t, 1]), [1, 1, d]);
        return tf.where(where, scattered, text);
      });
    } finally {
      features.dispose();
    }
  }

  private mismatch(perRow: number[], images: number, totalTokens: number): MmftError {
    const count = this.numImageTokens;
    const id = this.config.image_token_index;
    // The row to name: the first whose tokens are not whole images, else the first past the images given.
    let consumed = 0;
    let row = perRow.findIndex((n) => n % count !== 0);
    if (row < 0) row = perRow.findIndex((n) => (consumed += n / count) > images);
    if (row < 0) row = perRow.length - 1;
    const rowText = `row ${row} of inputIds has ${perRow[row]} image tokens (id ${id})`;
    return new MmftError(
      'E_INPUT',
      `image tokens and image features do not match: ${rowText}; the batch has ${totalTokens} image tokens but ${images} image(s) × ${count} features = ${images * count} features`,
      {
        hint: `each <image> must expand to exactly ${count} tokens (model.processor.imageTokens.count) with one image per <image>; truncation (max_length) cutting an image span is the usual cause`,
      },
    );
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
   * What generate hands the language model: the first step reads inputsEmbeds (images scattered in),
   * later steps the new ids only, as prepare_inputs_for_generation passes pixel_values on the first
   * step only. Without inputIds the prompt is [bos?, <image> × count] per image.
   */
  private generationInputs(inputs: ModelInputs, method: string): { inputs: ModelInputs; owned: tf.Tensor[] } {
    const owned: tf.Tensor[] = [];
    try {
      let inputIds = inputs.inputIds;
      if (!inputIds) {
        if (!inputs.pixelValues)
          throw new MmftError('E_INPUT', `LlavaForConditionalGeneration.${method} needs inputIds, pixelValues or both`);
        const bos = this.languageModel.config.bos_token_id;
        const row = [
          ...(typeof bos === 'number' ? [bos] : []),
          ...new Array<number>(this.numImageTokens).fill(this.config.image_token_index),
        ];
        const n = inputs.pixelValues.shape[0]!;
        inputIds = tf.tensor2d(
          Array.from({ length: n }, () => row),
          [n, row.length],
          'int32',
        );
        owned.push(inputIds);
      }
      const embeds = this.embedInputs(inputIds, inputs.pixelValues);
      owned.push(embeds);
      const attentionMask = inputs.attentionMask;
      return { inputs: attentionMask ? { inputIds, inputsEmbeds: embeds, attentionMask } : { inputIds, inputsEmbeds: embeds }, owned };
    } catch (error) {
      tf.dispose(owned);
      throw error;
    }
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

  /** config.json as save_pretrained writes it. */
  toConfigJson(): Record<string, unknown> {
    const { vision_config, text_config, ...rest } = this.config;
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
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
    const weights = await causalLmTensors(this.root, languageModelTies(this.languageModel));
    const generation = this.folderGenerationConfig ?? this.languageModel.generationConfig;
    const config = this.toConfigJson();
    const preprocessor = this.preprocessor ?? llavaImageProcessorJson(this.imageProcessing);
    const tower = this.visionTower;
    const processorConfig = {
      image_token: '<image>',
      num_additional_image_tokens: tower.hasClassToken ? 1 : 0,
      patch_size: tower.patchSize,
      processor_class: 'LlavaProcessor',
      vision_feature_select_strategy: this.config.vision_feature_select_strategy,
    };
    await writeFolder(
      dir,
      async (staged) => {
        await writeFileDurable(join(staged, 'config.json'), hfJson(config));
        if (generation && Object.keys(generation).length > 0)
          await writeFileDurable(join(staged, 'generation_config.json'), hfJson(generation));
        await writeSafetensors(join(staged, 'model.safetensors'), weights, { format: 'pt' });
        await writeFileDurable(join(staged, 'preprocessor_config.json'), hfJson(preprocessor));
        await writeFileDurable(join(staged, 'processor_config.json'), hfJson(processorConfig));
        for (const [name, bytes] of this.tokenizerFiles) await writeFileDurable(join(staged, name), bytes);
      },
      { kind: 'model' },
    );
  }

  dispose(): void {
    this.languageModel.dispose();
    this.visionTower.dispose();
    this.root.dispose();
  }
}

/** The language model's ties under this model's state-dict names (the `language_model.` prefix). */
export function languageModelTies(lm: VisionLanguageModel): Record<string, string> {
  return Object.fromEntries(Object.entries(tiesOf(lm)).map(([k, v]) => [`language_model.${k}`, `language_model.${v}`]));
}
