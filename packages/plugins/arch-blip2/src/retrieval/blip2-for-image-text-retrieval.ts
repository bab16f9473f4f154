// Blip2ForImageTextRetrieval: BLIP-2's Q-Former with its retrieval heads as transformers writes it
// (src/transformers/models/blip_2/modeling_blip_2.py: Blip2ForImageTextRetrieval, Blip2TextEmbeddings)
// and as LAVIS' stage 1 trains it (lavis/models/blip2_models/blip2_qformer.py, Blip2Qformer): the
// image path (vision_model → queries cross-attending to it → vision_projection), the text path (the
// same Q-Former layers over text alone → text_projection of the first token), the matching head
// (queries and text in one bidirectional pass → itm_head averaged over the queries) and, as the
// mmft extra, the image-grounded text decoder (queries and text under LAVIS' UniLM mask → the
// BERT LM head tied to the word embeddings). It implements core's QueryTransformerModel, so a
// stage-1 objective trains it without importing this plugin.
// The passes live in heads.ts, the loading extras in stage-one-extras.ts, the public types in
// retrieval-types.ts; this class holds the model and its checkpoint folder.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  MmftError,
  type ImageProcessing,
  type LoadOptions,
  type ModelProcessor,
  type QueryImageOutputs,
  type QueryTransformerModel,
  type SaveOptions,
  type TextTokenizer,
} from '@mmft/core';
import { parseJsonFile, readOptionalFile, readTokenizerFiles, tokenizerFromFiles } from '@mmft/core/hf';
import type { SafetensorsTensor } from '@mmft/core/io';
import { loadCausalLmFolder, loadCausalLmWeights } from '@mmft/core/lm';
import { fuseLegacyQkvBias } from '../checkpoint/legacy-tensors';
import { blip2ConfigJson, saveBlip2Folder } from '../checkpoint/save-folder';
import type { Blip2Config, Blip2ConfigInput } from '../config';
import { initBlip2Weights } from '../model/init-weights';
import { parseBlipImageProcessing } from '../processor';
import { encodeImage, encodeText, groundedTextLogits, matchLogits } from './heads';
import { parseBlip2RetrievalConfig } from './parse-retrieval-config';
import { Blip2RetrievalRoot } from './retrieval-root';
import {
  BLIP2_RETRIEVAL_TOWERS,
  type Blip2RetrievalFromConfigOptions,
  type Blip2RetrievalInputs,
  type Blip2RetrievalLoadReport,
} from './retrieval-types';
import { fillStageOneExtras } from './stage-one-extras';

/** Buffers older files carry and transformers drops on load. */
const LEGACY_BUFFERS = [/^(qformer\.)?embeddings\.position_ids$/];

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
      const absentExtras = fillStageOneExtras(root, config, tensors);
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
    return encodeImage(this, pixelValues);
  }

  /** The text-only pass (query_length 0): normalised text_projection of the first token, [B, E]. */
  encodeText(inputIds: tf.Tensor, attentionMask: tf.Tensor): tf.Tensor {
    return encodeText(this, inputIds, attentionMask);
  }

  /** ITM logits [B, 2] (index 1 = match): queries + text in one bidirectional pass, itm_head averaged over the queries. */
  matchLogits(inputIds: tf.Tensor, attentionMask: tf.Tensor, imageEmbeds: tf.Tensor): tf.Tensor {
    return matchLogits(this, inputIds, attentionMask, imageEmbeds);
  }

  /**
   * ITG logits [B, T, V]: queries and text in one pass under LAVIS' UniLM mask (queries see the
   * queries; text position t sees every query and the unpadded text up to t), queries
   * cross-attending to `imageEmbeds`. This equals LAVIS' text pass over the cached query states,
   * because the query rows never see text. Logit t predicts token t + 1.
   */
  groundedTextLogits(inputIds: tf.Tensor, attentionMask: tf.Tensor, imageEmbeds: tf.Tensor): tf.Tensor {
    return groundedTextLogits(this, inputIds, attentionMask, imageEmbeds);
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

  /** config.json as save_pretrained writes it. */
  toConfigJson(): Record<string, unknown> {
    return blip2ConfigJson(this.config, 'Blip2ForImageTextRetrieval', false);
  }

  /**
   * Writes the Hugging Face layout atomically: config.json (Blip2ForImageTextRetrieval),
   * model.safetensors (with the stage-1 extras, which transformers skips as unexpected keys),
   * preprocessor_config.json, processor_config.json (image_token_index set) and the tokenizer files.
   */
  async save(dir: string, options: SaveOptions = {}): Promise<void> {
    await saveBlip2Folder(dir, options, {
      root: this.root,
      configJson: this.toConfigJson(),
      preprocessor: this.preprocessor,
      imageProcessing: this.imageProcessing,
      ...(this.config.image_token_index !== null ? { processorQueryTokens: this.numQueryTokens } : {}),
      tokenizerFiles: this.tokenizerFiles,
    });
  }

  dispose(): void {
    this.root.dispose();
  }
}
