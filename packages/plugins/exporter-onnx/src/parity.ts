// Parity of an exported folder with the tfjs model it came from: the same inputs through
// onnxruntime-node (CPU, models loaded by path so external data resolves) and through the model's
// own forward, compared as max |Δ| per output. Inputs cover batch > 1 and padded text, the cases
// where a wrong mask or pooling index shows.
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as Ort from 'onnxruntime-node';
import { MmftError, type VisionLanguageModel } from '@mmft/core';
import { ONNX_MODEL_TYPES } from './export';
import { vlmParity } from './vlm/parity';

/** One compared output. */
export interface ParityRow {
  /** The ONNX file, relative to the export folder. */
  file: string;
  output: string;
  dims: number[];
  maxAbsDiff: number;
}

export interface ParityReport {
  rows: ParityRow[];
  maxAbsDiff: number;
  tolerance: number;
  ok: boolean;
}

export interface ParityOptions {
  /** Texts to tokenize (padded to the longest); defaults cover unequal lengths. */
  texts?: readonly string[];
  /** Number of images (pseudo-random pixel values from `seed`); default 2. */
  images?: number;
  seed?: number;
  /** Largest max |Δ| that passes (default 1e-4, the bar). */
  tolerance?: number;
}

// Loaded on first use: the CLI loads this plugin for every command, and the runtime's native
// library is only needed by a parity check.
let runtime: typeof Ort | undefined;
const ort = (): typeof Ort => (runtime ??= require('onnxruntime-node') as typeof Ort);

const DEFAULT_TEXTS = ['a red circle', 'a small blue square next to a big green triangle', 'two shapes'];

/** Deterministic pixel values in [-2, 2) (mulberry32), the range normalised images take. */
function pixels(count: number, channels: number, size: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count * channels * size * size);
  for (let i = 0; i < out.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 4 - 2;
  }
  return out;
}

