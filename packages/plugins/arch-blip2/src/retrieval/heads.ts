// The four passes of Blip2ForImageTextRetrieval over its Q-Former (src/transformers/models/blip_2/
// modeling_blip_2.py Blip2ForImageTextRetrieval.forward; lavis/models/blip2_models/blip2_qformer.py
// Blip2Qformer.forward for the stage-1 losses): the image path (queries cross-attending to the
// vision tower → vision_projection), the text path (text alone → text_projection of the first
// token), the matching head (queries and text in one bidirectional pass → itm_head) and the
// image-grounded text decoder (queries and text under LAVIS' UniLM mask → the tied BERT LM head).
import * as tf from '@tensorflow/tfjs-core';
import { MmftError, type QueryImageOutputs } from '@mmft/core';
import type { Blip2Config } from '../config';
import type { Blip2RetrievalRoot } from './retrieval-root';

/** The parts of a Blip2ForImageTextRetrieval the passes read. */
export interface RetrievalParts {
  readonly root: Blip2RetrievalRoot;
  readonly config: Blip2Config;
}

const shapeOf = (t: tf.Tensor) => `[${t.shape.join(', ')}]`;

/** F.normalize(x, dim=-1): x / max(‖x‖₂, 1e-12). */
function l2normalize(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)));
}

/** pixels [B, 3, S, S] → image embeddings [B, N, Dv] and normalised query features [B, Q, E]. */
export function encodeImage(model: RetrievalParts, pixelValues: tf.Tensor): QueryImageOutputs {
  const { image_size: size } = model.config.vision_config;
  if (pixelValues.rank !== 4 || pixelValues.shape[1] !== 3 || pixelValues.shape[2] !== size || pixelValues.shape[3] !== size) {
    throw new MmftError('E_SHAPE', `pixelValues must be [B, 3, ${size}, ${size}] (vision_config.image_size), got ${shapeOf(pixelValues)}`);
  }
  return tf.tidy(() => {
    const imageEmbeds = model.root.visionModel.forward(pixelValues).lastHiddenState;
    const queries = tf.tile(model.root.param('query_tokens'), [imageEmbeds.shape[0]!, 1, 1]);
    const queryOutput = model.root.qformer.forward({ queryEmbeds: queries, encoderHiddenStates: imageEmbeds });
    const imageFeats = l2normalize(model.root.linear('vision_projection').forward(queryOutput));
    return { imageEmbeds, imageFeats };
  });
}

/** The text-only pass (query_length 0): normalised text_projection of the first token, [B, E]. */
export function encodeText(model: RetrievalParts, inputIds: tf.Tensor, attentionMask: tf.Tensor): tf.Tensor {
  checkText(model, inputIds, attentionMask);
  return tf.tidy(() => {
    const embeds = model.root.embeddings.forward(inputIds);
    const states = model.root.qformer.forward({ queryEmbeds: embeds, queryLength: 0, attentionMask });
    const first = tf.squeeze(tf.slice(states, [0, 0, 0], [-1, 1, -1]), [1]);
    return l2normalize(model.root.linear('text_projection').forward(first));
  });
}

/** ITM logits [B, 2] (index 1 = match): queries + text in one bidirectional pass, itm_head averaged over the queries. */
export function matchLogits(model: RetrievalParts, inputIds: tf.Tensor, attentionMask: tf.Tensor, imageEmbeds: tf.Tensor): tf.Tensor {
  checkText(model, inputIds, attentionMask, imageEmbeds);
  const q = model.config.num_query_tokens;
  return tf.tidy(() => {
    const b = inputIds.shape[0]!;
    const queries = tf.tile(model.root.param('query_tokens'), [b, 1, 1]);
    const embeds = model.root.embeddings.forward(inputIds, queries);
    const mask = tf.concat([tf.ones([b, q]), tf.cast(attentionMask, 'float32')], 1);
    const states = model.root.qformer.forward({
      queryEmbeds: embeds,
      queryLength: q,
      attentionMask: mask,
      encoderHiddenStates: imageEmbeds,
    });
    return tf.mean(model.root.linear('itm_head').forward(tf.slice(states, [0, 0, 0], [-1, q, -1])), 1);
  });
}

/**
 * ITG logits [B, T, V]: queries and text in one pass under LAVIS' UniLM mask (queries see the
 * queries; text position t sees every query and the unpadded text up to t), queries
 * cross-attending to `imageEmbeds`. This equals LAVIS' text pass over the cached query states,
 * because the query rows never see text. Logit t predicts token t + 1.
 */
export function groundedTextLogits(
  model: RetrievalParts,
  inputIds: tf.Tensor,
  attentionMask: tf.Tensor,
  imageEmbeds: tf.Tensor,
): tf.Tensor {
  checkText(model, inputIds, attentionMask, imageEmbeds);
  const q = model.config.num_query_tokens;
  return tf.tidy(() => {
    const [b, t] = inputIds.shape as [number, number];
    const queries = tf.tile(model.root.param('query_tokens'), [b, 1, 1]);
    const embeds = model.root.embeddings.forward(inputIds, queries);
    const mask = unilmMask(q, tf.cast(attentionMask, 'float32'));
    const states = model.root.qformer.forward({
      queryEmbeds: embeds,
      queryLength: q,
      attentionMask: mask,
      encoderHiddenStates: imageEmbeds,
    });
    const text = tf.slice(states, [0, q, 0], [b, t, -1]);
    return model.root.lmHead.forward(text, model.root.embeddings.wordEmbeddings);
  });
}

function checkText(model: RetrievalParts, inputIds: tf.Tensor, attentionMask: tf.Tensor, imageEmbeds?: tf.Tensor): void {
  if (inputIds.rank !== 2) throw new MmftError('E_SHAPE', `inputIds must be [B, T], got ${shapeOf(inputIds)}`);
  const [b, t] = inputIds.shape as [number, number];
  if (attentionMask.rank !== 2 || attentionMask.shape[0] !== b || attentionMask.shape[1] !== t)
    throw new MmftError('E_SHAPE', `attentionMask must be [${b}, ${t}] like inputIds, got ${shapeOf(attentionMask)}`);
  const dv = model.config.vision_config.hidden_size;
  if (imageEmbeds && (imageEmbeds.rank !== 3 || imageEmbeds.shape[0] !== b || imageEmbeds.shape[2] !== dv)) {
    throw new MmftError(
      'E_SHAPE',
      `imageEmbeds must be [${b}, N, ${dv}] (one image per text row, from encodeImage), got ${shapeOf(imageEmbeds)}`,
    );
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
