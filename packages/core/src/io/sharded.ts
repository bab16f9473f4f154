// Reading a checkpoint folder the way transformers' `load_sharded_checkpoint` /
// `from_pretrained` finds weights: `<base>.safetensors.index.json` with a weight_map of
// tensor → shard file when present, else the single `<base>.safetensors`.

import { access, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { MmftError } from '../errors';
import { readSafetensors, type SafetensorsTensor } from './safetensors';

/** The tensors of a checkpoint folder, with where they came from. */
export interface ShardedSafetensors {
  tensors: Map<string, SafetensorsTensor>;
  /** The index's `metadata` (e.g. total_size) when sharded, else the file's `__metadata__`. */
  metadata: Record<string, unknown>;
  /** The safetensors files read, in order. */
  files: string[];
}

/** Options of `readShardedSafetensors`. */
export interface ReadShardedOptions {
  /** File base name: 'model' (default), or e.g. 'adapter_model' for PEFT adapters. */
  baseName?: string;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

async function readIndex(indexPath: string): Promise<{ weightMap: Record<string, string>; metadata: Record<string, unknown> }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (cause) {
    throw new MmftError('E_CHECKPOINT', `${indexPath} is not readable JSON: ${(cause as Error).message}`, { cause });
  }
  const weightMap = isPlainObject(parsed) ? parsed.weight_map : undefined;
  const valid = isPlainObject(weightMap) && Object.values(weightMap).every((f) => typeof f === 'string' && f === basename(f) && f !== '..');
  if (!valid) {
    throw new MmftError('E_CHECKPOINT', `${indexPath}: "weight_map" must map tensor names to shard file names in the same folder`);
  }
  const metadata = isPlainObject(parsed) && isPlainObject(parsed.metadata) ? parsed.metadata : {};
  return { weightMap: weightMap as Record<string, string>, metadata };
}

/**
 * Reads all weights of a checkpoint folder, sharded or not.
 *
 * @example
 * const { tensors, files } = await readShardedSafetensors('models/clip-vit-base-patch32');
 */
export async function readShardedSafetensors(dir: string, options: ReadShardedOptions = {}): Promise<ShardedSafetensors> {
  const base = options.baseName ?? 'model';
  const indexPath = join(dir, `${base}.safetensors.index.json`);
  const singlePath = join(dir, `${base}.safetensors`);
  if (!(await exists(indexPath))) {
    if (!(await exists(singlePath))) {
      throw new MmftError('E_CHECKPOINT', `${dir} has neither ${base}.safetensors.index.json nor ${base}.safetensors`, {
        hint: 'point at a folder saved with save_pretrained(safe_serialization=True), or convert .bin weights to safetensors',
      });
    }
    const file = await readSafetensors(singlePath);
    return { tensors: file.tensors, metadata: file.metadata, files: [singlePath] };
  }
  const { weightMap, metadata } = await readIndex(indexPath);
  const shards = [...new Set(Object.values(weightMap))];
  for (const shard of shards) {
    if (!(await exists(join(dir, shard)))) {
      const example = Object.keys(weightMap).find((name) => weightMap[name] === shard);
      throw new MmftError('E_CHECKPOINT', `${indexPath} puts "${example}" in ${shard}, but ${join(dir, shard)} does not exist`, {
        hint: 'the download is incomplete: fetch every shard listed in the index',
      });
    }
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const shard of shards) {
    const path = join(dir, shard);
    for (const [name, tensor] of (await readSafetensors(path)).tensors) {
      if (tensors.has(name)) throw new MmftError('E_CHECKPOINT', `tensor "${name}" appears in more than one shard (again in ${path})`);
      tensors.set(name, tensor);
    }
  }
  const lost = Object.keys(weightMap).filter((name) => !tensors.has(name));
  if (lost.length > 0) {
    const example = `"${lost[0]}" in ${weightMap[lost[0]]}`;
    throw new MmftError('E_CHECKPOINT', `${indexPath} lists ${lost.length} tensor(s) that are not in their shard, e.g. ${example}`);
  }
  return { tensors, metadata, files: shards.map((shard) => join(dir, shard)) };
}
