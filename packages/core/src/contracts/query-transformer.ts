// The query-transformer contract: BLIP-2's Q-Former over a frozen image encoder as stage 1 trains it
// (LAVIS lavis/models/blip2_models/blip2_qformer.py, Blip2Qformer.forward) and as transformers
// serves it for retrieval (src/transformers/models/blip_2/modeling_blip_2.py,
// Blip2ForImageTextRetrieval). A stage-1 objective computes its three losses through these methods
// without knowing the architecture plugin.
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import type { VisionLanguageModel } from './architecture';

/** What `encodeImage` returns. */
export interface QueryImageOutputs {
  /** The image encoder's last hidden state after its final LayerNorm, [B, N, Dv] (what the queries cross-attend to). */
  readonly imageEmbeds: Tensor;
  /** L2-normalised `vision_projection` of the Q-Former's query outputs, [B, Q, E] (ITC image features). */
  readonly imageFeats: Tensor;
}

/**
 * A Q-Former-style model: learned queries that read an image, a text path sharing the same
 * self-attention layers, projections into a joint space (ITC), a matching head (ITM) and a text
 * decoder head grounded on the queries (ITG). Training mode follows `root.train()` / `root.eval()`.
 */
export interface QueryTransformerModel extends VisionLanguageModel {
  readonly family: 'query-transformer';
  /** Learned query tokens Q (BLIP-2: num_query_tokens). */
  readonly numQueryTokens: number;
  /** Text tokens the text path takes at most (LAVIS max_txt_len; the position embeddings' rows bound it). */
  readonly maxTextLength: number;
  /**
   * The ITC temperature τ (LAVIS `temp`, initialised to 0.07): similarities are divided by it. A
   * trainable scalar variable registered in `root` (so checkpoints keep it).
   */
  readonly temperature: Variable;
  /** Id that replaces the first text token for image-grounded generation (LAVIS' "[DEC]" bos token). */
  readonly decoderStartTokenId: number;
  /** pixels [B, 3, S, S] → image embeddings and normalised query features. */
  encodeImage(pixelValues: Tensor): QueryImageOutputs;
  /**
   * The text-only Q-Former pass (bidirectional self-attention, no queries, no image): the
   * L2-normalised `text_projection` of the first token's state, [B, E] (ITC text feature).
   */
  encodeText(inputIds: Tensor, attentionMask: Tensor): Tensor;
  /**
   * Image-text matching logits [B, 2] (index 1 = match): queries and text in one bidirectional pass,
   * queries cross-attending to `imageEmbeds` [B, N, Dv], `itm_head` averaged over the Q query positions.
   */
  matchLogits(inputIds: Tensor, attentionMask: Tensor, imageEmbeds: Tensor): Tensor;
  /**
   * Image-grounded text generation logits [B, T, V] over `inputIds` (whose first token the caller
   * has set to `decoderStartTokenId`): each text position sees every query and the text up to
   * itself; queries see only queries (LAVIS' UniLM-style mask), and cross-attend to `imageEmbeds`.
   * Logit t predicts token t + 1.
   */
  groundedTextLogits(inputIds: Tensor, attentionMask: Tensor, imageEmbeds: Tensor): Tensor;
}

/** Whether a loaded model is a query transformer (family 'query-transformer' with the methods above). */
export function isQueryTransformerModel(model: VisionLanguageModel): model is QueryTransformerModel {
  const m = model as Partial<QueryTransformerModel>;
  return (
    model.family === 'query-transformer' &&
    typeof m.encodeImage === 'function' &&
    typeof m.encodeText === 'function' &&
    typeof m.matchLogits === 'function' &&
    typeof m.groundedTextLogits === 'function'
  );
}
