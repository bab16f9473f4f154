// Builds the TextTokenizer of a checkpoint from its tokenizer files (as read-folder.ts keeps them):
// tokenizer.json is required for a tokenizer; tokenizer_config.json supplies the special tokens,
// padding side, model_max_length and chat template, special_tokens_map.json what it leaves unset,
// as transformers' PreTrainedTokenizerFast.from_pretrained reads them.
import { parseJsonFile } from './read-folder';
import { HfTokenizer } from './tokenizer';

/** transformers' VERY_LARGE_INTEGER placeholder and other "no limit" values are above this. */
const NO_LIMIT = 1e9;

/** Options of `tokenizerFromFiles`. */
export interface TokenizerFromFilesOptions {
  /** The folder the files came from, for error messages (default "."). */
  readonly dir?: string;
  /** Rows of the model's position table: encode() never produces longer sequences by default. */
  readonly maxPositions?: number;
}

/**
 * The tokenizer of a checkpoint, or undefined when the folder has no tokenizer.json (the slow
 * vocab.json/merges.txt pair alone cannot be run by tokenizers.js).
 *
 * @example
 * const { tokenizerFiles } = await readHfFolder('models/clip');
 * const tokenizer = tokenizerFromFiles(tokenizerFiles, { dir: 'models/clip', maxPositions: 77 });
 * tokenizer?.specialTokenIds.eos;
 */
export function tokenizerFromFiles(
  files: ReadonlyMap<string, Uint8Array>,
  options: TokenizerFromFilesOptions = {},
): HfTokenizer | undefined {
  const dir = options.dir ?? '.';
  const json = files.get('tokenizer.json');
  if (!json) return undefined;
  const parsed = (name: string) => {
    const bytes = files.get(name);
    return bytes ? parseJsonFile(bytes, `${dir}/${name}`) : undefined;
  };
  const tokenizerConfig = parsed('tokenizer_config.json') ?? {};
  const declared =
    typeof tokenizerConfig.model_max_length === 'number' && tokenizerConfig.model_max_length < NO_LIMIT
      ? tokenizerConfig.model_max_length
      : Infinity;
  // Never longer than the position table: longer sequences cannot go through the text tower.
  const limit = Math.min(declared, options.maxPositions ?? Infinity);
  const modelMaxLength = Number.isFinite(limit) ? limit : undefined;
  const jinja = files.get('chat_template.jinja');
  return new HfTokenizer(parseJsonFile(json, `${dir}/tokenizer.json`), tokenizerConfig, {
    modelMaxLength,
    source: `${dir}/tokenizer.json`,
    specialTokensMap: parsed('special_tokens_map.json'),
    chatTemplate: jinja ? Buffer.from(jinja).toString('utf8') : undefined,
  });
}
