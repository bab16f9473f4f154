// Reads a causal-LM checkpoint folder as transformers' AutoModelForCausalLM.from_pretrained finds
// it: config.json, generation_config.json, the tokenizer files (hf/read-folder.ts) and the weights,
// model.safetensors or model.safetensors.index.json + shards (io/sharded.ts). F16 and BF16 tensors
// arrive as float32 already (io/codec.ts upcasts them exactly while decoding).
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { readHfFolder } from '../hf/read-folder';
import type { HfTokenizer } from '../hf/tokenizer';
import { tokenizerFromFiles } from '../hf/tokenizer-files';
import type { SafetensorsTensor } from '../io/safetensors';
import { readShardedSafetensors } from '../io/sharded';
import { parseQuantizationConfig } from '../quant';

/** Options of `loadCausalLmFolder`. */
export interface LoadCausalLmFolderOptions {
  /** Names the model in messages ("an OPT checkpoint folder needs config.json ..."). */
  readonly modelName?: string;
  /** Rows of the position table, when the model has one: the tokenizer never encodes longer texts by default. */
  readonly maxPositions?: number;
}

/** Everything a causal-LM checkpoint folder holds, decoded. */
export interface CausalLmFolder {
  readonly dir: string;
  /** config.json as written (the family fills its defaults). */
  readonly config: Record<string, unknown>;
  /** generation_config.json, when the folder has one. */
  readonly generationConfig?: Record<string, unknown>;
  /** The tokenizer over tokenizer.json, when the folder has one. */
  readonly tokenizer?: HfTokenizer;
  /** The tokenizer files by name, byte for byte (written back unchanged on save). */
  readonly tokenizerFiles: Map<string, Uint8Array>;
  /** Every tensor of the weights, floats as Float32Array whatever their dtype on disk. */
  readonly tensors: Map<string, SafetensorsTensor>;
  /** The file each tensor came from (for messages that name it). */
  readonly tensorFiles: ReadonlyMap<string, string>;
  /** The weight files read: model.safetensors, or the shards in index order. */
  readonly files: readonly string[];
}

/** tensor → shard file, from the index when the folder is sharded. */
async function tensorFilesOf(dir: string, tensors: ReadonlyMap<string, unknown>, files: readonly string[]): Promise<Map<string, string>> {
  if (files.length === 1) return new Map([...tensors.keys()].map((name) => [name, files[0]]));
  const index = JSON.parse(await readFile(join(dir, 'model.safetensors.index.json'), 'utf8')) as { weight_map: Record<string, string> };
  const byName = new Map(files.map((file) => [basename(file), file]));
  return new Map(Object.entries(index.weight_map).map(([name, shard]) => [name, byName.get(shard) ?? join(dir, shard)]));
}

/**
 * Reads `dir` (config, generation config, tokenizer, weights) without building a model.
 *
 * @example
 * const folder = await loadCausalLmFolder('models/opt-shapes-base', { modelName: 'OPT' });
 * const model = buildOpt(folder.config); // the family's module tree
 * loadCausalLmWeights(model.root, folder.tensors, { tied: { 'lm_head.weight': 'model.decoder.embed_tokens.weight' }, tensorFiles: folder.tensorFiles });
 */
export async function loadCausalLmFolder(dir: string, options: LoadCausalLmFolderOptions = {}): Promise<CausalLmFolder> {
  const folder = await readHfFolder(dir, { modelName: options.modelName });
  // A quantised checkpoint mmft cannot read (8-bit, GPTQ, AWQ...) is refused before its weights are read.
  if (folder.config.quantization_config !== undefined) parseQuantizationConfig(folder.config.quantization_config, join(dir, 'config.json'));
  const { tensors, files } = await readShardedSafetensors(dir);
  return {
    dir,
    config: folder.config,
    generationConfig: folder.generationConfig,
    tokenizer: tokenizerFromFiles(folder.tokenizerFiles, { dir, maxPositions: options.maxPositions }),
    tokenizerFiles: folder.tokenizerFiles,
    tensors,
    tensorFiles: await tensorFilesOf(dir, tensors, files),
    files,
  };
}
