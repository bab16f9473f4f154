// Blip2ForImageTextRetrieval: BLIP-2's Q-Former with its retrieval heads as transformers writes it
// (src/transformers/models/blip_2/modeling_blip_2.py: Blip2ForImageTextRetrieval, Blip2TextEmbeddings)
// and as LAVIS' stage 1 trains it (lavis/models/blip2_models/blip2_qformer.py, Blip2Qformer): the
// image path (vision_model → queries cross-attending to it → vision_projection), the text path (the
// same Q-Former layers over text alone → text_projection of the first token), the matching head
// (queries and text in one bidirectional pass → itm_head averaged over the queries) and, as the
// mmft extra, the image-grounded text decoder (queries and text under LAVIS' UniLM mask → the
// BERT LM head tied to the word embeddings). It implements core's QueryTransformerModel, so a
// stage-1 objective trains it without importing this plugin.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  checkOutputFolder,
  MmftError,
  type ImageProcessing,
  type LoadOptions,
  type ModelInputs,
  type ModelProcessor,
  type ModelTowers,
  type QueryImageOutputs,
  type QueryTransformerModel,
  type SaveOptions,
  type TextTokenizer,
} from '@mmft/core';
import { hfJson, parseJsonFile, readOptionalFile, readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import { writeFileDurable, writeFolder, writeSafetensors, type SafetensorsTensor } from '@mmft/core/io';
import { causalLmTensors, loadCausalLmFolder, loadCausalLmWeights, TRANSFORMERS_VERSION } from '@mmft/core/lm';
import { deriveSeed } from '@mmft/core/nn';
import { fuseLegacyQkvBias } from '../blip2-for-conditional-generation';
import type { Blip2Config, Blip2ConfigInput } from '../config';
import { initBlip2Weights } from '../model/init-weights';
import { blipImageProcessorJson, parseBlipImageProcessing } from '../processor';
import { parseBlip2RetrievalConfig } from './parse-retrieval-config';
import { Blip2RetrievalRoot, INITIAL_TEMPERATURE, isStageOneExtra } from './retrieval-root';

/** HF Blip2ForImageTextRetrieval parameter names (and the stage-1 extras) by tower; every parameter is in exactly one. */
export const BLIP2_RETRIEVAL_TOWERS: ModelTowers = {
  vision: ['vision_model.**'],
  qformer: ['qformer.**', 'query_tokens', 'embeddings.**'],
  heads: ['vision_projection.**', 'text_projection.**', 'itm_head.**', 'qformer_lm_head.**', 'temp'],
};

/** Options of `Blip2ForImageTextRetrieval.fromConfig`. */
export interface Blip2RetrievalFromConfigOptions {
  /** Seed of the initialisation. */
  seed?: number;
  /** Folder holding the Q-Former's tokenizer files (a BERT tokenizer; tokenizer.json, ...). */
  tokenizer?: string;
  /** Image preprocessing; default BlipImageProcessor's at vision_config.image_size. */
  imageProcessing?: ImageProcessing;
}

/** `forward`'s inputs: ModelInputs plus HF's `use_image_text_matching_head`. */
export type Blip2RetrievalInputs = ModelInputs & {
  /** true: ITM logits; false (default): ITC cosine similarities, as HF's forward. */
  readonly useImageTextMatchingHead?: boolean;
};

/** What loading did besides assigning tensors. */
export interface Blip2RetrievalLoadReport {
  /** File tensors the model does not know (only with ignoreUnexpected). */
  readonly unexpected: string[];
  /** Vision attention biases fused from 4.26-era q_bias / v_bias. */
  readonly fusedQkvBias: string[];
  /**
   * Stage-1 extras absent from the folder (a Hugging Face retrieval checkpoint has neither `temp`
   * nor `qformer_lm_head.*`), freshly initialised, as transformers warns "newly initialized".
   */
  readonly newlyInitialized: string[];
}

/** Buffers older files carry and transformers drops on load. */
const LEGACY_BUFFERS = [/^(qformer\.)?embeddings\.position_ids$/];

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** F.normalize(x, dim=-1): x / max(‖x‖₂, 1e-12). */
function l2normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)));
}

/**
 * Stage-1 extras initialised as transformers' _init_weights would a fresh head (Linear weights
 * N(0, initializer_range), biases 0, LayerNorm 1/0) and `temp` = 0.07 (LAVIS).
 */
