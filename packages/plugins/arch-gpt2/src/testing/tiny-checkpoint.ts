// Writes a tiny GPT-2 checkpoint folder in transformers' layout (config.json,
// generation_config.json, model.safetensors with `transformer.`-prefixed Conv1D weights stored
// [in, out] and no lm_head.weight when tied, the tokenizer files) straight from a seeded random
// stream, not through this package's save, so loader tests read a file the model did not write.
// Options reproduce what real GPT-2 files carry: fp16 tensors, the legacy attn.bias /
// attn.masked_bias buffers, keys without the `transformer.` prefix (GPT2Model files).
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { f16ToF32, f32ToBf16, bf16ToF32, f32ToF16, writeSafetensors, type WritableTensor } from '@mmft/core/io';
import { tokenizerFromFiles, byteLevelBpeTokenizerFiles } from '@mmft/core/hf';
import type { Gpt2Config } from '../config';
import { innerDim, parseGpt2Config } from '../checkpoint/parse-config';
import type { PlainTensor } from './reference-gpt2';

/** Options of `createTinyGpt2Checkpoint`. */
export interface TinyGpt2Options {
  /** Seed of the weights (default 0): the same seed writes the same bytes. */
  seed?: number;
  /** GPT2Config overrides of the tiny shape (n_embd 8, n_head 2, n_layer 2, n_positions 32). */
  config?: Record<string, unknown>;
  /**
   * Tokenizer files to write beside the weights (default: core's tiny GPT-2 byte-level BPE); vocab_size,
   * bos_token_id and eos_token_id follow the tokenizer unless `config` sets them.
   */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array>;
  /** The default tokenizer's pad token (GPT-2 has none; '<|endoftext|>' lets batches pad). */
  padToken?: string;
  /** Element type of the stored weights (default F32). */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Write h.N.attn.bias [1, 1, P, P] and h.N.attn.masked_bias as checkpoints of transformers < 4.3x carry. */
  legacyBuffers?: boolean;
  /** Store keys without `transformer.` (what GPT2Model.save_pretrained writes, e.g. the original "gpt2" files). */
  noPrefix?: boolean;
  /** Std of the random weights (default 0.4: large enough that logits differ clearly between tokens). */
  std?: number;
  /** generation_config.json content (default { bos_token_id, eos_token_id } of the config). */
  generationConfig?: Record<string, unknown>;
}

/** Where the checkpoint went, its parsed config, and the exact values stored (after any fp16 rounding). */
export interface TinyGpt2Checkpoint {
  readonly dir: string;
  readonly config: Gpt2Config;
  /** By HF GPT2LMHeadModel name (`transformer.…`, plus `lm_head.weight` when untied). */
  readonly tensors: ReadonlyMap<string, PlainTensor>;
}

/** A small seeded stream: mulberry32 uniforms, Box–Muller normals. */
function normalStream(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** The GPT2LMHeadModel tensors of `config`, in transformers' registration order. */
export function gpt2TensorShapes(config: Gpt2Config): Array<[string, number[]]> {
  const d = config.n_embd;
  const inner = innerDim(config);
  const shapes: Array<[string, number[]]> = [
    ['transformer.wte.weight', [config.vocab_size, d]],
    ['transformer.wpe.weight', [config.n_positions, d]],
  ];
  for (let i = 0; i < config.n_layer; i++) {
    const p = `transformer.h.${i}.`;
    shapes.push(
      [`${p}ln_1.weight`, [d]],
      [`${p}ln_1.bias`, [d]],
      [`${p}attn.c_attn.weight`, [d, 3 * d]],
      [`${p}attn.c_attn.bias`, [3 * d]],
      [`${p}attn.c_proj.weight`, [d, d]],
      [`${p}attn.c_proj.bias`, [d]],
      [`${p}ln_2.weight`, [d]],
      [`${p}ln_2.bias`, [d]],
      [`${p}mlp.c_fc.weight`, [d, inner]],
      [`${p}mlp.c_fc.bias`, [inner]],
      [`${p}mlp.c_proj.weight`, [inner, d]],
      [`${p}mlp.c_proj.bias`, [d]],
    );
  }
  shapes.push(['transformer.ln_f.weight', [d]], ['transformer.ln_f.bias', [d]]);
  if (!config.tie_word_embeddings) shapes.push(['lm_head.weight', [config.vocab_size, d]]);
  return shapes;
}

const roundTo = (dtype: 'F32' | 'F16' | 'BF16', data: Float32Array): Float32Array =>
  dtype === 'F16' ? f16ToF32(f32ToF16(data)) : dtype === 'BF16' ? bf16ToF32(f32ToBf16(data)) : data;

/**
 * Writes a tiny random GPT-2 to `dir`.
 *
 * @example
 * const { dir, tensors, config } = await createTinyGpt2Checkpoint(path.join(tmp, 'gpt2'), { seed: 1, tokenizerFiles });
 * const model = await GPT2LMHeadModel.fromPretrained(dir);
 */
export async function createTinyGpt2Checkpoint(dir: string, options: TinyGpt2Options = {}): Promise<TinyGpt2Checkpoint> {
  const tokenizerFiles = options.tokenizerFiles ?? byteLevelBpeTokenizerFiles({ flavour: 'gpt2', padToken: options.padToken });
  const tokenizer = tokenizerFromFiles(tokenizerFiles);
  const endOfText = tokenizer?.specialTokenIds?.eos;
  const config = parseGpt2Config(
    {
      n_embd: 8,
      n_head: 2,
      n_layer: 2,
      n_positions: 32,
      vocab_size: tokenizer?.vocabSize ?? 300,
      ...(endOfText === undefined ? {} : { bos_token_id: endOfText, eos_token_id: endOfText }),
      ...options.config,
    },
    'tiny GPT-2 config',
  );
  const dtype = options.dtype ?? 'F32';
  const draw = normalStream(options.seed ?? 0);
  const std = options.std ?? 0.4;
  const tensors = new Map<string, PlainTensor>();
  const stored = new Map<string, WritableTensor>();
  const key = (name: string) => (options.noPrefix ? name.replace(/^transformer\./, '') : name);
  for (const [name, shape] of gpt2TensorShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const isLnWeight = /ln_(1|2|f)\.weight$/.test(name);
    for (let i = 0; i < size; i++) values[i] = (isLnWeight ? 1 : 0) + draw() * (name.endsWith('.bias') || isLnWeight ? std / 4 : std);
    const exact = roundTo(dtype, values);
    tensors.set(name, { shape, data: exact });
    stored.set(key(name), { dtype, shape, data: values });
  }
  if (options.legacyBuffers) {
    const p = config.n_positions;
    const tril = new Float32Array(p * p);
    for (let r = 0; r < p; r++) for (let c = 0; c <= r; c++) tril[r * p + c] = 1;
    for (let i = 0; i < config.n_layer; i++) {
      stored.set(key(`transformer.h.${i}.attn.bias`), { dtype: 'F32', shape: [1, 1, p, p], data: tril });
      stored.set(key(`transformer.h.${i}.attn.masked_bias`), { dtype: 'F32', shape: [], data: new Float32Array([-1e4]) });
    }
  }
  await mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, 'model.safetensors'), stored, { format: 'pt' });
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(path.join(dir, 'config.json'), json({ architectures: ['GPT2LMHeadModel'], ...config }));
  const generation = options.generationConfig ?? { bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id };
  await writeFile(path.join(dir, 'generation_config.json'), json(generation));
  for (const [name, bytes] of tokenizerFiles) await writeFile(path.join(dir, name), bytes);
  return { dir, config, tensors };
}
