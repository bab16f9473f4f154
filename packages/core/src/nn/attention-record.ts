// Recording the attention probabilities of decoder self-attention, as transformers does with
// output_attentions=True: LlamaAttention.forward (src/transformers/models/llama/modeling_llama.py)
// then falls back from SDPA to eager_attention_forward, since a fused kernel never materialises the
// probabilities, and each layer returns attn_weights (after dropout) [B, H, T, S]. Here attendCausal
// (causal-attention.ts) reads `attentionRecorder()` on every call; with nothing recording that is
// one variable read and the fused path runs as before.
import * as tf from '@tensorflow/tfjs-core';

let active: tf.Tensor[] | undefined;

/** The list attendCausal pushes its probabilities to, or undefined when nothing records. */
export const attentionRecorder = (): tf.Tensor[] | undefined => active;

/**
 * Runs `fn` with every `attendCausal` call taking the unfused path and keeping its probabilities
 * [B, H, T, past + T] (float32, kept out of any tidy) in call order: one per layer per forward of a
 * decoder-only language model. The caller disposes `probabilities`. A nested call records into its
 * own list only and the outer one resumes after it; when `fn` throws, what it recorded is disposed
 * and the recorder that was active before is restored.
 *
 * @example
 * const { result, probabilities } = recordAttention(() => lm.forward({ inputIds, attentionMask }));
 * // probabilities.length === num_hidden_layers, each [B, num_attention_heads, T, T]
 */
export function recordAttention<T>(fn: () => T): { result: T; probabilities: tf.Tensor[] } {
  const outer = active;
  const probabilities: tf.Tensor[] = [];
  active = probabilities;
  try {
    const result = fn();
    return { result, probabilities };
  } catch (error) {
    tf.dispose(probabilities);
    throw error;
  } finally {
    active = outer;
  }
}
