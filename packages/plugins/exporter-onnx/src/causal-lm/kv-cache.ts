// The parts every exported decoder shares: optimum's inputs and outputs of a decoder with its KV cache
// in the inputs (huggingface/optimum-onnx optimum/exporters/onnx/config.py TextDecoderOnnxConfig /
// TextDecoderWithPositionIdsOnnxConfig, base.py OnnxConfigWithPast.add_past_key_values and outputs;
// the cache holds num_key_value_heads heads, as huggingface/optimum optimum/utils/input_generators.py
// MistralDummyPastKeyValuesGenerator, which LlamaOnnxConfig uses, shapes it),
// the additive causal + padding mask over past + new keys (core's nn/masks.ts causalLmMask: blocked
// keys get float32's lowest value, so a fully padded query row stays finite), and attention that
// appends this call's keys/values to the past ones (core's nn/causal-attention.ts attendCausal, with
// grouped-query heads read as repeat_kv orders them).
import { MASK_MIN } from '@mmft/core/nn';
import type { Dim, OnnxGraph } from '../onnx/graph';
import { int64s, scalar } from '../onnx/layers';

/** What the decoder's inputs and outputs are sized by. */
export interface DecoderDims {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
}

/** Value names of the graph inputs. */
export interface DecoderInputs {
  /** input_ids, or inputs_embeds when the decoder takes embeddings (its dim 1 is the new length either way). */
  readonly inputIds: string;
  /** Set when the graph takes inputs_embeds [batch_size, sequence_length, width] instead of input_ids. */
  readonly inputsEmbeds?: string;
  readonly attentionMask: string;
  readonly positionIds: string;
  readonly past: ReadonlyArray<{ readonly key: string; readonly value: string }>;
}

const BATCH = 'batch_size';
const SEQ = 'sequence_length';
const PAST = 'past_sequence_length';
const TOTAL = 'past_sequence_length + sequence_length';

/**
 * Declares the inputs in optimum's order: input_ids, attention_mask, past_key_values.N.key/value,
 * position_ids (every text-generation config of llama, opt and gpt2 takes position_ids).
 * `inputsEmbeds` (the embedding width) declares inputs_embeds instead of input_ids, as the
 * decoder_model_merged of a transformers.js vision-language model takes them.
 */
export function declareDecoderInputs(g: OnnxGraph, dims: DecoderDims, options: { inputsEmbeds?: number } = {}): DecoderInputs {
  const embeds = options.inputsEmbeds;
  const inputIds =
    embeds === undefined ? g.input('input_ids', 'int64', [BATCH, SEQ]) : g.input('inputs_embeds', 'float32', [BATCH, SEQ, embeds]);
  const attentionMask = g.input('attention_mask', 'int64', [BATCH, TOTAL]);
  const kv: Dim[] = [BATCH, dims.kvHeads, PAST, dims.headDim];
  const past = Array.from({ length: dims.layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, 'float32', kv),
    value: g.input(`past_key_values.${i}.value`, 'float32', kv),
  }));
  const positionIds = g.input('position_ids', 'int64', [BATCH, SEQ]);
  return { inputIds, attentionMask, positionIds, past, ...(embeds === undefined ? {} : { inputsEmbeds: inputIds }) };
}

/** Marks `logits` [batch_size, sequence_length, vocab] and each layer's present key/value as the outputs. */
export function declareDecoderOutputs(
  g: OnnxGraph,
  dims: DecoderDims,
  logits: string,
  presents: ReadonlyArray<{ key: string; value: string }>,
): void {
  g.rename(logits, 'logits');
  g.output('logits', 'float32', [BATCH, SEQ, dims.vocabSize]);
  presents.forEach((p, i) => {
    for (const kind of ['key', 'value'] as const) {
      const name = `present.${i}.${kind}`;
      g.rename(p[kind], name);
      g.output(name, 'float32', [BATCH, dims.kvHeads, TOTAL, dims.headDim]);
    }
  });
}

/** An int64 scalar constant (dims []), as Range and Gather want their scalars. */
export const int64Scalar = (g: OnnxGraph, value: number, hint = 'int64'): string =>
  g.constant({ dtype: 'int64', dims: [], data: BigInt64Array.of(BigInt(value)) }, hint);

