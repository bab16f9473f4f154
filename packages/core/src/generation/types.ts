// The types of @mmft/core/generation: what a model must offer to be decoded (one forward with a
// KV cache), what the loop is told besides the options, and the settings options resolve to
// (transformers' GenerationConfig after generation_config.json and the call's kwargs are merged,
// generation/configuration_utils.py).
import type { Tensor } from '@tensorflow/tfjs-core';
import type { ModelInputs, TextTokenizer } from '../contracts/model';

/**
 * What the decoding loop needs of a model: a forward that reads `inputIds` (or, on the first step,
 * `inputsEmbeds`), `attentionMask` over past + new positions, `positionIds` and `pastKeyValues`, and
 * returns logits [B, T, V]. Every causal LM (CausalLMBase) is one.
 */
export interface GenerationModel {
  forward(inputs: ModelInputs): { readonly logits: Tensor };
}

/** What generate() knows besides the call's options. */
export interface GenerationContext {
  /** generation_config.json as read (snake_case keys); its values sit between HF's defaults and the call's options. */
  readonly generationConfig?: Readonly<Record<string, unknown>>;
  /** Decodes `texts`, streamed text and stop strings; without one, `texts` is empty and stopStrings are refused. */
  readonly tokenizer?: TextTokenizer;
  /** config.json's max_position_embeddings: HF caps the default 20-new-token length there. */
  readonly maxPositionEmbeddings?: number;
}

/** The decoding strategy, chosen as transformers' GenerationConfig.get_generation_mode does. */
export type GenerationMode = 'greedy' | 'sample' | 'beam' | 'beam-sample';

/**
 * The full settings of one generate() call: HF's defaults, then generation_config.json, then the
 * call's options, checked. Lengths that depend on the prompt are fixed later by `resolveLengths`.
 */
export interface GenerationSettings {
  readonly mode: GenerationMode;
  readonly maxNewTokens?: number;
  /** HF max_length (prompt ids + new tokens); 20 unless set. */
  readonly maxLength: number;
  /** Whether the call itself passed maxLength (HF's `has_default_max_length` is the opposite). */
  readonly maxLengthFromCall: boolean;
  readonly minNewTokens?: number;
  readonly minLength: number;
  readonly doSample: boolean;
  readonly numBeams: number;
  readonly numReturnSequences: number;
  readonly temperature: number;
  /** 0 turns top-k off. */
  readonly topK: number;
  readonly topP: number;
  readonly minP?: number;
  readonly repetitionPenalty: number;
  readonly noRepeatNgramSize: number;
  readonly lengthPenalty: number;
  readonly earlyStopping: boolean | 'never';
  /** Empty when no EOS is configured (rows then end only at the length limit or a stop string). */
  readonly eosTokenIds: readonly number[];
  /** HF falls back to eosTokenIds[0] when unset. */
  readonly padTokenId?: number;
  readonly bosTokenId?: number;
  readonly stopStrings: readonly string[];
  readonly seed?: number;
}

/** Token limits once the prompt is known (HF `_prepare_generated_length`). */
export interface GenerationLengths {
  /** Rows stop when prompt ids + new tokens reach this. */
  readonly maxLength: number;
  /** EOS is banned while prompt ids + new tokens are fewer than this. */
  readonly minLength: number;
}
