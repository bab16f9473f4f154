// Running an exported vision-language folder (onnx/vision_encoder, embed_tokens, decoder_model_merged)
// in onnxruntime-node the way transformers.js runs it (huggingface/transformers.js
// packages/transformers/src/models/modeling_utils.js: encode_image, encode_text,
// default_merge_input_ids_with_features, decoder_forward, create_position_ids):
// - the image features overwrite the embedding rows of the image tokens in reading order, the
//   features of all images flattened (LLaVA; BLIP-2 with image_token_index set), as
//   default_merge_input_ids_with_features does;
// - a BLIP-2 whose config has image_token_index null (transformers' legacy layout, the one
//   models/blip2-shapes-base uses) gets its query features in front of the text and the mask
//   widened by num_query_tokens ones, as Blip2ForConditionalGeneration.generate does there
//   (transformers src/transformers/models/blip_2/modeling_blip_2.py); transformers.js has no BLIP-2;
// - then greedy decoding one token per step through the cache, each new id embedded by embed_tokens.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';
import type * as Ort from 'onnxruntime-node';
import { positionIdsFromMask } from '../causal-lm/decode';

let runtime: typeof Ort | undefined;
const ort = (): typeof Ort => (runtime ??= require('onnxruntime-node') as typeof Ort);

/** Options of generateVlmOnnx / vlmPromptLogits. */
export interface VlmDecodeOptions {
  /** 0/1 per prompt position (left padding); default all ones. */
  readonly attentionMask?: ReadonlyArray<readonly number[]>;
  /** Stop ids (default generation_config.json's eos_token_id). */
  readonly eosTokenId?: number | readonly number[];
  /** Fed to finished rows (default generation_config.json's pad_token_id, else the first EOS). */
  readonly padTokenId?: number;
  /** Graph file suffix ('' or '_bnb4'). */
  readonly suffix?: string;
  /** Chooses a row's next id from its last-position logits (default argmax); `history` is the row's new ids so far. */
  readonly pick?: (logits: Float32Array, row: number, history: readonly number[]) => number;
  /** Called after each step with the id each row received (−1 for rows already done); returning false stops decoding. */
  readonly onStep?: (tokens: readonly number[], step: number) => boolean | void;
}

/** Prompt logits [rows, length, vocab] of the language model's sequence (legacy BLIP-2: the queries, then the text). */
export interface VlmLogits {
  readonly data: Float32Array;
  readonly dims: readonly [number, number, number];
  /** The mask the decoder saw (legacy BLIP-2: widened by the queries). */
  readonly attentionMask: number[][];
}