/** Dimension `axis` of `value` as an int64 scalar. */
export const dimOf = (g: OnnxGraph, value: string, axis: number): string =>
  g.op1('Gather', [g.op1('Shape', [value]), int64Scalar(g, axis, 'axis')], { axis: 0 });

/**
 * The additive mask [B, 1, S, past + S]: query i (absolute position past + i) attends key j when
 * j ≤ past + i and attention_mask[b, j] is 1; 0 where attended, float32's lowest value where blocked.
 */
export function decoderMask(g: OnnxGraph, inputs: DecoderInputs): string {
  const zero = int64Scalar(g, 0, 'zero');
  const one = int64Scalar(g, 1, 'one');
  const length = dimOf(g, inputs.inputIds, 1);
  const total = dimOf(g, inputs.attentionMask, 1);
  const past = g.op1('Sub', [total, length]);
  const queries = g.op1('Range', [past, total, one]); // absolute positions of the new tokens [S]
  const keys = g.op1('Range', [zero, total, one]); // [T]
  const causal = g.op1('LessOrEqual', [g.op1('Unsqueeze', [keys, int64s(g, [0])]), g.op1('Unsqueeze', [queries, int64s(g, [1])])]); // [S, T]
  const padding = g.op1('Unsqueeze', [g.op1('Cast', [inputs.attentionMask], { to: 9 /* BOOL */ }), int64s(g, [1, 2])]); // [B, 1, 1, T]
  const allowed = g.op1('And', [g.op1('Unsqueeze', [causal, int64s(g, [0, 1])]), padding]); // [B, 1, S, T]
  return g.op1('Where', [allowed, scalar(g, 0, 'mask_open'), scalar(g, MASK_MIN, 'mask_min')]);
}

/** [B, S, heads·headDim] → [B, heads, S, headDim]. */
export function splitHeads(g: OnnxGraph, x: string, heads: number, headDim: number): string {
  return g.op1('Transpose', [g.op1('Reshape', [x, int64s(g, [0, 0, heads, headDim])])], { perm: [0, 2, 1, 3] });
}

/** Options of `attendWithCache`. */
export interface AttendOptions {
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  /** Multiplies q·kᵀ (1 where the queries were scaled already, as OPT does). */
  readonly scale: number;
}

/**
 * softmax(q·kᵀ·scale + mask)·v over the past and new keys: q [B, H, S, hd], k/v [B, Hkv, S, hd] (new
 * positions), past [B, Hkv, P, hd] → context [B, S, H·hd] and the present key/value [B, Hkv, P + S, hd].
 * The nRep query heads of a group become nRep·S rows against that group's key/value head, so keys are not copied.
 */
export function attendWithCache(
  g: OnnxGraph,
  q: string,
  k: string,
  v: string,
  past: { key: string; value: string },
  mask: string,
  o: AttendOptions,
): { context: string; present: { key: string; value: string } } {
  const key = g.op1('Concat', [past.key, k], { axis: 2 });
  const value = g.op1('Concat', [past.value, v], { axis: 2 });
  const grouped = o.heads !== o.kvHeads;
  const queries = grouped ? g.op1('Reshape', [q, int64s(g, [0, o.kvHeads, -1, o.headDim])]) : q;
  let scores = g.op1('MatMul', [queries, g.op1('Transpose', [key], { perm: [0, 1, 3, 2] })]);
  if (o.scale !== 1) scores = g.op1('Mul', [scores, scalar(g, o.scale)]);
  if (grouped) scores = g.op1('Reshape', [scores, int64s(g, [0, o.heads, -1, 0])]);
  let probs = g.op1('Softmax', [g.op1('Add', [scores, mask])], { axis: -1 });
  if (grouped) probs = g.op1('Reshape', [probs, int64s(g, [0, o.kvHeads, -1, 0])]);
  let context = g.op1('MatMul', [probs, value]);
  if (grouped) context = g.op1('Reshape', [context, int64s(g, [0, o.heads, -1, o.headDim])]);
  context = g.op1('Reshape', [g.op1('Transpose', [context], { perm: [0, 2, 1, 3] }), int64s(g, [0, 0, o.heads * o.headDim])]);
  return { context, present: { key, value } };
}
