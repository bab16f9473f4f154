// A tiny OPT checkpoint folder in the layout transformers' OPTForCausalLM.save_pretrained writes:
// config.json with OPTConfig's fields, model.safetensors under HF's state-dict names (lm_head.weight
// left out when tied, as HF does), tokenizer files (byte-level BPE, OPT flavour) and
// generation_config.json. The weights come from a seeded generator of their own, not from this
// plugin's modules, so loading the folder checks the names and shapes against HF's list
// (models/opt/modeling_opt.py: OPTDecoder, OPTDecoderLayer, OPTAttention, OPTForCausalLM).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hfJson, byteLevelBpeTokenizerFiles } from '@mmft/core/hf';
import { serializeSafetensors, type WritableTensor } from '@mmft/core/io';
import { TRANSFORMERS_VERSION } from '@mmft/core/lm';

/** Options of `createTinyOptCheckpoint`; the config fields are OPTConfig's. */
export interface TinyOptOptions {
  hidden_size?: number;
  num_hidden_layers?: number;
  num_attention_heads?: number;
  ffn_dim?: number;
  max_position_embeddings?: number;
  do_layer_norm_before?: boolean;
  word_embed_proj_dim?: number;
  enable_bias?: boolean;
  layer_norm_elementwise_affine?: boolean;
  tie_word_embeddings?: boolean;
  _remove_final_layer_norm?: boolean;
  /** Rows of the embedding table; default the tokenizer's size rounded up to a multiple of 8 (as 50265 → 50272). */
  vocab_size?: number;
  /** Seed of the weights (the same seed writes the same bytes). */
  seed?: number;
  /** Scale of the random weights: large enough that greedy decoding has clear winners. */
  scale?: number;
  /** Weight dtype in the file: F32 (default), F16 or BF16 (upcast on load). */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Tensors to leave out of model.safetensors (loader error tests). */
  omit?: readonly string[];
  /** Tensors to write with another shape (loader error tests). */
  reshape?: Readonly<Record<string, readonly number[]>>;
  /** Tokenizer files; default core's tiny byte-level BPE in the OPT flavour. */
  tokenizerFiles?: ReadonlyMap<string, Uint8Array | string>;
  /** generation_config.json; default what transformers derives from an OPT config. */
  generationConfig?: Record<string, unknown>;
}

/** The OPTConfig fields that decide the tensors of a checkpoint. */
export type OptShape = Required<
  Pick<
    TinyOptOptions,
    | 'vocab_size'
    | 'hidden_size'
    | 'num_hidden_layers'
    | 'num_attention_heads'
    | 'ffn_dim'
    | 'max_position_embeddings'
    | 'do_layer_norm_before'
    | 'word_embed_proj_dim'
    | 'enable_bias'
    | 'layer_norm_elementwise_affine'
    | 'tie_word_embeddings'
    | '_remove_final_layer_norm'
  >
>;

/** What was written. */
export interface TinyOptCheckpoint {
  readonly dir: string;
  /** config.json as written. */
  readonly config: Record<string, unknown>;
  /** The float32 values written under each name (before any F16/BF16 rounding). */
  readonly tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>;
}

/** The tensors of an OPTForCausalLM state dict in HF's order, with shapes (PyTorch Linear: [out, in]). */
export function optTensorShapes(config: OptShape): Array<[string, number[]]> {
  const d = config.hidden_size;
  const p = config.word_embed_proj_dim;
  const f = config.ffn_dim;
  const out: Array<[string, number[]]> = [
    ['model.decoder.embed_tokens.weight', [config.vocab_size, p]],
    ['model.decoder.embed_positions.weight', [config.max_position_embeddings + 2, d]],
  ];
  if (p !== d) out.push(['model.decoder.project_out.weight', [p, d]], ['model.decoder.project_in.weight', [d, p]]);
  const norm = (name: string) =>
    (config.layer_norm_elementwise_affine
      ? [
          [`${name}.weight`, [d]],
          [`${name}.bias`, [d]],
        ]
      : []) as Array<[string, number[]]>;
  if (config.do_layer_norm_before && !config._remove_final_layer_norm) out.push(...norm('model.decoder.final_layer_norm'));
  const linear = (name: string, outDim: number, inDim: number) =>
    [[`${name}.weight`, [outDim, inDim]], ...(config.enable_bias ? [[`${name}.bias`, [outDim]]] : [])] as Array<[string, number[]]>;
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const layer = `model.decoder.layers.${i}`;
    for (const proj of ['k_proj', 'v_proj', 'q_proj', 'out_proj']) out.push(...linear(`${layer}.self_attn.${proj}`, d, d));
    out.push(
      ...norm(`${layer}.self_attn_layer_norm`),
      ...linear(`${layer}.fc1`, f, d),
      ...linear(`${layer}.fc2`, d, f),
      ...norm(`${layer}.final_layer_norm`),
    );
  }
  if (!config.tie_word_embeddings) out.push(['lm_head.weight', [config.vocab_size, p]]);
  return out;
}

