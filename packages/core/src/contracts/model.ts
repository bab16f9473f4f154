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

/** Tokenizer as loaded from a checkpoint's tokenizer.json; HF padding/truncation semantics. */
export interface TextTokenizer {
  encode(texts: readonly string[], options?: { maxLength?: number; padding?: 'max_length' | 'longest'; truncation?: boolean }): {
    inputIds: number[][];
    attentionMask: number[][];
  };
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
  readonly vocabSize: number;
}

/** Image preprocessing a checkpoint prescribes (preprocessor_config.json). */
export interface ImageProcessing {
  readonly size: number;
  readonly cropSize: number;
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}