function initStageOneExtras(root: Blip2RetrievalRoot, config: Blip2Config, names: readonly string[], seed = 0): void {
  const wanted = new Set(names);
  for (const [name, variable] of root.namedParameters()) {
    if (!wanted.has(name)) continue;
    tf.tidy(() => {
      if (name === 'temp') variable.assign(tf.scalar(INITIAL_TEMPERATURE));
      else if (name.endsWith('LayerNorm.weight')) variable.assign(tf.onesLike(variable));
      else if (name.endsWith('.weight'))
        variable.assign(tf.randomNormal(variable.shape, 0, config.initializer_range, 'float32', deriveSeed(seed, name)));
      else variable.assign(tf.zerosLike(variable));
    });
  }
}

/**
 * BLIP-2's Q-Former with ITC projections, ITM head and the stage-1 text decoder head; `root`
 * parameters carry HF Blip2ForImageTextRetrieval state-dict names.
 *
 * @example
 * const model = await Blip2ForImageTextRetrieval.fromPretrained('models/blip2-itm');
 * const { logitsPerImage } = model.forward({ pixelValues, inputIds, attentionMask }); // [B_img, B_txt] cosine sims
 */
export class Blip2ForImageTextRetrieval implements QueryTransformerModel {
  readonly modelType = 'blip-2';
  readonly family = 'query-transformer' as const;
  readonly processor: ModelProcessor;

  private constructor(
    readonly root: Blip2RetrievalRoot,
    readonly config: Blip2Config,
    readonly imageProcessing: ImageProcessing,
    private readonly tokenizerFiles: ReadonlyMap<string, Uint8Array>,
    private readonly preprocessor: Record<string, unknown> | undefined,
    /** What loading skipped, fused or initialised; absent for fromConfig. */
    readonly loadReport?: Blip2RetrievalLoadReport,
  ) {
    const tokenizer: TextTokenizer | undefined = tokenizerFromFiles(new Map(tokenizerFiles));
    this.processor = tokenizer
      ? { imageProcessing, tokenizer, towers: BLIP2_RETRIEVAL_TOWERS }
      : { imageProcessing, towers: BLIP2_RETRIEVAL_TOWERS };
  }

  get tokenizer(): TextTokenizer | undefined {
    return this.processor.tokenizer;
  }

  get numQueryTokens(): number {
    return this.config.num_query_tokens;
  }

  /** The text path's longest input: the position embeddings' rows. */
  get maxTextLength(): number {
    return this.config.qformer_config.max_position_embeddings;
  }

  /** The ITC temperature `temp` (LAVIS), a trainable scalar stored in the checkpoint. */
  get temperature(): tf.Variable {
    return this.root.param('temp');
  }

  /**
   * The id ITG puts in place of the first text token (LAVIS' "[DEC]"): `qformer_config.bos_token_id`
   * when config.json sets it, else the tokenizer's bos token (LAVIS and transformers' BLIP-2
   * retrieval tokenizers add "[DEC]" as bos_token to bert-base-uncased).
   */
  get decoderStartTokenId(): number {
    const fromConfig = (this.config.qformer_config as Record<string, unknown>).bos_token_id;
    const fromTokenizer = this.tokenizer?.specialTokenIds?.bos;
    const id = typeof fromConfig === 'number' ? fromConfig : fromTokenizer;
    const vocab = this.config.qformer_config.vocab_size;
    if (typeof id !== 'number') {
      throw new MmftError(
        'E_CONFIG',
        'BLIP-2 retrieval: image-grounded text generation starts from a decoder token, and neither config.json qformer_config.bos_token_id nor the tokenizer bos_token names one',
        {
          hint: 'set qformer_config.bos_token_id in config.json (LAVIS adds "[DEC]" to bert-base-uncased as id 30522), or give a tokenizer whose bos_token is that token',
        },
      );
    }
    if (!Number.isInteger(id) || id < 0 || id >= vocab) {
      throw new MmftError(
        'E_CONFIG',
        `BLIP-2 retrieval: the decoder start token ${id} (${typeof fromConfig === 'number' ? 'qformer_config.bos_token_id' : 'the tokenizer bos_token'}) is outside the Q-Former vocabulary [0, ${vocab})`,
        { hint: 'qformer_config.vocab_size must count the added "[DEC]" token (30523 for bert-base-uncased + [DEC])' },
      );
    }
    return id;
  }

