// Reads the non-weight files of a Hugging Face checkpoint folder as transformers' from_pretrained
// finds them: config.json (required), generation_config.json and preprocessor_config.json (parsed
// when present), and the tokenizer files, kept byte for byte so a model saves them back unchanged.
// Weights are io/sharded.ts (model.safetensors or model.safetensors.index.json + shards).
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MmftError } from '../errors';

/** Tokenizer files transformers may write beside a model; copied verbatim when present. */
export const TOKENIZER_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'vocab.json',
  'merges.txt',
  'added_tokens.json',
  'chat_template.jinja',
] as const;

/** The non-weight files of a checkpoint folder. */
export interface HfFolder {
  readonly dir: string;
  /** config.json as written (no defaults filled in: that is the architecture's job). */
  readonly config: Record<string, unknown>;
  /** config.json `model_type`, when it is a string. */
  readonly modelType?: string;
  /** generation_config.json, parsed, if present. */
  readonly generationConfig?: Record<string, unknown>;
  /** preprocessor_config.json, parsed, if present. */
  readonly preprocessor?: Record<string, unknown>;
  /** Raw bytes of each tokenizer file found, by file name (TOKENIZER_FILES). */
  readonly tokenizerFiles: Map<string, Uint8Array>;
}

/** Options of `readHfFolder`. */
export interface ReadHfFolderOptions {
  /** Names the model in the missing-config.json message ("a CLIP checkpoint folder needs ..."). */
  readonly modelName?: string;
}

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException)?.code === 'ENOENT';

/** The bytes of `path`, or undefined when it does not exist; other read errors are E_IO. */
export async function readOptionalFile(path: string): Promise<Uint8Array | undefined> {
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
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new MmftError('E_CHECKPOINT', `${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

async function readOptionalJson(path: string): Promise<Record<string, unknown> | undefined> {
  const bytes = await readOptionalFile(path);
  return bytes ? parseJsonFile(bytes, path) : undefined;
}

/**
 * The tokenizer files of `dir` (TOKENIZER_FILES that exist), by name.
 *
 * @example
 * const files = await readTokenizerFiles('models/clip');
 * files.has('tokenizer.json');
 */
export async function readTokenizerFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  for (const name of TOKENIZER_FILES) {
    const bytes = await readOptionalFile(join(dir, name));
    if (bytes) files.set(name, bytes);
  }
  return files;
}

/**
 * Reads config.json, generation_config.json, preprocessor_config.json and the tokenizer files
 * of `dir`.
 *
 * @example
 * const { config, modelType, tokenizerFiles } = await readHfFolder('models/clip-shapes');
 */
export async function readHfFolder(dir: string, options: ReadHfFolderOptions = {}): Promise<HfFolder> {
  const info = await stat(dir).catch((cause: unknown) => {
    throw new MmftError('E_CHECKPOINT', `checkpoint folder ${dir} does not exist or cannot be read`, {
      cause,
      hint: 'pass the folder holding config.json and model.safetensors',
    });
  });
  if (!info.isDirectory())
    throw new MmftError('E_CHECKPOINT', `${dir} is a file; a checkpoint is a folder with config.json and model.safetensors`);
  const configPath = join(dir, 'config.json');
  const configBytes = await readOptionalFile(configPath);
  if (!configBytes) {
    throw new MmftError(
      'E_CHECKPOINT',
      `${configPath} is missing; a ${options.modelName ?? 'model'} checkpoint folder needs config.json next to its weights`,
      {
        hint: 'save the model with save_pretrained() (transformers) or model.save(dir) (mmft), which write config.json',
      },
    );
  }
  const config = parseJsonFile(configBytes, configPath);
  return {
    dir,
    config,
    modelType: typeof config.model_type === 'string' ? config.model_type : undefined,
    generationConfig: await readOptionalJson(join(dir, 'generation_config.json')),
    preprocessor: await readOptionalJson(join(dir, 'preprocessor_config.json')),
    tokenizerFiles: await readTokenizerFiles(dir),
  };
}

/**
 * config.json `model_type` of a checkpoint folder: what picks the architecture (AutoModel).
 *
 * @example
 * await readModelType('models/clip'); // 'clip'
 */
export async function readModelType(dir: string): Promise<string> {
  const { modelType } = await readHfFolder(dir);
  if (modelType === undefined) {
    throw new MmftError('E_CHECKPOINT', `${join(dir, 'config.json')} has no "model_type"; cannot tell which architecture to build`, {
      hint: 'transformers writes model_type in config.json; add it (e.g. "model_type": "clip")',
    });
  }
  return modelType;
}
