// Toy models and a byte tokenizer for the generation tests: next-token logits come from a plain
// function of the tokens seen, so every expected output can be worked out by hand.
import * as tf from '@tensorflow/tfjs-core';
import type { ModelInputs, TextTokenizer } from '../contracts/model';
import type { GenerationModel } from './types';

/** Next-token logits [V] from the real (unpadded) ids seen so far and the position of the last one. */
export type NextLogits = (context: readonly number[], position: number) => number[];

/** Logits whose softmax is exactly `probs` (ids not listed get −∞). */
export function logitsOf(vocab: number, probs: Readonly<Record<number, number>>): number[] {
  return Array.from({ length: vocab }, (_, id) => (probs[id] ? Math.log(probs[id]!) : -Infinity));
}

const rows = (t: tf.Tensor) => t.arraySync() as number[][];

/**
 * Reads its whole history from the KV cache (ids stored as keys [B, 1, S, 1]), so a wrong cache
 * reorder or a wrong mask shows in its output. Padding (mask 0) is dropped from the context.
 */
export class HistoryModel implements GenerationModel {
  readonly calls: { rows: number; queryLength: number; past: number }[] = [];

  constructor(
    readonly vocab: number,
    private readonly next: NextLogits,
  ) {}

  forward(inputs: ModelInputs): { logits: tf.Tensor } {
    const cache = inputs.pastKeyValues!;
    const ids = inputs.inputIds
      ? rows(inputs.inputIds)
      : (inputs.inputsEmbeds!.arraySync() as number[][][]).map((r) => r.map((e) => Math.round(e[0]!)));
    const [batch, length] = [ids.length, ids[0]!.length];
    const past = cache.length;
    this.calls.push({ rows: batch, queryLength: length, past });
    const key = tf.tensor4d(ids.flat(), [batch, 1, length, 1]);
    const history = (cache.update(0, key, key).key.arraySync() as number[][][][]).map((r) => r[0]!.map((v) => v[0]!));
    key.dispose();
    const mask = rows(inputs.attentionMask!);
    const positions = rows(inputs.positionIds!);
    const out: number[] = [];
    for (let b = 0; b < batch; b++) {
      for (let t = 0; t < length; t++) {
        const context = history[b]!.slice(0, past + t + 1).filter((_, j) => mask[b]![j] === 1);
        out.push(...this.next(context, positions[b]![t]!));
      }
    }
    return { logits: tf.tensor3d(out, [batch, length, this.vocab]) };
  }
}

/** Ignores the cache: logits depend only on the id at each position and its position id. */
export class MarkovModel implements GenerationModel {
  constructor(
    readonly vocab: number,
    private readonly next: (last: number, position: number) => number[],
  ) {}

  forward(inputs: ModelInputs): { logits: tf.Tensor } {
    const ids = rows(inputs.inputIds!);
    const positions = rows(inputs.positionIds!);
    const out = ids.flatMap((row, b) => row.flatMap((id, t) => this.next(id, positions[b]![t]!)));
    return { logits: tf.tensor3d(out, [ids.length, ids[0]!.length, this.vocab]) };
  }
}

/** Ids 0–255 are bytes (UTF-8), 256 is '<eos>' and 257 '<pad>' (special). */
export const BYTE_EOS = 256;
export const BYTE_PAD = 257;

export const byteTokenizer: TextTokenizer = {
  vocabSize: 258,
  specialTokenIds: { eos: BYTE_EOS, pad: BYTE_PAD },
  paddingSide: 'left',
  encode(texts) {
    const inputIds = texts.map((t) => [...new TextEncoder().encode(t)]);
    return { inputIds, attentionMask: inputIds.map((r) => r.map(() => 1)) };
  },
  decode(ids, options = {}) {
    let text = '';
    let bytes: number[] = [];
    const flush = () => {
      text += new TextDecoder().decode(new Uint8Array(bytes));
      bytes = [];
    };
    for (const id of ids) {
      if (id < 256) bytes.push(id);
      else {
        flush();
        if (!options.skipSpecialTokens) text += id === BYTE_EOS ? '<eos>' : '<pad>';
      }
    }
    flush();
    return text;
  },
};

/** A model that writes `script` (bytes) after any prompt, then EOS: logit 10 on the scripted id, 0 elsewhere. */
export function scriptModel(script: string, promptLength: number): HistoryModel {
  const bytes = [...new TextEncoder().encode(script), BYTE_EOS];
  return new HistoryModel(258, (context) => {
    const target = bytes[Math.min(context.length - promptLength, bytes.length - 1)]!;
    return Array.from({ length: 258 }, (_, id) => (id === target ? 10 : 0));
  });
}