  /** A freshly initialised retrieval model (training mode) from a partial config.json object. */
  static async fromConfig(config: Blip2ConfigInput, options: Blip2RetrievalFromConfigOptions = {}): Promise<Blip2ForImageTextRetrieval> {
    const parsed = parseBlip2RetrievalConfig(config, 'config', { fresh: true });
    const root = new Blip2RetrievalRoot(parsed, options.seed);
    try {
      initBlip2Weights(root, parsed, options.seed);
      const files = options.tokenizer ? await readTokenizerFiles(options.tokenizer) : new Map<string, Uint8Array>();
      const processing = options.imageProcessing ?? parseBlipImageProcessing(undefined, parsed.vision_config.image_size);
      return new Blip2ForImageTextRetrieval(root.train(), parsed, processing, files, undefined);
    } catch (error) {
      root.dispose();
      throw error;
    }
  }

  /**
   * Loads a Blip2ForImageTextRetrieval folder in HF layout (evaluation mode). The stage-1 extras
   * (`temp`, `qformer_lm_head.*`) are initialised when absent and listed in `loadReport.newlyInitialized`;
   * any other missing, mis-shaped or (without ignoreUnexpected) unknown tensor is an E_CHECKPOINT error.
   */
  static async fromPretrained(dir: string, options: LoadOptions = {}): Promise<Blip2ForImageTextRetrieval> {
    const folder = await loadCausalLmFolder(dir, { modelName: 'BLIP-2 retrieval' });
    const source = join(dir, 'config.json');
    const config = parseBlip2RetrievalConfig(folder.config, source, { fresh: false });
    const preprocessorPath = join(dir, 'preprocessor_config.json');
    const preprocessorBytes = await readOptionalFile(preprocessorPath);
    const preprocessor = preprocessorBytes ? parseJsonFile(preprocessorBytes, preprocessorPath) : undefined;
    const imageProcessing = parseBlipImageProcessing(preprocessor, config.vision_config.image_size, preprocessorPath);
    const tensors = new Map<string, SafetensorsTensor>(folder.tensors);
    const fusedQkvBias = fuseLegacyQkvBias(tensors);
    const root = new Blip2RetrievalRoot(config);
    try {
      const absentExtras = root
        .namedParameters()
        .map(([name]) => name)
        .filter((name) => isStageOneExtra(name) && !tensors.has(name));
      initStageOneExtras(root, config, absentExtras);
      for (const name of absentExtras) {
        const variable = root.stateDict().get(name)!;
        tensors.set(name, { dtype: 'F32', shape: [...variable.shape], data: variable.dataSync() as Float32Array });
      }
      const report = loadCausalLmWeights(root, tensors, {
        ignoreUnexpected: options.ignoreUnexpected,
        ignorePatterns: LEGACY_BUFFERS,
        tensorFiles: folder.tensorFiles,
        source: folder.files.length === 1 ? folder.files[0] : join(dir, 'model.safetensors.index.json'),
        modelName: 'Blip2ForImageTextRetrieval',
      });
      return new Blip2ForImageTextRetrieval(root.eval(), config, imageProcessing, folder.tokenizerFiles, preprocessor, {
        unexpected: report.unexpected,
        fusedQkvBias,
        newlyInitialized: absentExtras,
      });
    } catch (error) {
      root.dispose();
      throw error;
    }
  }

  /** pixels [B, 3, S, S] → image embeddings [B, N, Dv] and normalised query features [B, Q, E]. */
  encodeImage(pixelValues: tf.Tensor): QueryImageOutputs {
    const { image_size: size } = this.config.vision_config;
    if (pixelValues.rank !== 4 || pixelValues.shape[1] !== 3 || pixelValues.shape[2] !== size || pixelValues.shape[3] !== size) {
      throw new MmftError('E_SHAPE', `pixelValues must be [B, 3, ${size}, ${size}] (vision_config.image_size), got ${shapeOf(pixelValues)}`);
    }
    return tf.tidy(() => {
      const imageEmbeds = this.root.visionModel.forward(pixelValues).lastHiddenState;
      const queries = tf.tile(this.root.param('query_tokens'), [imageEmbeds.shape[0]!, 1, 1]);
      const queryOutput = this.root.qformer.forward({ queryEmbeds: queries, encoderHiddenStates: imageEmbeds });
      const imageFeats = l2normalize(this.root.linear('vision_projection').forward(queryOutput));
      return { imageEmbeds, imageFeats };
    });
  }

  /** The text-only pass (query_length 0): normalised text_projection of the first token, [B, E]. */
  encodeText(inputIds: tf.Tensor, attentionMask: tf.Tensor): tf.Tensor {
    this.checkText(inputIds, attentionMask);
    return tf.tidy(() => {
      const embeds = this.root.embeddings.forward(inputIds);
      const states = this.root.qformer.forward({ queryEmbeds: embeds, queryLength: 0, attentionMask });
      const first = tf.squeeze(tf.slice(states, [0, 0, 0], [-1, 1, -1]), [1]);
      return l2normalize(this.root.linear('text_projection').forward(first));
    });
  }