/** max |a - b| over equal-length arrays (NaN anywhere counts as Infinity). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
  }
  return worst;
}

const int64 = (rows: number[][]): Ort.Tensor =>
  new (ort().Tensor)('int64', BigInt64Array.from(rows.flat().map((v) => BigInt(v))), [rows.length, rows[0]?.length ?? 0]);

async function runSession(file: string, feeds: Record<string, Ort.Tensor>): Promise<Record<string, Ort.Tensor>> {
  const session = await ort().InferenceSession.create(file, { executionProviders: ['cpu'] });
  try {
    const wanted = Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]!]));
    const missing = session.inputNames.filter((n) => !feeds[n]);
    if (missing.length) throw new MmftError('E_INPUT', `${file}: parity has no value for input(s) ${missing.join(', ')}`);
    return await session.run(wanted);
  } finally {
    await session.release();
  }
}

function compare(rows: ParityRow[], file: string, output: string, onnxOut: Ort.Tensor | undefined, expected: tf.Tensor): void {
  if (!onnxOut)
    throw new MmftError('E_CHECKPOINT', `${file} has no output ${output}`, { hint: 'export the folder again with mmft export onnx' });
  const dims = [...onnxOut.dims];
  const same = dims.length === expected.shape.length && dims.every((d, i) => d === expected.shape[i]);
  rows.push({
    file,
    output,
    dims,
    maxAbsDiff: same ? maxAbsDiff(onnxOut.data as Float32Array, expected.dataSync() as Float32Array) : Infinity,
  });
}

interface ClipLike {
  getTextFeatures(inputs: { inputIds: tf.Tensor; attentionMask?: tf.Tensor }): tf.Tensor;
  getImageFeatures(inputs: { pixelValues: tf.Tensor }): tf.Tensor;
}

async function clipParity(model: VisionLanguageModel, dir: string, o: ParityOptions, rows: ParityRow[]): Promise<void> {
  if (!model.tokenizer) throw new MmftError('E_CHECKPOINT', 'parity needs the model tokenizer (tokenizer.json)');
  const vision = (model.config.vision_config ?? {}) as { image_size: number; num_channels?: number };
  const channels = vision.num_channels ?? 3;
  const count = o.images ?? 2;
  const { inputIds, attentionMask } = model.tokenizer.encode(o.texts ?? DEFAULT_TEXTS, { padding: 'longest', truncation: true });
  const pix = pixels(count, channels, vision.image_size, o.seed ?? 1);
  const dims = [count, channels, vision.image_size, vision.image_size];
  const feeds = {
    input_ids: int64(inputIds),
    attention_mask: int64(attentionMask),
    pixel_values: new (ort().Tensor)('float32', pix, dims),
  };
  const clip = model as VisionLanguageModel & Partial<ClipLike>;
  tf.engine().startScope();
  try {
    const ids = tf.tensor2d(inputIds, undefined, 'int32');
    const mask = tf.tensor2d(attentionMask, undefined, 'int32');
    const pixelValues = tf.tensor4d(pix, dims as [number, number, number, number]);
    const full = model.forward({ inputIds: ids, attentionMask: mask, pixelValues }) as Record<string, tf.Tensor>;
    const out = await runSession(path.join(dir, 'model.onnx'), feeds);
    for (const [name, key] of [
      ['logits_per_image', 'logitsPerImage'],
      ['logits_per_text', 'logitsPerText'],
      ['text_embeds', 'textEmbeds'],
      ['image_embeds', 'imageEmbeds'],
    ] as const) {
      compare(rows, 'model.onnx', name, out[name], full[key]!);
    }
    if (clip.getTextFeatures && clip.getImageFeatures) {
      const text = await runSession(path.join(dir, 'text_model.onnx'), feeds);
      compare(rows, 'text_model.onnx', 'text_embeds', text.text_embeds, clip.getTextFeatures({ inputIds: ids, attentionMask: mask }));
      const image = await runSession(path.join(dir, 'vision_model.onnx'), feeds);
      compare(rows, 'vision_model.onnx', 'image_embeds', image.image_embeds, clip.getImageFeatures({ pixelValues }));
    }
  } finally {
    tf.engine().endScope();
  }
}

async function causalLmParity(model: VisionLanguageModel, dir: string, o: ParityOptions, rows: ParityRow[]): Promise<void> {
  if (!model.tokenizer) throw new MmftError('E_CHECKPOINT', 'parity needs the model tokenizer (tokenizer.json)');
  const name = existsSync(path.join(dir, 'model_bnb4.onnx')) ? 'model_bnb4.onnx' : 'model.onnx'; // --keep-4bit writes the _bnb4 name
  const file = path.join(dir, name);
  // Each text alone, then left-padded here (as generate() pads decoder-only batches): not every
  // causal LM tokenizer names a pad token, and the padded slots are masked whatever their id.
  const rowsOf = (o.texts ?? DEFAULT_TEXTS).slice(0, 2).map((t) => model.tokenizer!.encode([t], { truncation: true }).inputIds[0]!);
  const width = Math.max(...rowsOf.map((r) => r.length));
  const inputIds = rowsOf.map((r) => [...new Array<number>(width - r.length).fill(0), ...r]);
  const attentionMask = rowsOf.map((r) => [...new Array<number>(width - r.length).fill(0), ...new Array<number>(r.length).fill(1)]);
  const batch = inputIds.length;
  // position_ids as transformers' generate() makes them: cumsum(mask) - 1, padded slots 1.
  const positions = attentionMask.map((row) => {
    let seen = 0;
    return row.map((m) => (m ? seen++ : 1));
  });
  const session = await ort().InferenceSession.create(file, { executionProviders: ['cpu'] });
  try {
    const feeds: Record<string, Ort.Tensor> = {
      input_ids: int64(inputIds),
      attention_mask: int64(attentionMask),
      position_ids: int64(positions),
    };
    for (const meta of session.inputMetadata) {
      if (!meta.name.startsWith('past_key_values.')) continue;
      if (!meta.isTensor) continue;
      // [batch, kv_heads, past = 0, head_dim]: the first step's empty cache.
      const [, heads, , headDim] = meta.shape;
      feeds[meta.name] = new (ort().Tensor)('float32', new Float32Array(0), [batch, Number(heads), 0, Number(headDim)]);
    }
    const wanted = Object.fromEntries(session.inputNames.map((n) => [n, feeds[n]!]));
    const out = await session.run(wanted);
    tf.engine().startScope();
    try {
      const expected = model.forward({
        inputIds: tf.tensor2d(inputIds, undefined, 'int32'),
        attentionMask: tf.tensor2d(attentionMask, undefined, 'int32'),
        positionIds: tf.tensor2d(positions, undefined, 'int32'),
      }) as Record<string, tf.Tensor>;
      // Logits at padded positions are not used by anyone and differ only through the masked rows.
      const keep = tf.tensor3d(
        attentionMask.map((row) => row.map((m) => [m])),
        undefined,
        'float32',
      );
      const logits = out.logits!;
      const onnxLogits = tf.mul(tf.tensor(logits.data as Float32Array, [...logits.dims]), keep);
      compare(
        rows,
        name,
        'logits',
        new (ort().Tensor)('float32', onnxLogits.dataSync() as Float32Array, [...logits.dims]),
        tf.mul(expected.logits!, keep),
      );
    } finally {
      tf.engine().endScope();
    }
  } finally {
    await session.release();
  }
}

/** A plain input for `runOnnx`: int64 from integer rows, float32 from a flat array and dims. */
export type OnnxInput = { int64: number[][] } | { float32: Float32Array; dims: number[] };

