// Blip2ForConditionalGeneration: the programmatic face of this plugin (VisionLanguageModel, family
// 'vision-to-llm'), as transformers writes it (src/transformers/models/blip_2/modeling_blip_2.py):
// pixels → Blip2VisionModel → Q-Former over the query tokens → language_projection → the language
// model's input embeddings. The language model is any causal LM the registry resolves from
// text_config.model_type (AutoModelForCausalLM.from_config), never imported here.
//
// Two input layouts, as transformers has had them:
// - current (config image_token_index set; 4.45+): the text holds num_query_tokens image tokens
//   (Blip2Processor writes them in front) whose embeddings the projected queries replace in order
//   (get_placeholder_mask + masked_scatter); the sequence length is unchanged.
// - legacy (image_token_index null; ≤ 4.54's fallback): the queries are prepended to the text
//   embeddings and the attention mask gains num_query_tokens ones.
// Labels follow forward's loss: logits[:, -L:] shifted against labels[:, 1:] (L = labels length),
// i.e. the language model's causal loss on [−100 × (N − L + 1), labels[:, 1:]]; image-token
// positions are −100 in either layout. generate() hands the language model what
// Blip2ForConditionalGeneration.generate does (≥ 4.55: inputs_embeds, attention_mask and input_ids
// [image × Q, bos] when no prompt is given; legacy: inputs_embeds and the widened mask only) and
// returns the new tokens only.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkOutputFolder,
  isCausalLanguageModel,
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
  type VisionLanguageModel,
} from '@mmft/core';
import { hfJson, parseJsonFile, readOptionalFile, readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { writeFileDurable, writeFolder, writeSafetensors, type SafetensorsTensor } from '@mmft/core/io';
import {
  causalLmTensors,
  loadCausalLmFolder,
  loadCausalLmWeights,
  TRANSFORMERS_VERSION,
  type LoadCausalLmWeightsResult,
} from '@mmft/core/lm';
import type { Blip2Config, Blip2ConfigInput } from './config';
import { parseBlip2Config } from './checkpoint/parse-config';
import { Blip2Root } from './model/blip2-root';
import { initBlip2Weights } from './model/init-weights';
import { blipImageProcessorJson, blip2Processor, parseBlipImageProcessing } from './processor';

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

/** What the language model receives for one forward or generate call; the caller disposes `owned`. */
interface LanguageInputs {
  readonly inputsEmbeds: tf.Tensor;
  readonly attentionMask: tf.Tensor;
  readonly inputIds?: tf.Tensor;
  readonly labels?: tf.Tensor;
  readonly owned: tf.Tensor[];
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;
const IGNORE = -100;

/** Buffers older checkpoints carry and transformers drops on load (`_keys_to_ignore_on_load_*`). */
const LEGACY_BUFFERS = [
  /^qformer\.embeddings\.position_ids$/,
  /^language_model\.(.+\.)?rotary_emb\.inv_freq$/,
  /^language_model\.(.+\.)?attn\.(masked_)?bias$/,
];

/**
 * 4.26-era files store the vision attention's bias as `q_bias` / `v_bias`; current transformers
 * stores `qkv.bias` = cat(q_bias, zeros, v_bias). Fuses the former into the latter.
 */
export function fuseLegacyQkvBias(tensors: Map<string, SafetensorsTensor>): string[] {
  const fused: string[] = [];
  for (const name of [...tensors.keys()]) {
    const match = /^(vision_model\.encoder\.layers\.\d+\.self_attn)\.q_bias$/.exec(name);
    if (!match) continue;
    const v = tensors.get(`${match[1]}.v_bias`);
    const q = tensors.get(name)!;
    if (!v || tensors.has(`${match[1]}.qkv.bias`)) continue;
    const d = q.shape[0]!;
    const data = new Float32Array(3 * d);
    data.set(q.data as Float32Array, 0);
    data.set(v.data as Float32Array, 2 * d);
    tensors.set(`${match[1]}.qkv.bias`, { ...q, shape: [3 * d], data } as SafetensorsTensor);
    tensors.delete(name);
    tensors.delete(`${match[1]}.v_bias`);
    fused.push(`${match[1]}.qkv.bias`);
  }
  return fused;
}

/** The language model's ties (CausalLMBase.tied), else every extra name of a shared variable tied to the first. */
function tiesOf(lm: CausalLanguageModel): Record<string, string> {
  const declared = (lm as { tied?: Readonly<Record<string, string>> }).tied;
  if (declared) return { ...declared };
  const first = new Map<unknown, string>();
  const ties: Record<string, string> = {};
  for (const [name, variable] of lm.root.stateDict()) {
    const source = first.get(variable);
    if (source) ties[name] = source;
    else first.set(variable, name);
  }
  return ties;
}

/** Builds the language model from text_config through the plugin that provides its model_type. */
async function buildLanguageModel(
  config: Blip2Config,
  context: ArchitectureContext | undefined,
  section: { seed?: number; tokenizer?: string },
  source: string,
): Promise<CausalLanguageModel> {
  if (!context) {
    throw new MmftError(
      'E_CONFIG',
      `${source}: BLIP-2 builds its language model (text_config.model_type "${config.text_config.model_type}") through the plugin registry, and none was given`,
      {
        hint: 'load it with AutoModel.fromPretrained(dir, { plugins }) or pass architectureContext(registry) as the context argument',
      },
    );
  }
  const provider = context.resolveModelType(config.text_config.model_type);
  const model = await provider.fromConfig({ config: config.text_config, ...section }, context);
  if (!isCausalLanguageModel(model)) {
    model.dispose();
    throw new MmftError(
      'E_CONFIG',
      `${source}: text_config.model_type "${config.text_config.model_type}" is built by "${provider.id}" (family ${provider.family}), not a causal language model`,
      { hint: 'BLIP-2 here runs decoder-only language models (OPT, GPT-2, Llama, ...); encoder-decoder ones (T5) are not supported' },
    );
  }
  return model;
}

/** Width of the language model's input embeddings (language_projection's output). */
function embeddingWidth(lm: CausalLanguageModel): number {
  return tf.tidy(() => lm.embedTokens(tf.zeros([1, 1], 'int32')).shape[2]!);
}

/**
 * BLIP-2 whose `root` parameters carry HF Blip2ForConditionalGeneration state-dict names.
 *
 * @example
 * const model = await Blip2ForConditionalGeneration.fromPretrained('models/blip2', {}, architectureContext(registry));
 * const { sequences, texts } = await model.generate({ pixelValues }, { maxNewTokens: 20 });
 */
export class Blip2ForConditionalGeneration implements VisionLanguageModel {
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
      const tied = Object.fromEntries(Object.entries(tiesOf(lm)).map(([k, v]) => [`language_model.${k}`, `language_model.${v}`]));
      const report = loadCausalLmWeights(root, tensors, {
        tied,
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
    const prepared = this.languageInputs(pixelValues, inputIds, inputs.attentionMask, inputs.labels);
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
   * Captions or answers: Blip2ForConditionalGeneration.generate. Without `inputIds` the prompt is
   * bos alone (current layout: image tokens then bos). Returns the new tokens only.
   */
  async generate(inputs: ModelInputs, options: GenerationOptions = {}): Promise<GenerationResult> {
    const prepared = this.generationInputs(inputs, 'generate');
    try {
      return await this.languageModel.generate(prepared.inputs, options);
    } finally {
      tf.dispose(prepared.owned);
    }
  }

  /** The same decoding as `generate`, one chunk per step (the language model's generateStream; `mmft generate` prints these). */
  async *generateStream(inputs: ModelInputs, options: GenerationOptions = {}): AsyncGenerator<GenerationChunk, void> {
    const prepared = this.generationInputs(inputs, 'generateStream');
    try {
      yield* this.languageModel.generateStream(prepared.inputs, options);
    } finally {
      tf.dispose(prepared.owned);
    }
  }

  /** What generate hands the language model (see the file comment); the caller disposes `owned`. */
  private generationInputs(inputs: ModelInputs, method: string): { inputs: ModelInputs; owned: tf.Tensor[] } {
    const { pixelValues } = inputs;
    if (!pixelValues) throw new MmftError('E_INPUT', `Blip2ForConditionalGeneration.${method} needs pixelValues [B, 3, S, S]`);
    const batch = pixelValues.shape[0]!;
    const owned: tf.Tensor[] = [];
    try {
      let inputIds = inputs.inputIds;
      if (!inputIds) {
        const bos = this.bosTokenId();
        const row = this.expandsImageTokens ? [...new Array<number>(this.numQueryTokens).fill(this.config.image_token_index!), bos] : [bos];
        inputIds = tf.tensor2d(
          Array.from({ length: batch }, () => row),
          [batch, row.length],
          'int32',
        );
        owned.push(inputIds);
      }
      const prepared = this.languageInputs(pixelValues, inputIds, inputs.attentionMask, undefined);
      owned.push(...prepared.owned);
      return {
        inputs: prepared.inputIds
          ? { inputIds: prepared.inputIds, inputsEmbeds: prepared.inputsEmbeds, attentionMask: prepared.attentionMask }
          : { inputsEmbeds: prepared.inputsEmbeds, attentionMask: prepared.attentionMask },
        owned,
      };
    } catch (error) {
      tf.dispose(owned);
      throw error;
    }
  }

  private bosTokenId(): number {
    const bos = this.languageModel.config.bos_token_id ?? this.config.text_config.bos_token_id;
    if (typeof bos !== 'number') {
      throw new MmftError('E_CONFIG', 'generate without inputIds starts from bos, and text_config has no bos_token_id', {
        hint: 'pass inputIds (a prompt), or set text_config.bos_token_id',
      });
    }
    return bos;
  }

  /** The language model's inputs for pixels + ids in this config's layout (see the file comment). */
  private languageInputs(
    pixelValues: tf.Tensor,
    inputIds: tf.Tensor,
    mask: tf.Tensor | undefined,
    labels: tf.Tensor | undefined,
  ): LanguageInputs {
    const q = this.numQueryTokens;
    const batch = pixelValues.shape[0]!;
    if (inputIds.rank !== 2 || inputIds.shape[0] !== batch) {
      throw new MmftError('E_SHAPE', `inputIds must be [${batch}, T] (one row per image), got ${shapeOf(inputIds)}`);
    }
    const t = inputIds.shape[1]!;
    if (mask && (mask.rank !== 2 || mask.shape[0] !== batch || mask.shape[1] !== t)) {
      throw new MmftError('E_SHAPE', `attentionMask must be [${batch}, ${t}] like inputIds, got ${shapeOf(mask)}`);
    }
    const ids = inputIds.arraySync() as number[][];
    const owned: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(x: T): T => (owned.push(x), x);
    try {
      const image = keep(this.root.imageFeatures(pixelValues)); // [B, Q, D]
      const d = image.shape[2]!;
      const text = keep(this.languageModel.embedTokens(inputIds));
      const imageToken = this.config.image_token_index;
      let inputsEmbeds: tf.Tensor;
      let attentionMask: tf.Tensor;
      const imagePositions: number[][] = ids.map(() => []);
      if (imageToken !== null) {
        // masked_scatter in order: the k-th image token of row b takes query k of image b.
        const gatherIndex = new Int32Array(batch * t);
        const isImage = new Uint8Array(batch * t);
        ids.forEach((row, b) => {
          row.forEach((id, p) => {
            if (id !== imageToken) return;
            const k = imagePositions[b]!.length;
            imagePositions[b]!.push(p);
            if (k < q) {
              gatherIndex[b * t + p] = b * q + k;
              isImage[b * t + p] = 1;
            }
          });
          if (imagePositions[b]!.length !== q) {
            throw new MmftError(
              'E_INPUT',
              `row ${b} of inputIds has ${imagePositions[b]!.length} image tokens (id ${imageToken}); this BLIP-2 needs exactly num_query_tokens = ${q} per row`,
              { hint: 'tokenize with the model processor (withImageTokens), which writes them in front of the text' },
            );
          }
        });
        inputsEmbeds = keep(
          tf.tidy(() => {
            const scattered = tf.reshape(tf.gather(tf.reshape(image, [batch * q, d]), tf.tensor1d(gatherIndex, 'int32')), [batch, t, d]);
            const where = tf.tile(tf.reshape(tf.tensor1d(isImage, 'bool'), [batch, t, 1]), [1, 1, d]);
            return tf.where(where, scattered, text);
          }),
        );
        attentionMask = mask ?? keep(tf.ones([batch, t], 'int32'));
      } else {
        inputsEmbeds = keep(tf.concat([image, text], 1));
        attentionMask = keep(
          tf.tidy(() => tf.concat([tf.ones([batch, q], 'int32'), mask ? tf.cast(mask, 'int32') : tf.ones([batch, t], 'int32')], 1)),
        );
        ids.forEach((_, b) => imagePositions[b]!.push(...Array.from({ length: q }, (_, k) => k)));
      }
      const n = inputsEmbeds.shape[1]!;
      let fullLabels: tf.Tensor | undefined;
      if (labels) {
        if (labels.rank !== 2 || labels.shape[0] !== batch || labels.shape[1]! > n || labels.shape[1]! < 1) {
          throw new MmftError(
            'E_SHAPE',
            `labels must be [${batch}, L] with 1 ≤ L ≤ ${n} (the language model's sequence), got ${shapeOf(labels)}`,
            {
              hint: this.expandsImageTokens
                ? 'labels cover inputIds (image tokens included)'
                : 'legacy layout: labels cover the text (inputIds) only',
            },
          );
        }
        const l = labels.shape[1]!;
        const given = labels.arraySync() as number[][];
        // forward's loss: logits[:, -L:] against labels[:, 1:], i.e. label j sits at position N − L + j.
        const rows = given.map((row, b) => {
          const full = new Array<number>(n).fill(IGNORE);
          for (let j = 1; j < l; j++) full[n - l + j] = row[j]!;
          for (const p of imagePositions[b]!) full[p] = IGNORE;
          return full;
        });
        fullLabels = keep(tf.tensor2d(rows, [batch, n], 'int32'));
      }
      return {
        inputsEmbeds,
        attentionMask,
        inputIds: imageToken !== null ? inputIds : undefined,
        labels: fullLabels,
        owned,
      };
    } catch (error) {
      tf.dispose(owned);
      throw error;
    }
  }

  /** config.json as save_pretrained writes it. */
  toConfigJson(): Record<string, unknown> {
    const { vision_config, qformer_config, text_config, ...rest } = this.config;
    return {
      ...rest,
      architectures: ['Blip2ForConditionalGeneration'],
      model_type: 'blip-2',
      vision_config: { ...vision_config, model_type: 'blip_2_vision_model' },
      qformer_config: { ...qformer_config, model_type: 'blip_2_qformer' },
      text_config: { ...text_config },
      use_decoder_only_language_model: true,
      torch_dtype: 'float32',
      transformers_version: TRANSFORMERS_VERSION,
    };
  }

  /**
   * Writes the Hugging Face layout atomically: config.json, generation_config.json,
   * model.safetensors (the language model's tensors under `language_model.`, tied copies left out),
   * preprocessor_config.json, processor_config.json (current layout) and the tokenizer files.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
    const tied = Object.fromEntries(
      Object.entries(tiesOf(this.languageModel)).map(([k, v]) => [`language_model.${k}`, `language_model.${v}`]),
    );
    const weights = await causalLmTensors(this.root, tied);
    const generation = this.folderGenerationConfig ?? this.languageModel.generationConfig;
    await writeFolder(
      dir,
      async (staged) => {
        await writeFileDurable(join(staged, 'config.json'), hfJson(this.toConfigJson()));
        if (Object.keys(generation).length > 0) await writeFileDurable(join(staged, 'generation_config.json'), hfJson(generation));
        await writeSafetensors(join(staged, 'model.safetensors'), weights, { format: 'pt' });
        await writeFileDurable(
          join(staged, 'preprocessor_config.json'),
          hfJson(this.preprocessor ?? blipImageProcessorJson(this.imageProcessing)),
        );
        if (this.expandsImageTokens) {
          await writeFileDurable(
            join(staged, 'processor_config.json'),
            hfJson({ num_query_tokens: this.numQueryTokens, processor_class: 'Blip2Processor' }),
          );
        }
        for (const [name, bytes] of this.tokenizerFiles) await writeFileDurable(join(staged, name), bytes);
      },
      { kind: 'model' },
    );
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