  /** ITM logits [B, 2] (index 1 = match): queries + text in one bidirectional pass, itm_head averaged over the queries. */
  matchLogits(inputIds: tf.Tensor, attentionMask: tf.Tensor, imageEmbeds: tf.Tensor): tf.Tensor {
    this.checkText(inputIds, attentionMask, imageEmbeds);
    const q = this.numQueryTokens;
    return tf.tidy(() => {
      const b = inputIds.shape[0]!;
      const queries = tf.tile(this.root.param('query_tokens'), [b, 1, 1]);
      const embeds = this.root.embeddings.forward(inputIds, queries);
      const mask = tf.concat([tf.ones([b, q]), tf.cast(attentionMask, 'float32')], 1);
      const states = this.root.qformer.forward({ queryEmbeds: embeds, queryLength: q, attentionMask: mask, encoderHiddenStates: imageEmbeds });
      return tf.mean(this.root.linear('itm_head').forward(tf.slice(states, [0, 0, 0], [-1, q, -1])), 1);
    });
  }

  /**
   * ITG logits [B, T, V]: queries and text in one pass under LAVIS' UniLM mask (queries see the
   * queries; text position t sees every query and the unpadded text up to t), queries
   * cross-attending to `imageEmbeds`. This equals LAVIS' text pass over the cached query states,
   * because the query rows never see text. Logit t predicts token t + 1.
   */
  groundedTextLogits(inputIds: tf.Tensor, attentionMask: tf.Tensor, imageEmbeds: tf.Tensor): tf.Tensor {
    this.checkText(inputIds, attentionMask, imageEmbeds);
    const q = this.numQueryTokens;
    return tf.tidy(() => {
      const [b, t] = inputIds.shape as [number, number];
      const queries = tf.tile(this.root.param('query_tokens'), [b, 1, 1]);
      const embeds = this.root.embeddings.forward(inputIds, queries);
      const mask = unilmMask(q, tf.cast(attentionMask, 'float32'));
      const states = this.root.qformer.forward({ queryEmbeds: embeds, queryLength: q, attentionMask: mask, encoderHiddenStates: imageEmbeds });
      const text = tf.slice(states, [0, q, 0], [b, t, -1]);
      return this.root.lmHead.forward(text, this.root.embeddings.wordEmbeddings);
    });
  }

  /**
   * HF's forward: with `useImageTextMatchingHead`, `logitsPerImage` = ITM logits [B, 2] and
   * `logitsPerText` its transpose; otherwise ITC: `logitsPerImage` [B_img, B_txt] = max over the
   * queries of the cosine similarities (no temperature, as transformers), `logitsPerText` its
   * transpose, plus `imageEmbeds` [B_img, Q, E] and `textEmbeds` [B_txt, E]. With
   * config.image_token_index set, the first num_query_tokens ids of each row must be image tokens
   * (Blip2Processor writes them) and are dropped, as transformers does.
   */
  forward(inputs: Blip2RetrievalInputs): Record<string, tf.Tensor> {
    const { pixelValues, inputIds } = inputs;
    if (!pixelValues || !inputIds) {
      throw new MmftError('E_INPUT', 'Blip2ForImageTextRetrieval.forward needs pixelValues [B, 3, S, S] and inputIds [B, T]', {
        hint: "tokenize the texts with the model processor's tokenizer",
      });
    }
    const owned: tf.Tensor[] = [];
    try {
      let ids = inputIds;
      let mask = inputs.attentionMask ?? (owned.push(tf.onesLike(inputIds)), owned[owned.length - 1]!);
      const imageToken = this.config.image_token_index;
      if (imageToken !== null) {
        const q = this.numQueryTokens;
        const rows = inputIds.arraySync() as number[][];
        const bad = rows.findIndex((row) => row.length < q || row.slice(0, q).some((id) => id !== imageToken));
        if (bad >= 0) {
          throw new MmftError(
            'E_INPUT',
            `row ${bad} of inputIds does not start with num_query_tokens = ${q} image tokens (id ${imageToken}); config.image_token_index is set, so the first ${q} ids are dropped as transformers does`,
            { hint: 'tokenize with Blip2Processor (it writes the image tokens in front), or set image_token_index: null in config.json' },
          );
        }
        ids = tf.slice(inputIds, [0, q], [-1, -1]);
        mask = tf.slice(mask, [0, q], [-1, -1]);
        owned.push(ids, mask);
      }
      if (inputs.useImageTextMatchingHead) {
        return tf.tidy(() => {
          const { imageEmbeds, imageFeats } = this.encodeImage(pixelValues);
          imageFeats.dispose();
          const logitsPerImage = this.matchLogits(ids, mask, imageEmbeds);
          return { logitsPerImage, logitsPerText: tf.transpose(logitsPerImage) };
        });
      }
      return tf.tidy(() => {
        const { imageEmbeds: vision, imageFeats } = this.encodeImage(pixelValues);
        vision.dispose();
        const textEmbeds = this.encodeText(ids, mask);
        const logitsPerImage = tf.max(tf.einsum('iqe,te->itq', imageFeats, textEmbeds), -1);
        return { logitsPerImage, logitsPerText: tf.transpose(logitsPerImage), imageEmbeds: imageFeats, textEmbeds };
      });
    } finally {
      tf.dispose(owned);
    }
  }

