// IdeficsForVisionText2Text (transformers src/transformers/models/idefics/modeling_idefics.py), the
// Hugging Face layout of Flamingo: a CLIP vision tower (vision_model) whose last hidden state
// (all positions, no post_layernorm) is optionally resampled by the Perceiver (perceiver.ts), and a
// Llama decoder with a gated cross-attention block (gated-cross-attention.ts) run before every
// cross_layer_interval-th decoder layer (IdeficsModel.forward: idx % interval == 0 uses block
// idx // interval). The parts come from the registry as `clip_vision_model` and `llama`; this tree
// is the Llama's own root with vision_model, perceiver_resampler and gated_cross_attn_layers
// registered under its `model`, so parameter names are IDEFICS's state-dict keys as they are.
// Building and loading are in ./idefics-build.ts and the per-call image state in ./idefics-images.ts;
// this file wires them into forward and generate.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
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
import { readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { loadCausalLmFolder, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import { ModuleList, type AnyModule } from '@mmft/core/nn';
import { parseIdeficsConfig, type IdeficsConfigInput, type IdeficsConfigJson } from './config';
import { IdeficsGatedCrossAttentionLayer } from './gated-cross-attention';
import { buildIdefics, ideficsImageProcessing, loadIdeficsWeights } from './idefics-build';
import { checkImageCheckpointing, imagesForCall, prepareIdeficsImages, type ImageState } from './idefics-images';
import { IdeficsPerceiverResampler } from './perceiver';
import { IDEFICS_TOWERS, imageTokenIdOf, saveIdeficsFolder } from './save';

/** preprocessor_config.json parsed, undefined when the folder has none. */
async function readPreprocessor(file: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (cause) {
    throw new MmftError('E_CHECKPOINT', `${file} is not valid JSON`, {
      cause,
      hint: "rewrite it, or remove it to use CLIP's mean and std",
    });
  }
}

/** Options of `IdeficsForVisionText2Text.fromConfig`. */
export interface IdeficsFromConfigOptions {
  readonly seed?: number;
  /** Folder holding the tokenizer files (with `<image>` and `<end_of_utterance>`). */
  readonly tokenizer?: string;
  /** Tokenizer files to use instead of the folder's (a composed model's, with `<image>` added). */
  readonly tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
  /** Image preprocessing instead of the fresh tower's (a composed model's: the CLIP folder's mean and std). */
  readonly imageProcessing?: ImageProcessing;
}

/** Outputs of `forward`: logits [B, T, V] and, with labels, the language model's loss. */
export type IdeficsOutputs = { readonly logits: tf.Tensor; readonly loss?: tf.Tensor };

/**
 * IDEFICS whose `root` parameters carry HF IdeficsForVisionText2Text's state-dict names
 * (model.vision_model.*, model.perceiver_resampler.*, model.gated_cross_attn_layers.N.*,
 * model.layers.*, model.embed_tokens, model.norm, lm_head).
 *
 * @example
 * const model = await IdeficsForVisionText2Text.fromPretrained('models/idefics-tiny', {}, architectureContext(registry));
 * const { logits } = model.forward({ inputIds, pixelValues }); // pixelValues [B, N, 3, S, S] or [ΣN, 3, S, S]
 */
export class IdeficsForVisionText2Text implements VisionLanguageModel {
  readonly modelType = 'idefics';
  readonly family = 'vision-to-llm' as const;
  readonly processor: ModelProcessor;
  /** Image positions each image occupies in the cross-attention keys (n_latents, or the tower's positions). */
  readonly imageSeqLen: number;
  /** `<image>`'s id (tokenizer, else config.image_token_id), undefined when neither says it. */
  readonly imageTokenId: number | undefined;
  /** The images of the call running now; the gated blocks read them. */
  private active: ImageState | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly root: AnyModule,
    readonly config: IdeficsConfigJson,
    readonly visionTower: VisionEncoderModel,
    readonly languageModel: CausalLanguageModel,
    readonly imageProcessing: ImageProcessing,
    private readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    /** What loading did: tensors skipped or tied. */
    readonly loadReport?: LoadCausalLmWeightsResult,
  ) {
    this.imageSeqLen = config.use_resampler
      ? config.perceiver_config.resampler_n_latents
      : (visionTower.imageSize / visionTower.patchSize) ** 2 + (visionTower.hasClassToken ? 1 : 0);
    const tokenizer: TextTokenizer | undefined = tokenizerFromFiles(new Map(tokenizerFiles)) ?? languageModel.tokenizer;
    this.imageTokenId = imageTokenIdOf(tokenizerFiles) ?? config.image_token_id;
    this.processor = {
      imageProcessing,
      tokenizer,
      chatTemplate: languageModel.processor.chatTemplate,
      towers: IDEFICS_TOWERS,
      // One `<image>` per image, kept as a token (IdeficsProcessor writes <fake_token_around_image><image><fake_token_around_image>).
      ...(this.imageTokenId === undefined
        ? {}
        : { imageTokens: { tokenId: this.imageTokenId, count: 1, placement: 'placeholder' as const } }),
    };
    this.installGatedBlocks();
  }

  get tokenizer(): TextTokenizer | undefined {
    return this.processor.tokenizer;
  }

  /** A freshly initialised IDEFICS (training mode) from a partial IdeficsConfig; parts through `context`. */
  static async fromConfig(config: IdeficsConfigInput, context: ArchitectureContext | undefined, options: IdeficsFromConfigOptions = {}) {
    const parsed = parseIdeficsConfig(config, 'config');
    const { root, vision, lm } = await buildIdefics(parsed, context, 'config', options.seed, options.tokenizer);
    try {
      const files = options.tokenizerFiles
        ? new Map(options.tokenizerFiles)
        : options.tokenizer
          ? await readTokenizerFiles(options.tokenizer)
          : new Map((lm as { tokenizerFiles?: ReadonlyMap<string, Uint8Array> }).tokenizerFiles ?? []);
      const processing = options.imageProcessing ?? ideficsImageProcessing(parsed, vision);
      return new IdeficsForVisionText2Text(root.train(), parsed, vision, lm, processing, files);
    } catch (error) {
      vision.dispose();
      lm.dispose();
      throw error;
    }
  }

  /**
   * Loads an IdeficsForVisionText2Text folder (evaluation mode). A missing, mis-shaped or (without
   * ignoreUnexpected) unknown tensor is an E_CHECKPOINT error naming it.
   */
  static async fromPretrained(dir: string, options: LoadOptions = {}, context?: ArchitectureContext): Promise<IdeficsForVisionText2Text> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'IDEFICS' });
    const source = join(dir, 'config.json');
    const config = parseIdeficsConfig(folder.config, source);
    const { root, vision, lm } = await buildIdefics(
      config,
      context,
      source,
      undefined,
      folder.tokenizerFiles.has('tokenizer.json') ? dir : undefined,
    );
    try {
      const report = loadIdeficsWeights(root, lm, config, folder, dir, options);
      const preprocessorFile = join(dir, 'preprocessor_config.json');
      const processing = ideficsImageProcessing(config, vision, await readPreprocessor(preprocessorFile), preprocessorFile);
      return new IdeficsForVisionText2Text(root.eval(), config, vision, lm, processing, folder.tokenizerFiles, report);
    } catch (error) {
      vision.dispose();
      lm.dispose();
      throw error;
    }
  }

  /**
   * Wraps every cross_layer_interval-th decoder layer so that its gated block runs first on the
   * same hidden state (IdeficsModel.forward's vblock). The wrap reads the images of the call in
   * flight, so the language model's own forward, KV cache and generate loop run unchanged.
   */
  private installGatedBlocks(): void {
    const decoder = this.root.child('model');
    const layers = decoder.child<ModuleList>('layers');
    const gated = decoder.child<ModuleList<IdeficsGatedCrossAttentionLayer>>('gated_cross_attn_layers');
    const interval = this.config.cross_layer_interval;
    for (let idx = 0; idx < layers.length; idx += interval) {
      const layer = layers.get(idx);
      const original = layer.forward.bind(layer) as (x: tf.Tensor, ...rest: unknown[]) => tf.Tensor;
      const block = idx / interval;
      (layer as { forward: (x: tf.Tensor, ...rest: unknown[]) => tf.Tensor }).forward = (x, ...rest) =>
        tf.tidy(() => original(gated.get(block).forward(x, imagesForCall(this.active, x)), ...rest));
    }
  }

  /**
   * The image hidden states [N, imageSeqLen, vision width] of images [N, 3, S, S]: the tower's last
   * hidden state (vision_model(...).last_hidden_state), resampled when use_resampler.
   */
  getImageFeatures(pixelValues: tf.Tensor): tf.Tensor {
    const [last] = this.visionTower.hiddenStates(pixelValues, [-1]);
    if (!this.config.use_resampler) return last!;
    try {
      return this.root.getModule<IdeficsPerceiverResampler>('model.perceiver_resampler').forward(last!);
    } finally {
      last!.dispose();
    }
  }

  /** Runs `body` with the images of `inputs` visible to the gated blocks, restoring what was there. */
  private withImages<R>(inputIds: tf.Tensor, pixelValues: tf.Tensor | undefined, body: () => R): R {
    if (pixelValues) checkImageCheckpointing(this.root);
    const state = pixelValues ? prepareIdeficsImages(this, inputIds, pixelValues) : undefined;
    const previous = this.active;
    this.active = state;
    try {
      return body();
    } finally {
      this.active = previous;
      if (state) tf.dispose([state.imageStates, state.mask, state.gate]);
    }
  }

  /** Logits (and with `labels` the loss) of the language model with the gated cross-attention on the images. */
  forward(inputs: ModelInputs): IdeficsOutputs {
    const { inputIds, pixelValues } = inputs;
    if (!inputIds)
      throw new MmftError('E_INPUT', 'IdeficsForVisionText2Text.forward needs inputIds [B, T] (with <image> where each image goes)');
    return this.withImages(inputIds, pixelValues, () => {
      const out = this.languageModel.forward({
        inputIds,
        attentionMask: inputs.attentionMask,
        labels: inputs.labels,
        positionIds: inputs.positionIds,
        numItemsInBatch: inputs.numItemsInBatch,
      });
      return out.loss ? { logits: out.logits, loss: out.loss } : { logits: out.logits };
    });
  }

  /** Waits for the decode before this one; the returned function lets the next one start. */
  private async turn(): Promise<() => void> {
    const before = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((resolve) => (release = resolve));
    await before;
    return release;
  }

  /**
   * The images of `inputs` held for the whole of an async decode (the gated blocks read them at
   * every step); decodes run one after another, and a synchronous forward in between restores them.
   */
  private async *decode(
    inputs: ModelInputs,
    method: string,
    run: (lmInputs: ModelInputs) => AsyncIterable<GenerationChunk> | Promise<GenerationResult>,
  ) {
    const { inputIds, pixelValues, attentionMask } = inputs;
    if (!inputIds)
      throw new MmftError('E_INPUT', `IdeficsForVisionText2Text.${method} needs inputIds [B, T] (with <image> where each image goes)`);
    const release = await this.turn();
    let state: ImageState | undefined;
    const previous = this.active;
    try {
      state = pixelValues ? prepareIdeficsImages(this, inputIds, pixelValues) : undefined;
      this.active = state;
      const out = run(attentionMask ? { inputIds, attentionMask } : { inputIds });
      if (Symbol.asyncIterator in out) yield* out as AsyncIterable<GenerationChunk>;
      else return await out;
    } finally {
      this.active = previous;
      if (state) tf.dispose([state.imageStates, state.mask, state.gate]);
      release();
    }
    return undefined;
  }

  /** Captions or answers through the language model's generate; the new tokens only. */
  async generate(inputs: ModelInputs, options: GenerationOptions = {}): Promise<GenerationResult> {
    const steps = this.decode(inputs, 'generate', (lmInputs) => this.languageModel.generate(lmInputs, options));
    let step = await steps.next();
    while (!step.done) step = await steps.next();
    return step.value as GenerationResult;
  }

  /** The same decoding as `generate`, one chunk per step. */
  async *generateStream(inputs: ModelInputs, options: GenerationOptions = {}): AsyncGenerator<GenerationChunk, void> {
    yield* this.decode(inputs, 'generateStream', (lmInputs) => this.languageModel.generateStream(lmInputs, options));
  }

  /** config.json as save_pretrained writes it. */
  toConfigJson(): Record<string, unknown> {
    return { ...this.config };
  }

  /** Writes the HF layout atomically: config.json, generation_config.json, model.safetensors, preprocessor_config.json, tokenizer files. */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    await saveIdeficsFolder(
      {
        root: this.root,
        languageModel: this.languageModel,
        imageProcessing: this.imageProcessing,
        tokenizerFiles: this.tokenizerFiles,
        config: this.toConfigJson(),
      },
      dir,
      options,
    );
  }

  dispose(): void {
    this.languageModel.dispose();
    this.visionTower.dispose();
    this.root.dispose();
  }
}
