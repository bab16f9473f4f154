// Blip2ForConditionalGeneration: the programmatic face of this plugin (VisionLanguageModel, family
// 'vision-to-llm'), as transformers writes it (src/transformers/models/blip_2/modeling_blip_2.py):
// pixels → Blip2VisionModel → Q-Former over the query tokens → language_projection → the language
// model's input embeddings. The language model is any causal LM the registry resolves from
// text_config.model_type (AutoModelForCausalLM.from_config), never imported here
// (model/language-model.ts builds it).
//
// Two input layouts, as transformers has had them: the text holds num_query_tokens image tokens
// whose embeddings the projected queries replace (image_token_index set), or the queries are
// prepended (legacy); model/language-inputs.ts builds the language model's inputs in either, and
// model/generation-inputs.ts what generate() hands it. generate() returns the new tokens only.
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
  type VisionLanguageModel,
} from '@mmft/core';
import { parseJsonFile, readOptionalFile, readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { loadCausalLmFolder, loadCausalLmWeights, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import type { Blip2Config, Blip2ConfigInput } from './config';
import { fuseLegacyQkvBias, LEGACY_BUFFERS } from './checkpoint/legacy-tensors';
import { parseBlip2Config } from './checkpoint/parse-config';
import { blip2ConfigJson, saveBlip2Folder } from './checkpoint/save-folder';
import { blip2AttentionProbabilities } from './model/attention';
import { Blip2Root } from './model/blip2-root';
import { generationInputs } from './model/generation-inputs';
import { initBlip2Weights } from './model/init-weights';
import { languageInputs } from './model/language-inputs';
import { buildLanguageModel, embeddingWidth, languageModelTies } from './model/language-model';
import { blip2Processor, parseBlipImageProcessing } from './processor';

/** Options of `Blip2ForConditionalGeneration.fromConfig`. */
export interface Blip2FromConfigOptions {
  /** Seed of the initialisation (the language model gets the same seed through its plugin). */
  seed?: number;
  /** Folder holding the tokenizer files (tokenizer.json, ...), handed to the language model's plugin too. */
  tokenizer?: string;
  /** Image preprocessing; default BlipImageProcessor's at vision_config.image_size. */
  imageProcessing?: ImageProcessing;
}

/** Outputs of `forward`. */
export type Blip2Outputs = {
  /** [B, N, V]: the language model's logits over its whole input (legacy: queries included). */
  readonly logits: tf.Tensor;
  readonly loss?: tf.Tensor;
};

/**
 * BLIP-2 whose `root` parameters carry HF Blip2ForConditionalGeneration state-dict names.
 *
 * @example
 * const model = await Blip2ForConditionalGeneration.fromPretrained('models/blip2', {}, architectureContext(registry));
 * const { sequences, texts } = await model.generate({ pixelValues }, { maxNewTokens: 20 });
 */
export class Blip2ForConditionalGeneration implements VisionLanguageModel, AttentionProbing {
  readonly modelType = 'blip-2';
  readonly family = 'vision-to-llm' as const;
  readonly processor: ModelProcessor;

  private constructor(
    readonly root: Blip2Root,
    readonly config: Blip2Config,
    /** The causal LM whose root is `root.language_model`. */
    readonly languageModel: CausalLanguageModel,
    readonly imageProcessing: ImageProcessing,
    private readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    private readonly preprocessor: Record<string, unknown> | undefined,
    /** generation_config.json as read (written back on save); generate() uses the language model's own, as transformers does. */
    readonly folderGenerationConfig: Readonly<Record<string, unknown>> | undefined,
    /** What loading skipped or fused; absent for fromConfig. */
    readonly loadReport?: LoadCausalLmWeightsResult & { fusedQkvBias: string[] },
  ) {
    const tokenizer: TextTokenizer | undefined = tokenizerFromFiles(new Map(tokenizerFiles)) ?? languageModel.tokenizer;
    this.processor = blip2Processor(imageProcessing, tokenizer, {
      imageTokenIndex: config.image_token_index,
      numQueryTokens: config.num_query_tokens,
    });
  }

  get tokenizer(): TextTokenizer | undefined {
    return this.processor.tokenizer;
  }

  /** Whether the text carries image tokens (image_token_index set) rather than the queries being prepended. */
  get expandsImageTokens(): boolean {
    return this.config.image_token_index !== null;
  }

  /**
   * A freshly initialised BLIP-2 (training mode) from a partial config.json object; the language
   * model from text_config through `context`.
   */
  static async fromConfig(config: Blip2ConfigInput, context: ArchitectureContext | undefined, options: Blip2FromConfigOptions = {}) {
    const parsed = parseBlip2Config(config, 'config');
    const lm = await buildLanguageModel(parsed, context, { seed: options.seed, tokenizer: options.tokenizer }, 'config');
    let root: Blip2Root | undefined;
    try {
      root = new Blip2Root(parsed, lm.root, embeddingWidth(lm), options.seed);
      initBlip2Weights(root, parsed, options.seed);
      const files = await tokenizerFilesOf(options.tokenizer);
      const processing = options.imageProcessing ?? parseBlipImageProcessing(undefined, parsed.vision_config.image_size);
      const textConfig = { ...parsed.text_config, ...lm.config, model_type: lm.modelType };
      return new Blip2ForConditionalGeneration(
        root.train(),
        { ...parsed, text_config: textConfig },
        lm,
        processing,
        files,
        undefined,
        undefined,
      );
    } catch (error) {
      (root ?? lm.root).dispose();
      throw error;
    }
  }

  /**
   * Loads a checkpoint folder in HF layout (either input layout; F16/BF16 upcast; sharded or not;
   * `language_model.lm_head.weight` absent when tied); evaluation mode. A missing, mis-shaped or
   * (without ignoreUnexpected) unknown tensor is an E_CHECKPOINT error naming it.
   */
  static async fromPretrained(
    dir: string,
    options: LoadOptions = {},
    context?: ArchitectureContext,
  ): Promise<Blip2ForConditionalGeneration> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'BLIP-2' });
    const source = join(dir, 'config.json');
    const config = parseBlip2Config(folder.config, source);
    const preprocessorBytes = await readOptionalFile(join(dir, 'preprocessor_config.json'));
    const preprocessor = preprocessorBytes ? parseJsonFile(preprocessorBytes, join(dir, 'preprocessor_config.json')) : undefined;
    const imageProcessing = parseBlipImageProcessing(preprocessor, config.vision_config.image_size, join(dir, 'preprocessor_config.json'));
    const tensors = new Map(folder.tensors);
    const fusedQkvBias = fuseLegacyQkvBias(tensors);
    const lm = await buildLanguageModel(
      config,
      context,
      { tokenizer: folder.tokenizerFiles.has('tokenizer.json') ? dir : undefined },
      source,
    );
    let root: Blip2Root | undefined;
    try {
      root = new Blip2Root(config, lm.root, embeddingWidth(lm));
      const report = loadCausalLmWeights(root, tensors, {
        tied: languageModelTies(lm),
        ignoreUnexpected: options.ignoreUnexpected,
        ignorePatterns: LEGACY_BUFFERS,
        tensorFiles: folder.tensorFiles,
        source: folder.files.length === 1 ? folder.files[0] : join(dir, 'model.safetensors.index.json'),
        modelName: 'Blip2ForConditionalGeneration',
      });
      const textConfig = { ...(folder.config.text_config as Record<string, unknown>), ...lm.config, model_type: lm.modelType };
      return new Blip2ForConditionalGeneration(
        root.eval(),
        { ...config, text_config: textConfig },
        lm,
        imageProcessing,
        folder.tokenizerFiles,
        preprocessor,
        folder.generationConfig,
        { ...report, fusedQkvBias },
      );
    } catch (error) {
      (root ?? lm.root).dispose();
      throw error;
    }
  }

  /** The Q-Former's query outputs [B, Q, qformer hidden] (get_qformer_features). */
  getQformerFeatures(inputs: { pixelValues: tf.Tensor }): tf.Tensor {
    return this.root.queryOutput(inputs.pixelValues);
  }

  /** The projected queries [B, Q, D_lm] the language model reads (get_image_features). */
  getImageFeatures(inputs: { pixelValues: tf.Tensor }): tf.Tensor {
    return this.root.imageFeatures(inputs.pixelValues);
  }

  /** Number of image positions in the language model's input (num_query_tokens). */
  get numQueryTokens(): number {
    return this.config.num_query_tokens;
  }

  /**
   * Logits (and with `labels` the loss) of the language model on the image and the text.
   * `inputIds` [B, T] as Blip2Processor writes them for this config's layout; `labels` [B, L ≤ N].
   */
  forward(inputs: ModelInputs): Blip2Outputs {
    const { pixelValues, inputIds } = inputs;
    if (!pixelValues || !inputIds) {
      throw new MmftError('E_INPUT', 'Blip2ForConditionalGeneration.forward needs pixelValues [B, 3, S, S] and inputIds [B, T]', {
        hint: 'a caption without prompt is the tokenized caption itself (the tokenizer adds bos); image tokens come first when config.image_token_index is set',
      });
    }
    const prepared = languageInputs(this, pixelValues, inputIds, inputs.attentionMask, inputs.labels);
    try {
      const out = this.languageModel.forward({
        inputsEmbeds: prepared.inputsEmbeds,
        attentionMask: prepared.attentionMask,
        labels: prepared.labels,
        numItemsInBatch: inputs.numItemsInBatch,
      });
      return out.loss ? { logits: out.logits, loss: out.loss } : { logits: out.logits };
    } finally {
      tf.dispose(prepared.owned);
    }
  }

  /**
   * The language model's attention probabilities (one [B, H, N, N] per layer, as
   * output_attentions=True) over its whole input, where the image is in it (the image tokens, or the
   * prepended queries in the legacy layout, so N = num_query_tokens + T there) and its attention
   * mask; labels are ignored. The caller disposes `probabilities`.
   */
  attentionProbabilities(inputs: ModelInputs): AttentionProbabilities {
    return blip2AttentionProbabilities(this, inputs);
  }

  /**
   * Captions or answers: Blip2ForConditionalGeneration.generate. Without `inputIds` the prompt is
   * bos alone (current layout: image tokens then bos). Returns the new tokens only.
   */
  async generate(inputs: ModelInputs, options: GenerationOptions = {}): Promise<GenerationResult> {
    const prepared = generationInputs(this, inputs, 'generate');
    try {
      return await this.languageModel.generate(prepared.inputs, options);
    } finally {
      tf.dispose(prepared.owned);
    }
  }

  /** The same decoding as `generate`, one chunk per step (the language model's generateStream; `mmft generate` prints these). */
  async *generateStream(inputs: ModelInputs, options: GenerationOptions = {}): AsyncGenerator<GenerationChunk, void> {
    const prepared = generationInputs(this, inputs, 'generateStream');
    try {
      yield* this.languageModel.generateStream(prepared.inputs, options);
    } finally {
      tf.dispose(prepared.owned);
    }
  }

  /** config.json as save_pretrained writes it. */
  toConfigJson(): Record<string, unknown> {
    return blip2ConfigJson(this.config, 'Blip2ForConditionalGeneration', true);
  }

  /**
   * Writes the Hugging Face layout atomically: config.json, generation_config.json,
   * model.safetensors (the language model's tensors under `language_model.`, tied copies left out),
   * preprocessor_config.json, processor_config.json (current layout) and the tokenizer files.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    await saveBlip2Folder(dir, options, {
      root: this.root,
      tied: languageModelTies(this.languageModel),
      configJson: this.toConfigJson(),
      generationConfig: this.folderGenerationConfig ?? this.languageModel.generationConfig,
      preprocessor: this.preprocessor,
      imageProcessing: this.imageProcessing,
      ...(this.expandsImageTokens ? { processorQueryTokens: this.numQueryTokens } : {}),
      tokenizerFiles: this.tokenizerFiles,
    });
  }

  dispose(): void {
    this.languageModel.dispose();
    this.root.dispose();
  }
}

/** The tokenizer files of a folder (none when no folder is given). */
async function tokenizerFilesOf(dir: string | undefined): Promise<Map<string, Uint8Array>> {
  return dir ? readTokenizerFiles(dir) : new Map();
}
