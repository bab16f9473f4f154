// Greedy decoding through an exported decoder (`model.onnx`: input_ids, attention_mask, position_ids,
// past_key_values.N.key/value → logits, present.N.key/value) in onnxruntime-node, one token per step.
// The first step feeds the prompt with zero-length past tensors shaped from the session's input
// metadata, as transformers.js does (packages/transformers/src/models/modeling_utils.js, addPastKeyValues);
// positions are cumsum(mask) − 1 with padded places 1 (core's generation/runner.ts and
// nn/masks.ts positionIdsFromMask); finished rows receive the pad id (core's generation/sample-loop.ts).
import { MmftError } from '@mmft/core';
import type * as Ort from 'onnxruntime-node';

// Loaded on first use, as parity.ts does: the CLI loads this plugin for every command, and only
// decoding needs the runtime's native library.
let runtime: typeof Ort | undefined;
const ort = (): typeof Ort => (runtime ??= require('onnxruntime-node') as typeof Ort);

/** Options of `greedyDecodeOnnx`. */
export interface GreedyDecodeOptions {
  /** 0/1 per prompt position (1 = real token), e.g. a left-padded batch; default all ones. */
  readonly attentionMask?: ReadonlyArray<readonly number[]>;
  /** Fed to rows that are done while others go on (default: the first EOS id, else 0), as generate() does. */
  readonly padTokenId?: number;
  /** Called with each step's last-position logits [rows · vocab] (step 0 = the prompt). */
  readonly onLogits?: (logits: Float32Array, step: number) => void;
  /**
   * Chooses a row's next id from its last-position logits (default argmax): a server's sampling
   * (temperature, top_p) plugs in here. `history` is the row's prompt and new ids so far.
   */
  readonly pick?: (logits: Float32Array, row: number, history: readonly number[]) => number;
  /** Called after each step with the id each row received (−1 for rows already done); returning false stops decoding (streaming, a client gone). */
  readonly onStep?: (tokens: readonly number[], step: number) => boolean | void;
}

/** What a decoder session needs to be fed, read from its inputs. */
export interface OnnxDecoderInfo {
  readonly layers: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly hasPositionIds: boolean;
}

const PAST = /^past_key_values\.(\d+)\.key$/;

/**
 * The layer count and key/value shape of an exported decoder, from its input names and the static
 * dims of `past_key_values.0.key` ([batch_size, num_kv_heads, past_sequence_length, head_dim]).
 */
export function decoderInfo(session: Ort.InferenceSession, source = 'model.onnx'): OnnxDecoderInfo {
  const layers = session.inputNames.filter((n) => PAST.test(n)).length;
  const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
  const shape = meta && meta.isTensor ? meta.shape : undefined;
  const kvHeads = shape?.[1];
  const headDim = shape?.[3];
  if (layers === 0 || typeof kvHeads !== 'number' || typeof headDim !== 'number') {
    throw new MmftError('E_INPUT', `${source}: not a decoder with a KV cache (inputs: ${session.inputNames.join(', ')})`, {
      hint: 'export it with `mmft export onnx <model-dir> --out DIR`; it needs past_key_values.N.key inputs [batch_size, heads, past_sequence_length, head_dim]',
    });
  }
  return { layers, kvHeads, headDim, hasPositionIds: session.inputNames.includes('position_ids') };
}

const int64 = (values: readonly number[], dims: readonly number[]) => new (ort().Tensor)('int64', BigInt64Array.from(values, BigInt), dims);

/** cumsum(mask) − 1 over every column, padded places 1; the last `length` columns of each row. */
export function positionIdsFromMask(mask: ReadonlyArray<readonly number[]>, length: number): number[][] {
  return mask.map((row) => {
    let sum = 0;
    const all = row.map((m) => {
      sum += m;
      return m === 0 ? 1 : sum - 1;
    });
    return all.slice(all.length - length);
  });
}

/** The index of the largest value (the first among ties, as torch.argmax). */
function argmax(values: Float32Array, from: number, to: number): number {
  let best = from;
  for (let i = from + 1; i < to; i++) if (values[i]! > values[best]!) best = i;
  return best - from;
}

/** A decoder given by path (opened here on the CPU, released after) or as an open session (left open). */
export type DecoderSource = string | Ort.InferenceSession;

async function withSession<T>(source: DecoderSource, use: (session: Ort.InferenceSession, name: string) => Promise<T>): Promise<T> {
  if (typeof source !== 'string') return use(source, 'the session');
  const session = await ort().InferenceSession.create(source, { executionProviders: ['cpu'] });
  try {
    return await use(session, source);
  } finally {
    await session.release();
  }
}

/** Logits of one forward: [rows, length, vocab] row-major. */
export interface DecoderLogits {
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number];
}

/** Zero-length past tensors for every layer: the first step of a decoder with its cache in the inputs. */
function emptyPast(info: OnnxDecoderInfo, rows: number): Record<string, Ort.Tensor> {
  const past: Record<string, Ort.Tensor> = {};
  for (let i = 0; i < info.layers; i++) {
    for (const kind of ['key', 'value']) {
      past[`past_key_values.${i}.${kind}`] = new (ort().Tensor)('float32', new Float32Array(0), [rows, info.kvHeads, 0, info.headDim]);
    }
  }
  return past;
}

