// ClipModel: the programmatic face of this plugin (VisionLanguageModel contract). Loads and saves
// checkpoint folders in transformers' CLIPModel layout and runs CLIPModel.forward /
// get_text_features / get_image_features (transformers/models/clip/modeling_clip.py).
import * as tf from '@tensorflow/tfjs-core';
import {
  ensureBackend,
  MmftError,
  type ImageProcessing,
  type LoadOptions,
  type ModelInputs,
  type ModelProcessor,
  type SaveOptions,
  type VisionLanguageModel,
  requireEngine,
} from '@mmft/core';
import { tokenizerFromFiles, type EncodeOptions, type HfTokenizer, hfConfigFields } from '@mmft/core/hf';
import type { ClipConfig, ClipConfigInput } from './config';
import { loadClipWeights, type WeightsLoadReport } from './checkpoint/load-weights';
import { parseClipConfig } from './checkpoint/parse-config';
import { parseImageProcessing } from './checkpoint/preprocessor';
import { readCheckpointFiles } from './checkpoint/read-checkpoint';
import { hfConfigJson, saveClipCheckpoint } from './checkpoint/save-checkpoint';
import { ClipRoot } from './model/clip-root';
import { initClipWeights } from './model/init-weights';
import { clipProcessor } from './processor';

/** Options of `ClipModel.fromConfig`. */
export interface ClipFromConfigOptions {
  /** Seed of the initialisation; the same seed gives bit-identical weights. */
  seed?: number;
  /** Tokenizer files (tokenizer.json, tokenizer_config.json, ...) to carry and save with the model. */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array | string>;
  /** Image preprocessing; default CLIPImageProcessor's at vision_config.image_size. */
  imageProcessing?: ImageProcessing;
}

/** Outputs of `forward`; logits only when both modalities are given. */
export interface ClipOutputs {
  textEmbeds?: tf.Tensor;
  imageEmbeds?: tf.Tensor;
  /** [B_image, B_text] = exp(logit_scale)·cos(image, text). */
  logitsPerImage?: tf.Tensor;
  /** [B_text, B_image], the transpose of logitsPerImage. */
  logitsPerText?: tf.Tensor;
}

const toBytes = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);

/**
 * A CLIP model whose `root` parameters carry HF CLIPModel state-dict names.
 *
 * @example
 * const model = await ClipModel.fromPretrained('models/clip-shapes');
 * const { inputIds, attentionMask } = model.tokenize(['a red circle']);
 * const { logitsPerImage } = model.forward({ pixelValues, inputIds, attentionMask });
 * await model.save('out/clip-shapes-ft');
 */
export class ClipModel implements VisionLanguageModel {
  readonly modelType = 'clip';
  readonly family = 'dual-encoder' as const;
  readonly tokenizer?: HfTokenizer;
  /** CLIPProcessor: image preprocessing, tokenizer and the towers vision / text / head. */
  readonly processor: ModelProcessor;

  private constructor(
    readonly root: ClipRoot,
    readonly config: ClipConfig,
    readonly imageProcessing: ImageProcessing,
    private readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    private readonly preprocessor?: Record<string, unknown>,
    /** What loading skipped (legacy buffers, ignored unexpected tensors); absent for fromConfig. */
    readonly loadReport?: WeightsLoadReport,
  ) {
    this.tokenizer = tokenizerFromFiles(tokenizerFiles, { maxPositions: config.text_config.max_position_embeddings });
    this.processor = clipProcessor(imageProcessing, this.tokenizer);
  }

  /**
   * A freshly initialised CLIP (HF's _init_weights) from a partial config.json object; training
   * mode. Synchronous, so it cannot select an engine: in a script, `await ensureBackend()` (from
   * @mmft/core) first, or load any model with fromPretrained before.
   */
  static fromConfig(config: ClipConfigInput = {}, options: ClipFromConfigOptions = {}): ClipModel {
    const parsed = parseClipConfig(hfConfigFields(config), 'config');
    requireEngine('ClipModel.fromConfig');
    const root = new ClipRoot(parsed, options.seed);
    initClipWeights(root, parsed, options.seed);
    const files = new Map([...(options.tokenizerFiles ?? [])].map(([name, v]) => [name, toBytes(v)] as const));
    const processing = options.imageProcessing ?? parseImageProcessing(undefined, parsed.vision_config.image_size);
    return new ClipModel(root.train(), parsed, processing, files);
  }

  /**
   * Loads a checkpoint folder in HF layout; evaluation mode, as from_pretrained leaves models.
   * With no tensor engine chosen yet, selects the default one first (core's ensureBackend).
   */
  static async fromPretrained(dir: string, options: LoadOptions = {}): Promise<ClipModel> {
    const files = await readCheckpointFiles(dir);
    await ensureBackend();
    const root = new ClipRoot(files.config);
    try {
      const report = await loadClipWeights(root, dir, options);
      const processing = parseImageProcessing(files.preprocessor, files.config.vision_config.image_size, `${dir}/preprocessor_config.json`);
      return new ClipModel(root.eval(), files.config, processing, files.tokenizerFiles, files.preprocessor, report);
    } catch (error) {
      root.dispose();
      throw error;
    }
  }

  /** Normalised embeds and, given both modalities, the logits (CLIPModel.forward). */
  forward(inputs: ModelInputs): ClipOutputs & Record<string, tf.Tensor> {
    return this.root.forward(inputs);
  }

  /** visual_projection(post_layernorm(class token)): unnormalised [B, projection_dim]. */
  getImageFeatures(inputs: { pixelValues: tf.Tensor }): tf.Tensor {
    return this.root.imageFeatures(inputs.pixelValues);
  }

  /** text_projection(pooled eos state): unnormalised [B, projection_dim]. */
  getTextFeatures(inputs: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }): tf.Tensor {
    return this.root.textFeatures(inputs.inputIds, inputs.attentionMask);
  }

  /** Tokenizes `texts` into int32 tensors [B, T] with the checkpoint's tokenizer. */
  tokenize(texts: readonly string[], options?: EncodeOptions): { inputIds: tf.Tensor2D; attentionMask: tf.Tensor2D } {
    if (!this.tokenizer) {
      throw new MmftError('E_CHECKPOINT', 'this CLIP model has no tokenizer: its folder had no tokenizer.json', {
        hint: 'add tokenizer.json (transformers: AutoTokenizer.from_pretrained(...).save_pretrained(dir) writes it)',
      });
    }
    const { inputIds, attentionMask } = this.tokenizer.encode(texts, options);
    return { inputIds: tf.tensor2d(inputIds, undefined, 'int32'), attentionMask: tf.tensor2d(attentionMask, undefined, 'int32') };
  }

  /** config.json as save() writes it. */
  toConfigJson(): Record<string, unknown> {
    return hfConfigJson(this.config);
  }

  /** Writes the HF folder layout atomically (a model folder mmft wrote at `dir` is replaced as a whole). */
  async save(dir: string, options?: SaveOptions): Promise<void> {
    await saveClipCheckpoint(
      dir,
      {
        root: this.root,
        config: this.config,
        tokenizerFiles: this.tokenizerFiles,
        preprocessor: this.preprocessor,
        imageProcessing: this.imageProcessing,
      },
      options,
    );
  }

  dispose(): void {
    this.root.dispose();
  }
}
