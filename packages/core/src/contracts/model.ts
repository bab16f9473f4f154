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
}

/** Named outputs (textEmbeds, imageEmbeds, logitsPerImage, logits, loss...). */
export type ModelOutputs = Readonly<Record<string, Tensor>>;

/** Decoding settings for models that generate text (BLIP-2, LLaVA). */
export interface GenerationOptions {
  readonly maxNewTokens: number;
  readonly strategy?: 'greedy' | 'beam' | 'sample';
  readonly numBeams?: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
}

export interface GenerationResult {
  /** Generated token ids per batch row, prompt excluded. */
  readonly sequences: readonly number[][];
  readonly texts: readonly string[];
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
    options?: { maxLength?: number; padding?: 'max_length' | 'longest'; truncation?: boolean },
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
}

/** Image preprocessing a checkpoint prescribes (preprocessor_config.json). */
export interface ImageProcessing {
  readonly size: number;
  readonly cropSize: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}