function checkBatch(inputIds: ReadonlyArray<readonly number[]>, what: string): [number, number] {
  const rows = inputIds.length;
  const length = inputIds[0]?.length ?? 0;
  if (rows === 0 || length === 0 || inputIds.some((r) => r.length !== length)) {
    throw new MmftError(
      'E_INPUT',
      `${what}: inputIds must be a non-empty batch of equal-length rows, got lengths [${inputIds.map((r) => r.length).join(', ')}]`,
      {
        hint: 'pad shorter prompts on the left and pass attentionMask with 0 at the padded places',
      },
    );
  }
  return [rows, length];
}

/**
 * The logits of every prompt position from one forward of the decoder (a path or an open session; empty past),
 * positions from the mask as generate() makes them: what a parity check compares with the tfjs model.
 *
 * @example
 * const { data, dims } = await decoderLogits('out/model.onnx', [[1, 523, 88]]); // dims [1, 3, vocab]
 */
export async function decoderLogits(
  sessionPath: DecoderSource,
  inputIds: ReadonlyArray<readonly number[]>,
  attentionMask?: ReadonlyArray<readonly number[]>,
): Promise<DecoderLogits> {
  const [rows, length] = checkBatch(inputIds, 'decoderLogits');
  const mask = attentionMask ?? inputIds.map((r) => r.map(() => 1));
  return withSession(sessionPath, async (session, name) => {
    const info = decoderInfo(session, name);
    const inputs: Record<string, Ort.Tensor> = {
      input_ids: int64(inputIds.flat(), [rows, length]),
      attention_mask: int64(mask.flat(), [rows, length]),
      ...emptyPast(info, rows),
    };
    if (info.hasPositionIds) inputs.position_ids = int64(positionIdsFromMask(mask, length).flat(), [rows, length]);
    const logits = (await session.run(inputs)).logits!;
    return { data: Float32Array.from(logits.data as Float32Array), dims: logits.dims as unknown as [number, number, number] };
  });
}

/**
 * Greedy decoding of `inputIds` (one row per prompt, equal lengths; pad on the left with
 * `attentionMask` 0) through the decoder (a path, or an open session left open): each row's new ids, up to and including
 * the EOS that ended it, at most `maxNewTokens`.
 *
 * @example
 * const [tokens] = await greedyDecodeOnnx('out/model.onnx', [[1, 523, 88]], 20, 2);
 */
export async function greedyDecodeOnnx(
  sessionPath: DecoderSource,
  inputIds: ReadonlyArray<readonly number[]>,
  maxNewTokens: number,
  eosId?: number | readonly number[],
  options: GreedyDecodeOptions = {},
): Promise<number[][]> {
  const [rows] = checkBatch(inputIds, 'greedyDecodeOnnx');
  const eos = eosId === undefined ? [] : typeof eosId === 'number' ? [eosId] : [...eosId];
  const pad = options.padTokenId ?? eos[0] ?? 0;
  return withSession(sessionPath, async (session, name) => {
    const info = decoderInfo(session, name);
    const mask = (options.attentionMask ?? inputIds.map((r) => r.map(() => 1))).map((r) => [...r]);
    let past = emptyPast(info, rows);
    const generated: number[][] = Array.from({ length: rows }, () => []);
    const done = new Array<boolean>(rows).fill(false);
    let feed: number[][] = inputIds.map((r) => [...r]);
    for (let step = 0; step < maxNewTokens; step++) {
      const t = feed[0]!.length;
      const total = mask[0]!.length;
      const inputs: Record<string, Ort.Tensor> = {
        input_ids: int64(feed.flat(), [rows, t]),
        attention_mask: int64(mask.flat(), [rows, total]),
        ...past,
      };
      if (info.hasPositionIds) inputs.position_ids = int64(positionIdsFromMask(mask, t).flat(), [rows, t]);
      const out = await session.run(inputs);
      const logits = out.logits!;
      const vocab = logits.dims[2]!;
      const data = logits.data as Float32Array;
      const last = new Float32Array(rows * vocab);
      for (let r = 0; r < rows; r++) last.set(data.subarray((r * t + t - 1) * vocab, (r * t + t) * vocab), r * vocab);
      options.onLogits?.(last, step);
      const next = new Array<number>(rows).fill(pad);
      const tokens = new Array<number>(rows).fill(-1);
      for (let r = 0; r < rows; r++) {
        if (done[r]) continue;
        const id = options.pick
          ? options.pick(last.subarray(r * vocab, (r + 1) * vocab), r, [...inputIds[r]!, ...generated[r]!])
          : argmax(last, r * vocab, (r + 1) * vocab);
        next[r] = tokens[r] = id;
        generated[r]!.push(id);
        done[r] = eos.includes(id);
      }
      if (options.onStep?.(tokens, step) === false || done.every(Boolean)) break;
      past = {};
      for (let i = 0; i < info.layers; i++) {
        past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
        past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
      }
      feed = next.map((id) => [id]);
      for (const row of mask) row.push(1);
    }
    return generated;
  });
}
