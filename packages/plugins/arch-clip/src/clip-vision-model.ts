// ClipVisionModel: transformers' CLIPVisionModel (transformers/models/clip/modeling_clip.py) as a
// VisionEncoderModel, the vision tower bridges such as LLaVA build through the registry from a
// `vision_config` of model_type clip_vision_model. It reuses CLIPModel's vision modules
// (ClipVisionTransformer); loading a CLIPModel folder keeps its vision tower, as
// CLIPVisionModel.from_pretrained on a CLIP checkpoint does (CLIPVisionConfig reads
// config.vision_config; the text tower's weights are left unused).
import type * as tf from '@tensorflow/tfjs-core';
import {
  ensureBackend,
  MmftError,
  requireEngine,
  type ImageProcessing,
  type LoadOptions,
  type ModelInputs,
  type ModelProcessor,
  type SaveOptions,
  type VisionEncoderModel,
} from '@mmft/core';
import { hfConfigFields, readHfFolder } from '@mmft/core/hf';
import { join } from 'node:path';
import type { ClipVisionModelConfig, ClipVisionModelConfigInput } from './config';
import { loadClipWeights, type WeightsLoadReport } from './checkpoint/load-weights';
import { isFullClipConfig, parseClipVisionConfig } from './checkpoint/parse-vision-config';
import { parseImageProcessing } from './checkpoint/preprocessor';
import { hfVisionConfigJson, saveClipVisionCheckpoint } from './checkpoint/save-vision-checkpoint';
import { ClipVisionRoot } from './model/clip-vision-root';
import { initClipWeights } from './model/init-weights';

/** CLIPVisionModel parameter names by tower: one tower, every parameter. */
export const CLIP_VISION_TOWERS = { vision: ['vision_model.**'] } as const;

/** Tensors of a CLIPModel folder outside its vision tower: left out when it loads as CLIPVisionModel. */
const OTHER_CLIP_PARTS = /^(text_model\.|text_projection\.|visual_projection\.|logit_scale$)/;

/** Options of `ClipVisionModel.fromConfig`. */
export interface ClipVisionFromConfigOptions {
  /** Seed of the initialisation; the same seed gives bit-identical weights. */
  seed?: number;
  /** Image preprocessing; default CLIPImageProcessor's at image_size. */
  imageProcessing?: ImageProcessing;
}

/**
 * A CLIP vision tower whose `root` parameters carry CLIPVisionModel state-dict names (`vision_model.*`).
 *
 * @example
 * const tower = await ClipVisionModel.fromPretrained('models/clip-shapes-base'); // a CLIPModel folder: its vision side
 * const [penultimate] = tower.hiddenStates(pixelValues, [-2]);                    // [B, 1 + (S/p)², hidden]
 * await tower.save('out/clip-vision');                                            // CLIPVisionModel layout
 */
export class ClipVisionModel implements VisionEncoderModel {
  readonly modelType = 'clip_vision_model';
  readonly family = 'vision-encoder' as const;
  readonly hasClassToken = true;
  /** CLIPImageProcessor and the single tower `vision`. */
  readonly processor: ModelProcessor;

  private constructor(
    readonly root: ClipVisionRoot,
    readonly config: ClipVisionModelConfig,
    readonly imageProcessing: ImageProcessing,
    private readonly preprocessor?: Record<string, unknown>,
    /** What loading skipped (a CLIPModel's text tower, legacy buffers, ignored tensors); absent for fromConfig. */
    readonly loadReport?: WeightsLoadReport,
  ) {
    this.processor = { imageProcessing, towers: { vision: [...CLIP_VISION_TOWERS.vision] } };
  }

  get hiddenSize(): number {
    return this.config.hidden_size;
  }

  get numLayers(): number {
    return this.config.num_hidden_layers;
  }

  get imageSize(): number {
    return this.config.image_size;
  }

  get patchSize(): number {
    return this.config.patch_size;
  }

