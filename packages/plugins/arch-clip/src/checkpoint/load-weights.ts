// Loads model.safetensors (or a sharded set with model.safetensors.index.json) into a ClipRoot by
// HF state-dict name. Every tensor is checked before any is assigned: missing, mis-shaped and
// unexpected tensors are errors that name the tensor and the files. Follows the key checks of
// transformers' modeling_utils.py (_find_missing_and_unexpected_keys), including that it drops
// non-persistent buffers such as `position_ids` that checkpoints before transformers 4.31 carry.
import { MmftError } from '@mmft/core';
import type { Module } from '@mmft/core/nn';
import { loadTensorsIntoModule, readShardedSafetensors, type SafetensorsTensor } from '@mmft/core/io';

/**
 * Buffers older transformers saved (`register_buffer("position_ids", ...)` was persistent before
 * v4.31). Current CLIPModel registers them with persistent=False and drops them on load; so do we.
 */
export const LEGACY_BUFFERS: readonly string[] = ['text_model.embeddings.position_ids', 'vision_model.embeddings.position_ids'];

/** What loading found besides the model's own tensors. */
export interface WeightsLoadReport {
  /** The safetensors files read. */
  files: string[];
  /** Legacy buffers present in the checkpoint and dropped (see LEGACY_BUFFERS). */
  ignoredBuffers: string[];
  /** Unknown tensors skipped because `ignoreUnexpected` was set. */
  unexpected: string[];
  /**
   * Tensors of the checkpoint's other parts that this model leaves out by design (a CLIPModel
   * folder loaded as CLIPVisionModel: text_model.*, the projections, logit_scale); empty otherwise.
   */
  skipped: string[];
}

/** Options of `loadClipWeights`. */
export interface ClipWeightsLoadOptions {
  /** List tensors the model does not know and skip them instead of failing. */
  ignoreUnexpected?: boolean;
  /** Names the model leaves out by design; reported in `skipped`, never an error. */
  skip?: (name: string) => boolean;
  /** The transformers class named in errors (default CLIPModel). */
  modelName?: string;
}

const list = (names: readonly string[], limit = 12) =>
  names.slice(0, limit).join(', ') + (names.length > limit ? `, ... and ${names.length - limit} more` : '');
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/**
 * Reads the weights of `dir` and assigns them to `root`; throws E_CHECKPOINT before assigning
 * anything when the checkpoint does not fit.
 *
 * @example
 * const report = await loadClipWeights(root, 'models/clip', { ignoreUnexpected: true });
 * report.unexpected; // names that were skipped
 */
export async function loadClipWeights(root: Module, dir: string, options: ClipWeightsLoadOptions = {}): Promise<WeightsLoadReport> {
  const { tensors, files } = await readShardedSafetensors(dir);
  const where = files.length === 1 ? files[0]! : `${dir} (${files.length} shards)`;
  const params = root.stateDict();
  const ignoredBuffers: string[] = [];
  const unexpected: string[] = [];
  const skipped: string[] = [];
  for (const name of tensors.keys()) {
    if (params.has(name)) continue;
    if (LEGACY_BUFFERS.includes(name)) ignoredBuffers.push(name);
    else if (options.skip?.(name)) skipped.push(name);
    else unexpected.push(name);
  }
  if (unexpected.length > 0 && !options.ignoreUnexpected) {
    throw new MmftError(
      'E_CHECKPOINT',
      `${where}: ${unexpected.length} tensor(s) that ${options.modelName ?? 'CLIPModel'} does not have: ${list(unexpected)}`,
      {
        hint: 'this may be another architecture (e.g. CLIPVisionModelWithProjection); pass { ignoreUnexpected: true } (recipe: ignoreUnexpected) to list and skip them',
      },
    );
  }
  const missing = [...params.keys()].filter((name) => !tensors.has(name));
  if (missing.length > 0) {
    throw new MmftError('E_CHECKPOINT', `${where}: ${missing.length} tensor(s) of the model are missing: ${list(missing)}`, {
      hint: 'config.json must describe these weights (num_hidden_layers, hidden sizes); a truncated download also loses tensors',
    });
  }
  const misShaped = [...params].filter(([name, v]) => tensors.get(name)!.shape.join() !== v.shape.join());
  if (misShaped.length > 0) {
    const lines = misShaped.map(
      ([name, v]) => `"${name}" is ${shapeText(tensors.get(name)!.shape)} in the file, the model expects ${shapeText(v.shape)}`,
    );
    throw new MmftError('E_CHECKPOINT', `${where}: ${misShaped.length} tensor(s) have the wrong shape: ${list(lines, 6)}`, {
      hint: 'config.json does not match the weights: check hidden_size, intermediate_size, vocab_size, image_size, patch_size and projection_dim',
    });
  }
  const kept = new Map<string, SafetensorsTensor>([...tensors].filter(([name]) => params.has(name)));
  loadTensorsIntoModule(root, kept, { strict: true });
  return { files, ignoredBuffers, unexpected, skipped };
}
