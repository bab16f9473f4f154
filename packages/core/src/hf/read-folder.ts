// Reads the non-weight files of a CLIP checkpoint folder as transformers' from_pretrained finds
// them: config.json (required), the tokenizer files (kept byte for byte so save() writes them back
// unchanged) and preprocessor_config.json. Weights are load-weights.ts.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MmftError } from '@mmft/core';
import type { ClipConfig } from '../config';
import { parseClipConfig } from './parse-config';

/** Tokenizer files transformers may write for CLIP; copied verbatim when present. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt', 'added_tokens.json'] as const;

/** The parsed non-weight files of a checkpoint folder. */
export interface CheckpointFiles {
  config: ClipConfig;
  /** Raw bytes of each tokenizer file found, by file name. */
  tokenizerFiles: Map<string, Uint8Array>;
  /** preprocessor_config.json, parsed, if present. */
  preprocessor?: Record<string, unknown>;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    const bytes = await readFile(path);
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw new MmftError('E_IO', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * A JSON object from `bytes`, or an E_CHECKPOINT naming `path` and the parse error.
 *
 * @example
 * const config = parseJsonFile(await readFile(p), p);
 */
export function parseJsonFile(bytes: Uint8Array, path: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (cause) {
    throw new MmftError('E_CHECKPOINT', `${path} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MmftError('E_CHECKPOINT', `${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

/**
 * Reads config.json, tokenizer files and preprocessor_config.json of `dir`.
 *
 * @example
 * const { config, tokenizerFiles } = await readCheckpointFiles('models/clip-shapes');
 */
export async function readCheckpointFiles(dir: string): Promise<CheckpointFiles> {
  const info = await stat(dir).catch((cause: unknown) => {
    throw new MmftError('E_CHECKPOINT', `checkpoint folder ${dir} does not exist or cannot be read`, { cause, hint: 'pass the folder holding config.json and model.safetensors' });
  });
  if (!info.isDirectory()) throw new MmftError('E_CHECKPOINT', `${dir} is a file; a checkpoint is a folder with config.json and model.safetensors`);
  const configPath = join(dir, 'config.json');
  const configBytes = await readOptional(configPath);
  if (!configBytes) {
    throw new MmftError('E_CHECKPOINT', `${configPath} is missing; a CLIP checkpoint folder needs config.json next to its weights`, {
      hint: 'save the model with save_pretrained() (transformers) or model.save(dir) (mmft), which write config.json',
    });
  }
  const config = parseClipConfig(parseJsonFile(configBytes, configPath), configPath);
  const tokenizerFiles = new Map<string, Uint8Array>();
  for (const name of TOKENIZER_FILES) {
    const bytes = await readOptional(join(dir, name));
    if (bytes) tokenizerFiles.set(name, bytes);
  }
  const preprocessorPath = join(dir, 'preprocessor_config.json');
  const preprocessorBytes = await readOptional(preprocessorPath);
  return { config, tokenizerFiles, preprocessor: preprocessorBytes ? parseJsonFile(preprocessorBytes, preprocessorPath) : undefined };
}
