// An attention module with prefix-tuning key/value prefixes: it passes `pastKeyValues` to the
// wrapped MultiHeadAttention (which widens the mask itself), without editing the architecture.
// Prefixes come from the adapter's PrefixEncoder, one layer index per wrapped module, as
// PeftModel.get_prompt feeds past_key_values to every layer (peft/peft_model.py).
import * as tf from '@tensorflow/tfjs-core';
import { TransparentWrapper, type PeftLayer } from '@mmft/core';
import { repeatBatch, type AttentionInputs, type MultiHeadAttention } from '@mmft/core/nn';
import type { PrefixEncoder } from './prefix-encoder';

interface Source {
  encoder: () => PrefixEncoder;
  layer: number;
  active: boolean;
}

/**
 * Keeps the attention's parameter names (`self_attn.q_proj.weight`) and adds prefixes.
 *
 * @example
 * const wrapped = new PrefixAttention(root.getModule('layers.0.self_attn'));
 * wrapped.addSource('default', () => encoder, 0);
 */
export class PrefixAttention extends TransparentWrapper<[tf.Tensor, AttentionInputs?], tf.Tensor> implements PeftLayer {
  private readonly sources = new Map<string, Source>();

  get peftAdapterNames(): string[] {
    return [...this.sources.keys()];
  }

  addSource(name: string, encoder: () => PrefixEncoder, layer: number): void {
    this.sources.set(name, { encoder, layer, active: true });
  }

  removeSource(name: string): void {
    this.sources.delete(name);
  }

  isAdapterActive(name: string): boolean {
    return this.sources.get(name)?.active ?? false;
  }

  setAdapterActive(name: string, active: boolean): void {
    const s = this.sources.get(name);
    if (s) s.active = active;
  }

  forward(hidden: tf.Tensor, inputs: AttentionInputs = {}): tf.Tensor {
    const attention = this.inner<MultiHeadAttention>();
    const active = [...this.sources.values()].filter((s) => s.active);
    if (active.length === 0) return attention.forward(hidden, inputs);
    return tf.tidy(() => {
      const parts = active.map((s) => {
        const encoder = s.encoder();
        return encoder.layerPrefix(encoder.forward(), s.layer);
      });
      if (inputs.pastKeyValues) parts.push(inputs.pastKeyValues); // a caller's cache comes after the prefixes
      const batch = hidden.shape[0]!;
      const widen = (t: tf.Tensor) => (t.shape[0] === batch ? t : repeatBatch(t, batch));
      const join = (k: 'key' | 'value') =>
        parts.length === 1
          ? parts[0]![k]
          : tf.concat(
              parts.map((p) => widen(p[k])),
              2,
            );
      return attention.forward(hidden, { ...inputs, pastKeyValues: { key: join('key'), value: join('value') } });
    });
  }
}
