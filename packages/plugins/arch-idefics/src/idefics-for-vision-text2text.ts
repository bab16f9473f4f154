// IdeficsForVisionText2Text (transformers src/transformers/models/idefics/modeling_idefics.py), the
// Hugging Face layout of Flamingo: a CLIP vision tower (vision_model) whose last hidden state
// (all positions, no post_layernorm) is optionally resampled by the Perceiver (perceiver.ts), and a
// Llama decoder with a gated cross-attention block (gated-cross-attention.ts) run before every
// cross_layer_interval-th decoder layer (IdeficsModel.forward: idx % interval == 0 uses block
// idx // interval). The parts come from the registry as `clip_vision_model` and `llama`; this tree
// is the Llama's own root with vision_model, perceiver_resampler and gated_cross_attn_layers
// registered under its `model`, so parameter names are IDEFICS's state-dict keys as they are.
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
import { readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { loadCausalLmFolder, loadCausalLmWeights, type LoadCausalLmWeightsResult } from '@mmft/core/lm';
import { deriveSeed, gradientCheckpointingOf, ModuleList, type AnyModule } from '@mmft/core/nn';
import { parseIdeficsConfig, textConfigOf, visionConfigOf, type IdeficsConfigInput, type IdeficsConfigJson } from './config';
import { IdeficsGatedCrossAttentionLayer, type CrossAttentionInputs } from './gated-cross-attention';
import { joinDecoupled } from './decoupled';
import { crossAttentionMask, imageIndexPerToken } from './image-attention-mask';
import { IdeficsPerceiverResampler } from './perceiver';
import { IDEFICS_TOWERS, imageTokenIdOf, saveIdeficsFolder } from './save';

/** Options of `IdeficsForVisionText2Text.fromConfig`. */
export interface IdeficsFromConfigOptions {
  readonly seed?: number;
  /** Folder holding the tokenizer files (with `<image>` and `<end_of_utterance>`). */
  readonly tokenizer?: string;
}

/** Outputs of `forward`: logits [B, T, V] and, with labels, the language model's loss. */
export type IdeficsOutputs = { readonly logits: tf.Tensor; readonly loss?: tf.Tensor };

/** The images of one call, prepared once and read by every gated block. */
interface ImageState {
  readonly imageStates: tf.Tensor;
  /** Additive [B, 1, T, S] and gate [B, T, 1] for the call's T tokens. */
  readonly mask: tf.Tensor;
  readonly gate: tf.Tensor;
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
const IGNORE_ON_LOAD = [/\.rotary_emb\.inv_freq$/, /\.position_ids$/];

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

  /** The vision tower and the Llama through `context`, joined into one tree (IdeficsModel.__init__). */
  private static async build(
    config: IdeficsConfigJson,
    context: ArchitectureContext | undefined,
    source: string,
    seed?: number,
    tokenizer?: string,
  ) {
    if (!context) {
      throw new MmftError(
        'E_CONFIG',
        `${source}: IDEFICS builds its vision tower and language model through the plugin registry, and none was given`,
        {
          hint: 'load it with AutoModel.fromPretrained(dir, { plugins }) or pass architectureContext(registry) as the context argument',
        },
      );
    }
    const parts: VisionLanguageModel[] = [];
    try {
      const seedOf = (salt: string) => (seed === undefined ? {} : { seed: deriveSeed(seed, salt) });
      const vision = await context
        .resolveModelType('clip_vision_model')
        .fromConfig({ config: visionConfigOf(config), ...seedOf('vision') }, context);
      parts.push(vision);
      if (!isVisionEncoderModel(vision)) throw new MmftError('E_CONFIG', `${source}: clip_vision_model is not built as a vision encoder`);
      const lm = await context
        .resolveModelType('llama')
        .fromConfig({ config: textConfigOf(config), ...seedOf('text'), ...(tokenizer ? { tokenizer } : {}) }, context);
      parts.push(lm);
      if (!isCausalLanguageModel(lm)) throw new MmftError('E_CONFIG', `${source}: llama is not built as a causal language model`);
      const root = lm.root;
      const decoder = root.child('model');
      const layers = decoder.child('layers');
      if (!(layers instanceof ModuleList)) {
        throw new MmftError('E_CONFIG', `${source}: the language model has no model.layers list to put the gated cross-attention before`);
      }
      decoder.registerModule('vision_model', vision.root.child('vision_model'));
      if (config.use_resampler) {
        const p = config.perceiver_config;
        decoder.registerModule(
          'perceiver_resampler',
          new IdeficsPerceiverResampler({
            embedDim: config.vision_config.embed_dim,
            depth: p.resampler_depth,
            numHeads: p.resampler_n_heads,
            headDim: p.resampler_head_dim,
            numLatents: p.resampler_n_latents,
            seed: deriveSeed(seed, 'perceiver_resampler'),
          }),
        );
      }
      const gated = new ModuleList();
      for (let j = 0; j < config.num_hidden_layers / config.cross_layer_interval; j++) {
        gated.append(new IdeficsGatedCrossAttentionLayer(config, deriveSeed(seed, `gated_cross_attn_layers.${j}`)));
      }
      decoder.registerModule('gated_cross_attn_layers', gated);
      return { root, vision, lm };
    } catch (error) {
      for (const part of parts) part.dispose();
      throw error;
    }
  }

  /** Image preprocessing: IdeficsImageProcessor resizes to image_size square with CLIP's mean and std. */
  private static processing(config: IdeficsConfigJson, vision: VisionEncoderModel): ImageProcessing {
    const size = config.vision_config.image_size;
    const own = vision.processor.imageProcessing;
    return {
      size,
      cropSize: size,
      mean: own?.mean ?? [0.48145466, 0.4578275, 0.40821073],
      std: own?.std ?? [0.26862954, 0.26130258, 0.27577711],
    };
  }

  /** A freshly initialised IDEFICS (training mode) from a partial IdeficsConfig; parts through `context`. */
  static async fromConfig(config: IdeficsConfigInput, context: ArchitectureContext | undefined, options: IdeficsFromConfigOptions = {}) {
    const parsed = parseIdeficsConfig(config, 'config');
    const { root, vision, lm } = await IdeficsForVisionText2Text.build(parsed, context, 'config', options.seed, options.tokenizer);
    try {
      const files = options.tokenizer
        ? await readTokenizerFiles(options.tokenizer)
        : new Map((lm as { tokenizerFiles?: ReadonlyMap<string, Uint8Array> }).tokenizerFiles ?? []);
      return new IdeficsForVisionText2Text(root.train(), parsed, vision, lm, IdeficsForVisionText2Text.processing(parsed, vision), files);
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
    const { root, vision, lm } = await IdeficsForVisionText2Text.build(
      config,
      context,
      source,
      undefined,
      folder.tokenizerFiles.has('tokenizer.json') ? dir : undefined,
    );
    try {
      const tensors = joinDecoupled(folder.tensors, config.additional_vocab_size, folder.files[0] ?? dir);
      const report = loadCausalLmWeights(root, tensors, {
        tied: { ...((lm as { tied?: Readonly<Record<string, string>> }).tied ?? {}) },
        ignoreUnexpected: options.ignoreUnexpected,
        ignorePatterns: IGNORE_ON_LOAD,
        tensorFiles: folder.tensorFiles,
        source: folder.files.length === 1 ? folder.files[0] : join(dir, 'model.safetensors.index.json'),
        modelName: 'IdeficsForVisionText2Text',
      });
      const processing = IdeficsForVisionText2Text.processing(config, vision);
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
        tf.tidy(() => original(gated.get(block).forward(x, this.imagesFor(x)), ...rest));
    }
  }

  /**
   * The images for a call on `x` [B', T', D]: the prepared mask when T' is the prompt's length;
   * later tokens see what the prompt's last token sees (IdeficsForVisionText2Text's
   * _update_model_kwargs_for_generation repeats the last row); rows repeated for beams or
   * num_return_sequences (repeat_interleave) take their prompt row's images.
   */
  private imagesFor(x: tf.Tensor): CrossAttentionInputs | undefined {
    const state = this.active;
    if (!state) return undefined;
    const [batch, length] = x.shape as [number, number, number];
    const [b0, , t0] = state.mask.shape as [number, number, number, number];
    let { imageStates, mask, gate } = state;
    if (length !== t0) {
      const lastMask = tf.slice(mask, [0, 0, t0 - 1, 0], [-1, -1, 1, -1]);
      const lastGate = tf.slice(gate, [0, t0 - 1, 0], [-1, 1, -1]);
      if (length < t0) {
        mask = tf.tile(lastMask, [1, 1, length, 1]);
        gate = tf.tile(lastGate, [1, length, 1]);
      } else {
        mask = tf.concat([mask, tf.tile(lastMask, [1, 1, length - t0, 1])], 2);
        gate = tf.concat([gate, tf.tile(lastGate, [1, length - t0, 1])], 1);
      }
    }
    if (batch !== b0) {
      if (batch % b0 !== 0)
        throw new MmftError('E_SHAPE', `IDEFICS: a batch of ${batch} rows cannot repeat the ${b0} rows the images were given for`);
      const rows = tf.tensor1d(
        Array.from({ length: batch }, (_, i) => Math.floor(i / (batch / b0))),
        'int32',
      );
      imageStates = tf.gather(imageStates, rows);
      mask = tf.gather(mask, rows);
      gate = tf.gather(gate, rows);
    }
    return { imageStates, mask, gate };
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

  /**
   * The images of a call: features of every image, per row its images in order (zeros where a row
   * has fewer than the most), and the per-token mask. `pixelValues` is [B, N, 3, S, S] (IDEFICS's
   * layout: row b's images) or [ΣN, 3, S, S] (the images row by row, as many per row as it has
   * `<image>` tokens). A row with more `<image>` tokens than images is an E_INPUT error.
   */
  private prepareImages(inputIds: tf.Tensor, pixelValues: tf.Tensor): ImageState {
    if (this.imageTokenId === undefined) {
      throw new MmftError('E_CONFIG', 'IDEFICS: images were given but <image> has no id', {
        hint: 'use a tokenizer with an <image> token, or set image_token_id in config.json',
      });
    }
    if (inputIds.rank !== 2) throw new MmftError('E_SHAPE', `IDEFICS: inputIds must be [B, T], got ${shapeOf(inputIds)}`);
    const ids = inputIds.arraySync() as number[][];
    const perRow = ids.map((row) => row.filter((id) => id === this.imageTokenId).length);
    const batch = ids.length;
    let counts: number[];
    let flat: tf.Tensor;
    if (pixelValues.rank === 5) {
      if (pixelValues.shape[0] !== batch)
        throw new MmftError('E_SHAPE', `IDEFICS: pixelValues ${shapeOf(pixelValues)} has ${pixelValues.shape[0]} rows, inputIds ${batch}`);
      const n = pixelValues.shape[1]!;
      counts = ids.map(() => n);
      flat = tf.reshape(pixelValues, [batch * n, ...pixelValues.shape.slice(2)]);
    } else if (pixelValues.rank === 4) {
      counts = perRow;
      const total = perRow.reduce((a, b) => a + b, 0);
      if (total !== pixelValues.shape[0]) {
        throw new MmftError(
          'E_INPUT',
          `IDEFICS: inputIds hold ${total} <image> tokens (per row ${perRow.join(', ')}) but pixelValues has ${pixelValues.shape[0]} images`,
          {
            hint: 'give one image per <image> token, row by row in reading order, or pixelValues [B, N, 3, S, S]',
          },
        );
      }
      flat = pixelValues;
    } else {
      throw new MmftError('E_SHAPE', `IDEFICS: pixelValues must be [B, N, 3, S, S] or [N, 3, S, S], got ${shapeOf(pixelValues)}`);
    }
    perRow.forEach((count, row) => {
      if (count > counts[row]!)
        throw new MmftError('E_INPUT', `IDEFICS: row ${row} has ${count} <image> tokens but ${counts[row]} images`, {
          hint: 'give one image per <image> token',
        });
    });
    const maxImages = Math.max(1, ...counts);
    const seq = this.imageSeqLen;
    const imageStates = tf.tidy(() => {
      const features = flat.shape[0]! > 0 ? this.getImageFeatures(flat) : tf.zeros([0, seq, this.config.vision_config.embed_dim]);
      const width = features.shape[2]!;
      // Row b's slot k takes image offset_b + k; a missing slot takes the zero block at index total.
      const padded = tf.concat([features, tf.zeros([1, seq, width])], 0);
      const index: number[] = [];
      let offset = 0;
      for (const count of counts) {
        for (let k = 0; k < maxImages; k++) index.push(k < count ? offset + k : features.shape[0]!);
        offset += count;
      }
      return tf.reshape(tf.gather(padded, tf.tensor1d(index, 'int32')), [batch, maxImages * seq, width]);
    });
    if (flat !== pixelValues) flat.dispose();
    const indices = imageIndexPerToken(ids, this.imageTokenId, this.config.eos_token_id);
    const { mask, gate } = crossAttentionMask(indices, maxImages, seq);
    return { imageStates, mask, gate };
  }

  /**
   * Refuses images under gradient checkpointing while a gradient is being recorded: a checkpointed
   * decoder layer recomputes its block after this forward has returned, and the image states the
   * gated block reads are neither its inputs nor alive then (packages/core/src/nn/checkpoint.ts).
   */
  private checkCheckpointing(): void {
    const layers = this.root.getModule<ModuleList>('model.layers');
    if (tf.engine().isTapeOn() && gradientCheckpointingOf(layers) > 0) {
      throw new MmftError('E_CONFIG', 'IDEFICS: gradient checkpointing of the decoder layers is not supported with images yet', {
        hint: 'train without gradient_checkpointing (training.gradient_checkpointing: false)',
      });
    }
  }

  /** Runs `body` with the images of `inputs` visible to the gated blocks, restoring what was there. */
  private withImages<R>(inputIds: tf.Tensor, pixelValues: tf.Tensor | undefined, body: () => R): R {
    if (pixelValues) this.checkCheckpointing();
    const state = pixelValues ? this.prepareImages(inputIds, pixelValues) : undefined;
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
      state = pixelValues ? this.prepareImages(inputIds, pixelValues) : undefined;
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
