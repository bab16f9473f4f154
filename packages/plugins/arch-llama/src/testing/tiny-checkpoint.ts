// Writes a randomly initialised, tiny Llama checkpoint in the HF folder layout (config.json,
// generation_config.json, model.safetensors or shards + model.safetensors.index.json, the Llama
// tokenizer files) for tests of this and other packages (LLaVA, objectives, the CLI). Real Llama
// checkpoints are stored in bfloat16: `dtype: 'BF16'` writes them so (config torch_dtype "bfloat16").
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hfJson, llamaTokenizerFiles, type LlamaTokenizerOptions } from '@mmft/core/hf';
import { writeSafetensors, type WritableTensor } from '@mmft/core/io';
import { causalLmTensors } from '@mmft/core/lm';
import type { LlamaConfig, LlamaConfigInput } from '../config';
import { LlamaForCausalLM } from '../llama-for-causal-lm';

/** The tiny shape: 2 layers, 4 query heads sharing 2 key/value heads (grouped-query attention). */
export const TINY_LLAMA_CONFIG: LlamaConfigInput = {
  hidden_size: 16,
  intermediate_size: 32,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 64,
  rms_norm_eps: 1e-5,
  initializer_range: 0.2,
};

/** Options of `createTinyLlamaCheckpoint`. */
export interface TinyLlamaOptions {
  /** Seed of the weights (default 0): the same seed writes the same bytes. */
  seed?: number;
  /** Overrides of TINY_LLAMA_CONFIG (vocab_size defaults to the tokenizer's). */
  config?: LlamaConfigInput;
  /** Options of the tiny Llama tokenizer (core's llamaTokenizerFiles). */
  tokenizer?: LlamaTokenizerOptions;
  /** Weight dtype on disk (default F32). */
  dtype?: 'F32' | 'F16' | 'BF16';
  /** Split the weights over this many shards with model.safetensors.index.json (default 1: model.safetensors). */
  shards?: number;
  /** generation_config.json to write (default: derived from the config as transformers does). */
  generationConfig?: Readonly<Record<string, unknown>>;
}

/** Where the checkpoint went and what it holds. */
export interface TinyLlamaCheckpoint {
  dir: string;
  config: LlamaConfig;
  /** The files tokenizer.json etc. were written from. */
  tokenizerFiles: Map<string, Uint8Array>;
}

const TORCH_DTYPE = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' } as const;

/** Rewrites the weights of a saved folder in `dtype`, over `shards` files (transformers' shard names). */
async function rewriteWeights(
  dir: string,
  tensors: Map<string, WritableTensor>,
  dtype: 'F32' | 'F16' | 'BF16',
  shards: number,
): Promise<void> {
  const names = [...tensors.keys()];
  const cast = (name: string): WritableTensor => ({ ...tensors.get(name)!, dtype });
  await rm(join(dir, 'model.safetensors'));
  // save_pretrained records the dtype the weights were written in.
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'config.json'), hfJson({ ...config, torch_dtype: TORCH_DTYPE[dtype] }));
  if (shards <= 1) {
    await writeSafetensors(join(dir, 'model.safetensors'), new Map(names.map((n) => [n, cast(n)])), { format: 'pt' });
    return;
  }
  const per = Math.ceil(names.length / shards);
  const weightMap: Record<string, string> = {};
  let totalSize = 0;
  const bytesPer = dtype === 'F32' ? 4 : 2;
  for (let s = 0; s < shards; s++) {
    const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = names.slice(s * per, (s + 1) * per);
    for (const name of part) {
      weightMap[name] = file;
      totalSize += tensors.get(name)!.data.length * bytesPer;
    }
    await writeSafetensors(join(dir, file), new Map(part.map((n) => [n, cast(n)])), { format: 'pt' });
  }
  await writeFile(join(dir, 'model.safetensors.index.json'), hfJson({ metadata: { total_size: totalSize }, weight_map: weightMap }));
}

/**
 * Saves a tiny random Llama to `dir` and returns its config.
 *
 * @example
 * const { dir } = await createTinyLlamaCheckpoint(path.join(tmp, 'llama'), { seed: 1, dtype: 'BF16', shards: 2 });
 * const model = await LlamaForCausalLM.fromPretrained(dir);
 */
export async function createTinyLlamaCheckpoint(dir: string, options: TinyLlamaOptions = {}): Promise<TinyLlamaCheckpoint> {
  const tokenizerFiles = llamaTokenizerFiles(options.tokenizer);
  const vocab = JSON.parse(new TextDecoder().decode(tokenizerFiles.get('tokenizer.json'))) as { model: { vocab: Record<string, number> } };
  const dtype = options.dtype ?? 'F32';
  const model = LlamaForCausalLM.fromConfig(
    { ...TINY_LLAMA_CONFIG, vocab_size: Object.keys(vocab.model.vocab).length, ...options.config },
    { seed: options.seed ?? 0, tokenizerFiles, generationConfig: options.generationConfig },
  );
  try {
    await model.save(dir);
    const shards = options.shards ?? 1;
    if (dtype !== 'F32' || shards > 1) await rewriteWeights(dir, await causalLmTensors(model.root, model.tied), dtype, shards);
    return { dir, config: model.config, tokenizerFiles };
  } finally {
    model.dispose();
  }
}