  /**
   * A freshly initialised CLIPVisionModel (HF's _init_weights, with vision_config's
   * initializer_factor as CLIPVisionModel reads it) from CLIPVisionConfig fields; training mode.
   * A CLIPModel config (model_type clip) gives its vision_config. Synchronous, so it cannot select
   * an engine: `await ensureBackend()` (from @mmft/core) first.
   */
  static fromConfig(
    config: ClipVisionModelConfigInput | Record<string, unknown> = {},
    options: ClipVisionFromConfigOptions = {},
  ): ClipVisionModel {
    const parsed = parseClipVisionConfig(hfConfigFields(config as Record<string, unknown>), 'config');
    requireEngine('ClipVisionModel.fromConfig');
    const root = new ClipVisionRoot(parsed, options.seed);
    initClipWeights(
      root,
      { vision_config: parsed, initializer_factor: parsed.initializer_factor, logit_scale_init_value: 0 },
      options.seed,
    );
    const processing = options.imageProcessing ?? parseImageProcessing(undefined, parsed.image_size);
    return new ClipVisionModel(root.train(), parsed, processing);
  }

  /**
   * Loads a CLIPVisionModel folder, or the vision tower of a CLIPModel folder (its text tower,
   * projections and logit_scale are listed in loadReport.skipped); evaluation mode. With no tensor
   * engine chosen yet, selects the default one first.
   */
  static async fromPretrained(dir: string, options: LoadOptions = {}): Promise<ClipVisionModel> {
    const folder = await readHfFolder(dir, { modelName: 'CLIP vision' });
    const configPath = join(dir, 'config.json');
    const config = parseClipVisionConfig(folder.config, configPath);
    const full = isFullClipConfig(folder.config as Record<string, unknown>);
    await ensureBackend();
    const root = new ClipVisionRoot(config);
    try {
      const report = await loadClipWeights(root, dir, {
        ignoreUnexpected: options.ignoreUnexpected,
        // A CLIPVisionModelWithProjection folder (also clip_vision_model) carries visual_projection.
        skip: (name) => OTHER_CLIP_PARTS.test(name) && (full || name.startsWith('visual_projection.')),
        modelName: 'CLIPVisionModel',
      });
      const processing = parseImageProcessing(folder.preprocessor, config.image_size, join(dir, 'preprocessor_config.json'));
      return new ClipVisionModel(root.eval(), config, processing, folder.preprocessor, report);
    } catch (error) {
      root.dispose();
      throw error;
    }
  }

  /** CLIPVisionModel.forward: lastHiddenState [B, N, D] and pooledOutput = post_layernorm(class token) [B, D]. */
  forward(inputs: ModelInputs): { lastHiddenState: tf.Tensor; pooledOutput: tf.Tensor } {
    if (!inputs.pixelValues) {
      throw new MmftError('E_INPUT', 'CLIPVisionModel forward needs pixelValues [B, 3, H, W]', {
        hint: 'preprocess images with model.processor.imageProcessing (resize, center crop, normalise)',
      });
    }
    const { lastHiddenState, pooledOutput } = this.root.forward(inputs.pixelValues);
    return { lastHiddenState, pooledOutput };
  }

  /** See VisionEncoderModel.hiddenStates: transformers' output_hidden_states, without running layers past the deepest asked. */
  hiddenStates(pixelValues: tf.Tensor, layers?: readonly number[]): tf.Tensor[] {
    return this.root.hiddenStates(pixelValues, layers);
  }

  /** config.json as save() writes it. */
  toConfigJson(): Record<string, unknown> {
    return hfVisionConfigJson(this.config);
  }

  /** Writes the CLIPVisionModel folder layout atomically (a model folder mmft wrote at `dir` is replaced as a whole). */
  async save(dir: string, options?: SaveOptions): Promise<void> {
    await saveClipVisionCheckpoint(dir, this.root, this.config, this.imageProcessing, this.preprocessor, options);
  }

  dispose(): void {
    this.root.dispose();
  }
}
