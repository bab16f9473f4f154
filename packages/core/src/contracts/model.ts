// The model-side types every architecture shares: inputs and outputs of `forward`, generation
// options for vision→LLM bridges, and the text/image preprocessing a checkpoint folder carries.
import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * Named model inputs, in Hugging Face's vocabulary (pixel_values, input_ids, attention_mask...).
 * Architectures read the fields they need and ignore the rest.
 */
export interface ModelInputs {
  /** [B, 3, H, W] float32, normalised with the model's mean/std. */
  readonly pixelValues?: Tensor;
  /** [B, T] int32 token ids. */
  readonly inputIds?: Tensor;
  /** [B, T] 1 for real tokens, 0 for padding. */
  readonly attentionMask?: Tensor;
  /** [B, T] int32 target ids for language-model heads; -100 is ignored as in HF. */
  readonly labels?: Tensor;
  /** [B, T, D] embeddings instead of ids (prompt tuning, LLaVA image-token splicing). */
  readonly inputsEmbeds?: Tensor;
  /** [B, T] int32 positions (causal LMs; default from the attention mask, as generate() makes them). */
  readonly positionIds?: Tensor;
  /**
   * The key/value cache of earlier positions (causal LMs). Updated in place with this call's keys
   * and values, as transformers' DynamicCache is; `attentionMask` then covers past + new positions.
   */
  readonly pastKeyValues?: KeyValueCache;
  /**
   * Label tokens across the whole (accumulated) batch: the loss is then sum / this instead of a
   * mean over this call's labels (transformers' `num_items_in_batch`, loss/loss_utils.py).
   */
  readonly numItemsInBatch?: number;
  /**
   * Compute logits for the last this-many positions only (transformers' `logits_to_keep`, which
   * generate() sets to 1 for the prompt). A hint: a model may ignore it and return every position.
   */
  readonly logitsToKeep?: number;
}

/**
 * Per-layer keys and values of the positions seen so far (transformers' DynamicCache,
 * cache_utils.py). Keys and values are [B, numKeyValueHeads, S, headDim]; the cache owns them.
 * Implemented by `DynamicCache` in `@mmft/core/nn`.
 */
export interface KeyValueCache {
  /** Positions cached (layer 0's; every layer holds the same count after a full forward). */
  readonly length: number;
  /** Layers that hold keys and values. */
  readonly numLayers: number;
  /**
   * Append this call's keys/values [B, Hkv, T, headDim] for `layer` and return the cached ones with
   * them, [B, Hkv, S + T, headDim]. The cache keeps the result (tf.keep) and disposes what it replaced;
   * the returned tensors belong to the cache (do not dispose them).
   */
  update(layer: number, key: Tensor, value: Tensor): { key: Tensor; value: Tensor };
  /** Keep batch rows `rows` in this order (beam search's reorder_cache; rows may repeat). */
  reorder(rows: readonly number[]): void;
  /** Drop positions from `length` on (assisted decoding, stop strings; crop in transformers). */
  crop(length: number): void;
  dispose(): void;
}

/** Named outputs (textEmbeds, imageEmbeds, logitsPerImage, logits, loss...). */
export type ModelOutputs = Readonly<Record<string, Tensor>>;

/**
 * Decoding settings, in transformers' GenerationConfig vocabulary (generation/configuration_utils.py)
 * written in camelCase. Unset fields come from the model's generation_config.json, then from
 * transformers' defaults. The mode follows HF: numBeams > 1 → beam search, doSample → sampling,
 * else greedy.
 */
export interface GenerationOptions {
  /** New tokens at most (HF max_new_tokens); default from generation_config.json, else 20 total as HF's max_length. */
  readonly maxNewTokens?: number;
  /** HF max_length: prompt + new tokens; maxNewTokens wins when both are set. */
  readonly maxLength?: number;
  /** Tokens before EOS may end a row (MinNewTokensLengthLogitsProcessor). */
  readonly minNewTokens?: number;
  readonly minLength?: number;
  readonly doSample?: boolean;
  readonly numBeams?: number;
  readonly numReturnSequences?: number;
  readonly temperature?: number;
  readonly topK?: number;
  readonly topP?: number;
  readonly minP?: number;
  readonly repetitionPenalty?: number;
  readonly noRepeatNgramSize?: number;
  /** Beam scores are sum(logprobs) / generatedLength ** lengthPenalty (HF's denominator). */
  readonly lengthPenalty?: number;
  readonly earlyStopping?: boolean | 'never';
  /** One id or several: any of them ends a row. */
  readonly eosTokenId?: number | readonly number[];
  readonly padTokenId?: number;
  readonly bosTokenId?: number;
  /** Strings that end a row when the decoded text ends with one (StopStringCriteria). */
  readonly stopStrings?: readonly string[];
  /** Seed of the sampling stream: the same seed gives the same tokens. */
  readonly seed?: number;
}