  private checkText(inputIds: tf.Tensor, attentionMask: tf.Tensor, imageEmbeds?: tf.Tensor): void {
    if (inputIds.rank !== 2) throw new MmftError('E_SHAPE', `inputIds must be [B, T], got ${shapeOf(inputIds)}`);
    const [b, t] = inputIds.shape as [number, number];
    if (attentionMask.rank !== 2 || attentionMask.shape[0] !== b || attentionMask.shape[1] !== t)
      throw new MmftError('E_SHAPE', `attentionMask must be [${b}, ${t}] like inputIds, got ${shapeOf(attentionMask)}`);
    const dv = this.config.vision_config.hidden_size;
    if (imageEmbeds && (imageEmbeds.rank !== 3 || imageEmbeds.shape[0] !== b || imageEmbeds.shape[2] !== dv)) {
      throw new MmftError(
        'E_SHAPE',
        `imageEmbeds must be [${b}, N, ${dv}] (one image per text row, from encodeImage), got ${shapeOf(imageEmbeds)}`,
      );
    }
  }

  /** config.json as save_pretrained writes it. */
  toConfigJson(): Record<string, unknown> {
    const { vision_config, qformer_config, text_config, ...rest } = this.config;
    return {
      ...rest,
      architectures: ['Blip2ForImageTextRetrieval'],
      model_type: 'blip-2',
      vision_config: { ...vision_config, model_type: 'blip_2_vision_model' },
      qformer_config: { ...qformer_config, model_type: 'blip_2_qformer' },
      text_config: { ...text_config },
      torch_dtype: 'float32',
      transformers_version: TRANSFORMERS_VERSION,
    };
  }

  /**
   * Writes the Hugging Face layout atomically: config.json (Blip2ForImageTextRetrieval),
   * model.safetensors (with the stage-1 extras, which transformers skips as unexpected keys),
   * preprocessor_config.json, processor_config.json (image_token_index set) and the tokenizer files.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    checkOutputFolder(dir, { kind: 'model', force: options.force, forceFlag: 'save(dir, { force: true })' });
    const weights = await causalLmTensors(this.root);
    await writeFolder(
      dir,
      async (staged) => {
        await writeFileDurable(join(staged, 'config.json'), hfJson(this.toConfigJson()));
        await writeSafetensors(join(staged, 'model.safetensors'), weights, { format: 'pt' });
        await writeFileDurable(
          join(staged, 'preprocessor_config.json'),
          hfJson(this.preprocessor ?? blipImageProcessorJson(this.imageProcessing)),
        );
        if (this.config.image_token_index !== null) {
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
    this.root.dispose();
  }
}

/**
 * LAVIS' decoder mask (Qformer.py get_extended_attention_mask with has_query): [B, Q + T, Q + T]
 * of 1/0 where query rows see the Q queries only and text row t sees the queries and text s ≤ t
 * with textMask[s] = 1.
 */
export function unilmMask(numQueries: number, textMask: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const [b, t] = textMask.shape as [number, number];
    const q = numQueries;
    const queryRows = tf.concat([tf.ones([q, q]), tf.zeros([q, t])], 1);
    const textRows = tf.concat([tf.ones([t, q]), tf.linalg.bandPart(tf.ones([t, t]), -1, 0)], 1);
    const pattern = tf.concat([queryRows, textRows], 0); // [Q + T, Q + T]
    const columns = tf.concat([tf.ones([b, q]), tf.cast(textMask, 'float32')], 1); // [B, Q + T]
    return tf.mul(tf.expandDims(pattern, 0), tf.expandDims(columns, 1));
  });
}
