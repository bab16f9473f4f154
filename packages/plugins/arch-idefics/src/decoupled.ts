// IDEFICS's decoupled vocabulary (IdeficsDecoupledEmbedding / IdeficsDecoupledLinear in transformers
// src/transformers/models/idefics/modeling_idefics.py): `additional_vocab_size` extra rows held apart
// (`model.embed_tokens.additional_embedding.weight`, `lm_head.additional_fc.weight`) so that training
// can touch only them. Ids ≥ vocab_size read the extra rows and the head's logits are the two
// outputs concatenated, which is one table of vocab_size + additional_vocab_size rows; this file
// joins the rows on load and splits them on save, so the Llama holds one plain table.
import { MmftError } from '@mmft/core';

/** A tensor as read from or written to safetensors (a subset of both shapes). */
interface Rows {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly data: ArrayLike<number> | BigInt64Array;
}

/** A table's numbers (embedding tables are floats; an int64 one is a broken file). */
function floats(t: Rows, name: string): ArrayLike<number> {
  if (t.data instanceof BigInt64Array) throw new MmftError('E_CHECKPOINT', `${name} holds 64-bit integers, not an embedding table`);
  return t.data;
}

/** The pairs joined: base key → key of its extra rows. */
export const DECOUPLED_KEYS: Readonly<Record<string, string>> = {
  'model.embed_tokens.weight': 'model.embed_tokens.additional_embedding.weight',
  'lm_head.weight': 'lm_head.additional_fc.weight',
};

function concatRows(a: Rows, b: Rows, name: string, extra: string, source: string): Rows {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[1]) {
    throw new MmftError(
      'E_CHECKPOINT',
      `${source}: ${name} [${a.shape.join(', ')}] and ${extra} [${b.shape.join(', ')}] must be 2-D with the same width`,
    );
  }
  const first = floats(a, name);
  const second = floats(b, extra);
  const data = new Float32Array(first.length + second.length);
  data.set(first);
  data.set(second, first.length);
  return { dtype: 'F32', shape: [a.shape[0]! + b.shape[0]!, a.shape[1]!], data };
}

/** Elements [start, end) of `data` as a new Float32Array (typed arrays copied without a detour through an Array). */
function sliceRows(data: ArrayLike<number>, start: number, end: number): Float32Array {
  if (ArrayBuffer.isView(data)) return Float32Array.from((data as unknown as Float32Array).subarray(start, end));
  return Float32Array.from(Array.prototype.slice.call(data, start, end) as number[]);
}

/**
 * The checkpoint's tensors with each decoupled pair joined into one table of vocab + additional
 * rows; a missing extra table (or one of the wrong row count) is an E_CHECKPOINT error naming it.
 *
 * @example
 * joinDecoupled(tensors, 2, 'm/model.safetensors').get('model.embed_tokens.weight')!.shape; // [32002, 4096]
 */
export function joinDecoupled<T extends Rows>(tensors: ReadonlyMap<string, T>, additional: number, source: string): Map<string, T> {
  const out = new Map(tensors);
  if (additional === 0) return out;
  for (const [name, extra] of Object.entries(DECOUPLED_KEYS)) {
    const base = tensors.get(name);
    if (!base) continue; // a tied head has no lm_head.* in the file
    const rows = tensors.get(extra);
    if (!rows || rows.shape[0] !== additional) {
      throw new MmftError(
        'E_CHECKPOINT',
        `${source}: additional_vocab_size is ${additional} but ${extra} is ${rows ? `[${rows.shape.join(', ')}]` : 'missing'}`,
        { hint: 'config.json additional_vocab_size must equal the rows of the additional embedding and of lm_head.additional_fc' },
      );
    }
    out.set(name, concatRows(base, rows, name, extra, source) as unknown as T);
    out.delete(extra);
  }
  return out;
}

/**
 * The inverse of joinDecoupled for saving: each joined table split back into its first
 * `vocab` rows and the `additional` rows under IDEFICS's key.
 */
export function splitDecoupled<T extends Rows>(tensors: ReadonlyMap<string, T>, vocab: number, additional: number): Map<string, T> {
  const out = new Map(tensors);
  if (additional === 0) return out;
  for (const [name, extra] of Object.entries(DECOUPLED_KEYS)) {
    const joined = tensors.get(name);
    if (!joined) continue;
    const width = joined.shape[1]!;
    const data = floats(joined, name);
    out.set(name, { ...joined, shape: [vocab, width], data: sliceRows(data, 0, vocab * width) });
    out.set(extra, { ...joined, shape: [additional, width], data: sliceRows(data, vocab * width, data.length) });
  }
  return out;
}