export interface GenerationResult {
  /** Generated token ids per returned sequence (batch × numReturnSequences rows), prompt excluded. */
  readonly sequences: readonly number[][];
  /** The sequences decoded with special tokens skipped (when the model has a tokenizer). */
  readonly texts: readonly string[];
  /** Beam search: each returned sequence's length-penalised score (HF sequences_scores). */
  readonly sequencesScores?: readonly number[];
}

/** Ids of the special tokens by role (transformers' bos_token_id, eos_token_id, ...); absent when the tokenizer has none. */
export interface SpecialTokenIds {
  readonly bos?: number;
  readonly eos?: number;
  readonly pad?: number;
  readonly unk?: number;
}

/** Tokenizer as loaded from a checkpoint's tokenizer.json; HF padding/truncation semantics. */
export interface TextTokenizer {
  encode(
    texts: readonly string[],
    options?: {
      maxLength?: number;
      padding?: 'max_length' | 'longest';
      truncation?: boolean;
      /** false: no bos/eos around the texts (transformers' add_special_tokens; a chat template's output has them). */
      addSpecialTokens?: boolean;
      /** Overrides the tokenizer's padding side for this call. */
      paddingSide?: 'left' | 'right';
    },
  ): {
    inputIds: number[][];
    attentionMask: number[][];
  };
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  readonly vocabSize: number;
  /** From tokenizer_config.json / special_tokens_map.json (core's HfTokenizer fills them). */
  readonly specialTokenIds?: SpecialTokenIds;
  /** Where padding goes: 'right' (HF's default) or 'left' (batched generation with decoder-only LMs). */
  readonly paddingSide?: 'left' | 'right';
}

/**
 * Parameter-name globs of each named part of a model ("vision", "projector", "language", "text",
 * "head"...), so recipes freeze by tower (`freeze: [vision]`) instead of architecture-specific
 * names. Every parameter belongs to exactly one tower (describeArchitecture checks it).
 */
export type ModelTowers = Readonly<Record<string, readonly string[]>>;

/**
 * What turns raw inputs into model inputs, kept beside the model as transformers' AutoProcessor
 * (processing_utils.py) and transformers.js's processing_<model>.js: the image preprocessing of
 * preprocessor_config.json (run by @mmft/image), the tokenizer with its special tokens and padding
 * side, the chat template, and the towers. Training, serving and export use this one object.
 */
export interface ModelProcessor {
  readonly imageProcessing?: ImageProcessing;
  readonly tokenizer?: TextTokenizer;
  /** Jinja chat template of tokenizer_config.json (`chat_template`), for instruction models. */
  readonly chatTemplate?: string;
  readonly towers: ModelTowers;
  /**
   * Where the image goes in the token sequence, as the checkpoint's processor writes it; absent when
   * the model places image embeddings itself (legacy BLIP-2 prepends its queries) or reads no images.
   */
  readonly imageTokens?: ImageTokens;
}

/**
 * The image span a processor writes into the text: `count` copies of `tokenId` that the model
 * overwrites with image embeddings. 'prefix': in front of the text, before bos (transformers'
 * Blip2Processor, models/blip_2/processing_blip_2.py: num_query_tokens image tokens). 'placeholder':
 * where the text has an `<image>` mark (LlavaProcessor, models/llava/processing_llava.py: each
 * `<image>` expanded to the number of image features). Labels are -100 on the span.
 */
export interface ImageTokens {
  readonly tokenId: number;
  readonly count: number;
  readonly placement: 'prefix' | 'placeholder';
}

/** Image preprocessing a checkpoint prescribes (preprocessor_config.json). */
export interface ImageProcessing {
  readonly size: number;
  readonly cropSize: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}
