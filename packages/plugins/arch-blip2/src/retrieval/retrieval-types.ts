// The public shapes of Blip2ForImageTextRetrieval besides the class: its towers (which parameters
// each trainable group holds), fromConfig's options, forward's inputs and what loading reports,
// after transformers' Blip2ForImageTextRetrieval (src/transformers/models/blip_2/modeling_blip_2.py).
import type { ImageProcessing, ModelInputs, ModelTowers } from '@mmft/core';

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
