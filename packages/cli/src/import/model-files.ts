// Which files of a full checkpoint folder make the model folder `mmft import` writes: the config,
// the weights (model.safetensors, or the shards model.safetensors.index.json names, as
// transformers' save_pretrained shards them), and the tokenizer, processor, generation and chat
// template files from_pretrained reads. Trainer state (optimizer.pt, scheduler.pt, rng_state*.pth,
// trainer_state.json, training_args.bin, DeepSpeed global_step*/) stays behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MmftError } from '@mmft/core';

const MODEL_FILE =
  /^(config\.json|generation_config\.json|tokenizer(_config)?\.json|tokenizer\.model|special_tokens_map\.json|added_tokens\.json|vocab\.(json|txt)|merges\.txt|spiece\.model|(video_)?preprocessor_config\.json|processor_config\.json|chat_template\.(json|jinja))$/;

/** The files to copy (relative names), the weight files among them, and what stays behind. */
export function modelFilesOf(dir: string): { files: string[]; weights: string[]; skipped: string[] } {
  const names = fs.readdirSync(dir).sort();
  const index = path.join(dir, 'model.safetensors.index.json');
  let weights: string[];
  if (fs.existsSync(index)) {
    let map: unknown;
    try {
      map = (JSON.parse(fs.readFileSync(index, 'utf8')) as { weight_map?: unknown }).weight_map;
    } catch (cause) {
      throw new MmftError('E_CHECKPOINT', `${index}: not valid JSON (${(cause as Error).message})`, { cause });
    }
    if (typeof map !== 'object' || map === null)
      throw new MmftError('E_CHECKPOINT', `${index}: no "weight_map" object`, { hint: 'save the model again with save_pretrained' });
    weights = [...new Set(Object.values(map as Record<string, unknown>).map(String))].sort();
    const missing = weights.filter((w) => !names.includes(w));
    if (missing.length)
      throw new MmftError('E_CHECKPOINT', `${index} names shards that are not in ${dir}: ${missing.join(', ')}`, {
        hint: 'copy every shard of the checkpoint',
      });
    weights = ['model.safetensors.index.json', ...weights];
  } else weights = ['model.safetensors'];
  const files = [...new Set([...names.filter((n) => MODEL_FILE.test(n)), ...weights])].sort();
  const skipped = names.filter((n) => !files.includes(n));
  return { files, weights: weights.filter((w) => w.endsWith('.safetensors')), skipped };
}
