// Builds the TextTokenizer of a checkpoint from its tokenizer files (as read-folder.ts keeps them):
// tokenizer.json is required for a tokenizer, tokenizer_config.json supplies pad token, padding side
// and model_max_length, as transformers' PreTrainedTokenizerFast.from_pretrained reads them.
import type { ClipConfig } from '../config';
import { parseJsonFile } from '../checkpoint/read-folder';
import { HfTokenizer } from './hf-tokenizer';

/** transformers' VERY_LARGE_INTEGER placeholder and other "no limit" values are above this. */
const NO_LIMIT = 1e9;

/**
 * The tokenizer of a checkpoint, or undefined when the folder has no tokenizer.json (the slow
 * vocab.json/merges.txt pair alone cannot be run by tokenizers.js).
 *
 * @example
 * const tokenizer = tokenizerFromFiles(files, config, 'models/clip');
 */
export function tokenizerFromFiles(files: ReadonlyMap<string, Uint8Array>, config: ClipConfig, dir = '.'): HfTokenizer | undefined {
  const json = files.get('tokenizer.json');
  if (!json) return undefined;
  const tokenizerConfigBytes = files.get('tokenizer_config.json');
  const tokenizerConfig = tokenizerConfigBytes ? parseJsonFile(tokenizerConfigBytes, `${dir}/tokenizer_config.json`) : {};
  const declared = typeof tokenizerConfig.model_max_length === 'number' && tokenizerConfig.model_max_length < NO_LIMIT ? tokenizerConfig.model_max_length : Infinity;
  // Never longer than the position table: longer sequences cannot go through the text tower.
  const modelMaxLength = Math.min(declared, config.text_config.max_position_embeddings);
  return new HfTokenizer(parseJsonFile(json, `${dir}/tokenizer.json`), tokenizerConfig, { modelMaxLength, source: `${dir}/tokenizer.json` });
}