/**
 * Runs one ONNX file in onnxruntime-node (CPU, loaded by path) and returns its float outputs.
 *
 * @example
 * const { text_embeds } = await runOnnx('out/clip/text_model.onnx', { input_ids: { int64: [[154, 7, 155]] }, attention_mask: { int64: [[1, 1, 1]] } });
 */
export async function runOnnx(
  file: string,
  inputs: Record<string, OnnxInput>,
): Promise<Record<string, { dims: number[]; data: Float32Array }>> {
  const feeds = Object.fromEntries(
    Object.entries(inputs).map(([name, v]) => [name, 'int64' in v ? int64(v.int64) : new (ort().Tensor)('float32', v.float32, v.dims)]),
  );
  const out = await runSession(file, feeds);
  return Object.fromEntries(
    Object.entries(out).map(([name, t]) => [name, { dims: [...t.dims], data: Float32Array.from(t.data as Float32Array) }]),
  );
}

/**
 * Runs the exported folder `dir` in onnxruntime-node and `model` in tfjs on the same inputs and
 * reports max |Δ| per output; `ok` when every one is within `tolerance`.
 *
 * @example
 * const report = await checkParity(model, 'out/clip-onnx');
 * for (const r of report.rows) console.log(`${r.file} ${r.output}: ${r.maxAbsDiff.toExponential(2)}`);
 */
export async function checkParity(model: VisionLanguageModel, dir: string, options: ParityOptions = {}): Promise<ParityReport> {
  const rows: ParityRow[] = [];
  if ((ONNX_MODEL_TYPES.dualEncoder as readonly string[]).includes(model.modelType)) await clipParity(model, dir, options, rows);
  else if ((ONNX_MODEL_TYPES.causalLm as readonly string[]).includes(model.modelType)) await causalLmParity(model, dir, options, rows);
  else if ((ONNX_MODEL_TYPES.visionLanguage as readonly string[]).includes(model.modelType))
    await vlmParity(model, dir, options.texts ?? DEFAULT_TEXTS, rows);
  else throw new MmftError('E_UNSUPPORTED', `no ONNX parity check for model_type "${model.modelType}"`);
  const tolerance = options.tolerance ?? 1e-4;
  const worst = rows.reduce((m, r) => Math.max(m, r.maxAbsDiff), 0);
  return { rows, maxAbsDiff: worst, tolerance, ok: worst <= tolerance };
}