/** mulberry32: a small seeded generator, so fixtures do not depend on tfjs's random streams. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const toBytes = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? new TextEncoder().encode(v) : v);

/** The number of ids a tokenizer.json uses (its vocabulary and added tokens). */
function tokenizerSize(files: ReadonlyMap<string, Uint8Array>): number {
  const json = JSON.parse(Buffer.from(files.get('tokenizer.json')!).toString('utf8')) as {
    model: { vocab: Record<string, number> };
    added_tokens?: Array<{ id: number }>;
  };
  const ids = [...Object.values(json.model.vocab), ...(json.added_tokens ?? []).map((t) => t.id)];
  return Math.max(...ids) + 1;
}

/**
 * Writes a tiny OPT folder to `dir`: 2 layers of width 16 by default, pre-LN, tied head.
 *
 * @example
 * const { dir } = await createTinyOptCheckpoint('/tmp/opt', { do_layer_norm_before: false, word_embed_proj_dim: 8 });
 * const model = await OPTForCausalLM.fromPretrained(dir);
 */
export async function createTinyOptCheckpoint(dir: string, options: TinyOptOptions = {}): Promise<TinyOptCheckpoint> {
  const tokenizerFiles = new Map(
    [...(options.tokenizerFiles ?? byteLevelBpeTokenizerFiles({ flavour: 'opt' }))].map(([name, v]) => [name, toBytes(v)] as const),
  );
  const hidden = options.hidden_size ?? 16;
  const shape: OptShape = {
    vocab_size: options.vocab_size ?? Math.ceil(tokenizerSize(tokenizerFiles) / 8) * 8,
    hidden_size: hidden,
    num_hidden_layers: options.num_hidden_layers ?? 2,
    num_attention_heads: options.num_attention_heads ?? 4,
    ffn_dim: options.ffn_dim ?? 32,
    max_position_embeddings: options.max_position_embeddings ?? 64,
    do_layer_norm_before: options.do_layer_norm_before ?? true,
    word_embed_proj_dim: options.word_embed_proj_dim ?? hidden,
    enable_bias: options.enable_bias ?? true,
    layer_norm_elementwise_affine: options.layer_norm_elementwise_affine ?? true,
    tie_word_embeddings: options.tie_word_embeddings ?? true,
    _remove_final_layer_norm: options._remove_final_layer_norm ?? false,
  };
  // The fields an OPT config.json on the hub carries (facebook/opt-125m), with this model's shapes.
  const config: Record<string, unknown> = {
    _remove_final_layer_norm: shape._remove_final_layer_norm,
    activation_dropout: 0,
    activation_function: 'relu',
    architectures: ['OPTForCausalLM'],
    attention_dropout: 0,
    bos_token_id: 2,
    do_layer_norm_before: shape.do_layer_norm_before,
    dropout: 0.1,
    enable_bias: shape.enable_bias,
    eos_token_id: 2,
    ffn_dim: shape.ffn_dim,
    hidden_size: shape.hidden_size,
    init_std: 0.02,
    layer_norm_elementwise_affine: shape.layer_norm_elementwise_affine,
    layerdrop: 0,
    max_position_embeddings: shape.max_position_embeddings,
    model_type: 'opt',
    num_attention_heads: shape.num_attention_heads,
    num_hidden_layers: shape.num_hidden_layers,
    pad_token_id: 1,
    prefix: '</s>',
    tie_word_embeddings: shape.tie_word_embeddings,
    torch_dtype: options.dtype === 'F16' ? 'float16' : options.dtype === 'BF16' ? 'bfloat16' : 'float32',
    transformers_version: TRANSFORMERS_VERSION,
    use_cache: true,
    vocab_size: shape.vocab_size,
    word_embed_proj_dim: shape.word_embed_proj_dim,
  };
  const random = generator(options.seed ?? 0);
  const scale = options.scale ?? 0.5;
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  const file = new Map<string, WritableTensor>();
  for (const [name, dims] of optTensorShapes(shape)) {
    const written = options.reshape?.[name] ? [...options.reshape[name]!] : dims;
    const size = written.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    // LayerNorm weights around 1 and everything else around 0, as trained checkpoints look.
    const base = /layer_norm\.weight$/.test(name) ? 1 : 0;
    const fanIn = written.length === 2 && !/embed/.test(name) ? written[1]! : 1;
    for (let i = 0; i < size; i++) data[i] = base + ((random() * 2 - 1) * scale * (base ? 0.5 : 1)) / Math.sqrt(base ? 1 : fanIn);
    tensors.set(name, { shape: written, data });
    if (!options.omit?.includes(name)) file.set(name, { dtype: options.dtype ?? 'F32', shape: written, data });
  }
  const generationConfig = options.generationConfig ?? {
    _from_model_config: true,
    bos_token_id: 2,
    eos_token_id: 2,
    pad_token_id: 1,
    transformers_version: TRANSFORMERS_VERSION,
  };
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), hfJson(config));
  await writeFile(join(dir, 'generation_config.json'), hfJson(generationConfig));
  await writeFile(join(dir, 'model.safetensors'), serializeSafetensors(file, { format: 'pt' }));
  for (const [name, bytes] of tokenizerFiles) await writeFile(join(dir, name), bytes);
  return { dir, config, tensors };
}