/** Pixels as a flat float32 array with their dims [images, channels, height, width]. */
export interface PixelValues {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

interface Sessions {
  vision: Ort.InferenceSession;
  embed: Ort.InferenceSession;
  decoder: Ort.InferenceSession;
  config: Record<string, unknown>;
  generation: Record<string, unknown>;
}

async function readJson(file: string, required: boolean): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if (!required && (error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new MmftError('E_INPUT', `${file}: cannot read it (${(error as Error).message})`, {
      hint: 'pass a folder written by mmft export onnx',
    });
  }
}

async function open<T>(dir: string, suffix: string, use: (s: Sessions) => Promise<T>): Promise<T> {
  const create = async (name: string) => {
    const file = path.join(dir, 'onnx', `${name}${suffix}.onnx`);
    try {
      await fs.access(file);
    } catch {
      throw new MmftError('E_INPUT', `${file} does not exist: not a vision-language export${suffix ? ` with ${suffix} graphs` : ''}`, {
        hint: 'export the model with `mmft export onnx <llava-or-blip2-dir> --out DIR` (add --keep-4bit for the _bnb4 graphs) and pass DIR',
      });
    }
    return ort().InferenceSession.create(file, { executionProviders: ['cpu'] });
  };
  const opened: Ort.InferenceSession[] = [];
  try {
    for (const name of ['vision_encoder', 'embed_tokens', 'decoder_model_merged']) opened.push(await create(name));
    const [vision, embed, decoder] = opened as [Ort.InferenceSession, Ort.InferenceSession, Ort.InferenceSession];
    const config = await readJson(path.join(dir, 'config.json'), true);
    const generation = await readJson(path.join(dir, 'generation_config.json'), false);
    return await use({ vision, embed, decoder, config, generation });
  } finally {
    for (const s of opened) await s.release();
  }
}

const int64 = (values: readonly number[], dims: readonly number[]) => new (ort().Tensor)('int64', BigInt64Array.from(values, BigInt), dims);

async function embedIds(s: Sessions, ids: ReadonlyArray<readonly number[]>): Promise<{ data: Float32Array; width: number }> {
  const out = (await s.embed.run({ input_ids: int64(ids.flat(), [ids.length, ids[0]!.length]) })).inputs_embeds!;
  return { data: Float32Array.from(out.data as Float32Array), width: out.dims[2]! };
}

/** The decoder's first-step inputs: embeddings with the images merged in, and the mask. */
async function promptInputs(
  s: Sessions,
  pixels: PixelValues,
  inputIds: ReadonlyArray<readonly number[]>,
  mask: ReadonlyArray<readonly number[]>,
): Promise<{ embeds: Float32Array; length: number; width: number; mask: number[][] }> {
  const rows = inputIds.length;
  const t = inputIds[0]!.length;
  const features = (await s.vision.run({ pixel_values: new (ort().Tensor)('float32', pixels.data, [...pixels.dims]) })).image_features!;
  const [images, perImage, width] = features.dims as [number, number, number];
  const f = features.data as Float32Array;
  const text = await embedIds(s, inputIds);
  if (text.width !== width) {
    throw new MmftError('E_SHAPE', `image_features are ${width} wide but inputs_embeds ${text.width}: the export is inconsistent`);
  }
  const imageToken = s.config.image_token_index ?? s.config.image_token_id;
  if (typeof imageToken !== 'number') {
    // Legacy BLIP-2: one image per row, its queries in front.
    if (images !== rows)
      throw new MmftError('E_INPUT', `${images} image(s) for ${rows} prompt row(s): this BLIP-2 layout takes one image per row`);
    const length = perImage + t;
    const embeds = new Float32Array(rows * length * width);
    for (let r = 0; r < rows; r++) {
      embeds.set(f.subarray(r * perImage * width, (r + 1) * perImage * width), r * length * width);
      embeds.set(text.data.subarray(r * t * width, (r + 1) * t * width), (r * length + perImage) * width);
    }
    return { embeds, length, width, mask: mask.map((row) => [...new Array<number>(perImage).fill(1), ...row]) };
  }
  const count = inputIds.reduce((n, row) => n + row.filter((id) => id === imageToken).length, 0);
  if (count !== images * perImage) {
    throw new MmftError(
      'E_INPUT',
      `the prompt has ${count} image tokens (id ${imageToken}) but the images give ${images} × ${perImage} features`,
      {
        hint: `expand each image placeholder to ${perImage} tokens, as the model's processor does`,
      },
    );
  }
  let k = 0;
  inputIds.forEach((row, r) =>
    row.forEach((id, p) => {
      if (id === imageToken) text.data.set(f.subarray(k * width, ++k * width), (r * t + p) * width);
    }),
  );
  return { embeds: text.data, length: t, width, mask: mask.map((row) => [...row]) };
}

function pastInfo(decoder: Ort.InferenceSession): { layers: number; kvHeads: number; headDim: number } {
  const layers = decoder.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
  const meta = decoder.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
  const shape = meta && meta.isTensor ? meta.shape : [];
  return { layers, kvHeads: shape[1] as number, headDim: shape[3] as number };
}

async function runDecoder(
  s: Sessions,
  embeds: Float32Array,
  rows: number,
  length: number,
  width: number,
  mask: number[][],
  past: Record<string, Ort.Tensor>,
): Promise<Ort.InferenceSession.OnnxValueMapType> {
  return s.decoder.run({
    inputs_embeds: new (ort().Tensor)('float32', embeds, [rows, length, width]),
    attention_mask: int64(mask.flat(), [rows, mask[0]!.length]),
    position_ids: int64(positionIdsFromMask(mask, length).flat(), [rows, length]),
    ...past,
  });
}

function emptyPast(decoder: Ort.InferenceSession, rows: number): Record<string, Ort.Tensor> {
  const { layers, kvHeads, headDim } = pastInfo(decoder);
  const past: Record<string, Ort.Tensor> = {};
  for (let i = 0; i < layers; i++)
    for (const kind of ['key', 'value'])
      past[`past_key_values.${i}.${kind}`] = new (ort().Tensor)('float32', new Float32Array(0), [rows, kvHeads, 0, headDim]);
  return past;
}

function checkIds(inputIds: ReadonlyArray<readonly number[]>): void {
  const t = inputIds[0]?.length ?? 0;
  if (inputIds.length === 0 || t === 0 || inputIds.some((r) => r.length !== t)) {
    throw new MmftError(
      'E_INPUT',
      `inputIds must be a non-empty batch of equal-length rows, got lengths [${inputIds.map((r) => r.length).join(', ')}]`,
      {
        hint: 'pad shorter prompts on the left and pass attentionMask with 0 there',
      },
    );
  }
}

/**
 * The prompt's logits from one decoder step (empty past), what a parity check compares with the tfjs model.
 *
 * @example
 * const { data, dims } = await vlmPromptLogits('out/llava-onnx', { data: pixels, dims: [1, 3, 64, 64] }, [[1, ...imageIds, 311]]);
 */
export async function vlmPromptLogits(
  dir: string,
  pixelValues: PixelValues,
  inputIds: ReadonlyArray<readonly number[]>,
  options: VlmDecodeOptions = {},
): Promise<VlmLogits> {
  checkIds(inputIds);
  return open(dir, options.suffix ?? '', async (s) => {
    const rows = inputIds.length;
    const prompt = await promptInputs(s, pixelValues, inputIds, options.attentionMask ?? inputIds.map((r) => r.map(() => 1)));
    const out = await runDecoder(s, prompt.embeds, rows, prompt.length, prompt.width, prompt.mask, emptyPast(s.decoder, rows));
    const logits = out.logits!;
    return {
      data: Float32Array.from(logits.data as Float32Array),
      dims: logits.dims as unknown as [number, number, number],
      attentionMask: prompt.mask,
    };
  });
}

/**
 * Greedy decoding of an exported LLaVA / BLIP-2 folder: each row's new ids (up to and including its
 * EOS), at most `maxNewTokens`, as the model's greedy generate() gives them.
 *
 * @example
 * const [tokens] = await generateVlmOnnx('out/llava-onnx', { data: pixels, dims: [1, 3, 64, 64] }, [[1, ...imageIds, 311]], 20);
 */
export async function generateVlmOnnx(
  dir: string,
  pixelValues: PixelValues,
  inputIds: ReadonlyArray<readonly number[]>,
  maxNewTokens: number,
  options: VlmDecodeOptions = {},
): Promise<number[][]> {
  checkIds(inputIds);
  return open(dir, options.suffix ?? '', async (s) => {
    const rows = inputIds.length;
    const fromConfig = s.generation.eos_token_id ?? s.config.eos_token_id;
    const eosGiven = options.eosTokenId ?? (fromConfig as number | number[] | undefined);
    const eos = eosGiven === undefined ? [] : typeof eosGiven === 'number' ? [eosGiven] : [...eosGiven];
    const pad =
      options.padTokenId ?? (typeof s.generation.pad_token_id === 'number' ? s.generation.pad_token_id : undefined) ?? eos[0] ?? 0;
    const prompt = await promptInputs(s, pixelValues, inputIds, options.attentionMask ?? inputIds.map((r) => r.map(() => 1)));
    const mask = prompt.mask;
    let embeds = prompt.embeds;
    let length = prompt.length;
    let past = emptyPast(s.decoder, rows);
    const layers = pastInfo(s.decoder).layers;
    const generated: number[][] = Array.from({ length: rows }, () => []);
    const done = new Array<boolean>(rows).fill(false);
    for (let step = 0; step < maxNewTokens; step++) {
      const out = await runDecoder(s, embeds, rows, length, prompt.width, mask, past);
      const logits = out.logits!;
      const vocab = logits.dims[2]!;
      const data = logits.data as Float32Array;
      const next = new Array<number>(rows).fill(pad);
      const tokens = new Array<number>(rows).fill(-1);
      for (let r = 0; r < rows; r++) {
        if (done[r]) continue;
        const from = (r * length + length - 1) * vocab;
        let best = 0;
        if (options.pick) best = options.pick(data.subarray(from, from + vocab), r, generated[r]!);
        else for (let v = 1; v < vocab; v++) if (data[from + v]! > data[from + best]!) best = v;
        next[r] = tokens[r] = best;
        generated[r]!.push(best);
        done[r] = eos.includes(best);
      }
      if (options.onStep?.(tokens, step) === false || done.every(Boolean)) break;
      past = {};
      for (let i = 0; i < layers; i++) {
        past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
        past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
      }
      embeds = (
        await embedIds(
          s,
          next.map((id) => [id]),
        )
      ).data;
      length = 1;
      for (const row of mask) row.push(1);
    }
    return generated;
  });
}
